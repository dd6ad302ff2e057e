"""`scenesplit export`: sessions written from a result folder, read back by parsers we did not
write (`rpp` for REAPER projects, `opentimelineio` for OTIO); .lof is a plain list of lines."""

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from engine.cli.main import main

RATE = 32_000
CLIPS = {
    "Speech": [("Speech-1", 0.5, 1.25, 0.91), ("Speech-2", 2.0, 2.5, 0.7)],
    "Doorbell": [("Doorbell-1", 1.0, 3.0, 0.8)],
}


@pytest.fixture
def result(tmp_path):
    """A small fake `scenesplit separate` result: a 3 s recording, two stems, a manifest."""
    rec = tmp_path / "rec" / "take 1.wav"
    rec.parent.mkdir()
    sf.write(str(rec), np.zeros((3 * 48_000, 4), np.float32), 48_000)
    out = tmp_path / "result"
    out.mkdir()
    tracks = []
    for label, clips in CLIPS.items():
        sf.write(str(out / f"take 1_{label}.wav"), np.zeros(3 * RATE, np.float32), RATE)
        tracks.append(
            {
                "label": label,
                "file": f"take 1_{label}.wav",
                "confidence": max(c[3] for c in clips),
                "clips": [
                    {
                        "id": i,
                        "label": label,
                        "start_s": a,
                        "end_s": b,
                        "confidence": p,
                        "energy": -30.0,
                        "sources": [[0, 0]],
                    }
                    for i, a, b, p in clips
                ],
            }
        )
    manifest = {
        "recording": {
            "path": str(rec),
            "name": "take 1",
            "sample_rate": RATE,
            "source_sample_rate": 48_000,
            "frames": 3 * RATE,
            "duration_s": 3.0,
            "time_reference": 0,
            "start_s": 0.0,
            "offset": 0,
        },
        "options": {"window_s": 10.0, "hop_s": 7.5, "tse_rounds": 2},
        "bundle": {},
        "tracks": tracks,
        "windows": [],
    }
    (out / "manifest.json").write_text(json.dumps(manifest))
    return out


def export(result, out, *extra):
    out.parent.mkdir(parents=True, exist_ok=True)
    assert main(["export", str(result), "-o", str(out), *extra]) == 0
    return out


def test_rpp_read_back_by_the_rpp_package(result, tmp_path):
    rpp = pytest.importorskip("rpp", reason="the rpp parser (pip install rpp) is not installed")
    path = export(result, tmp_path / "sessions" / "take.rpp")
    project = rpp.loads(path.read_text())
    assert project.tag == "REAPER_PROJECT"
    tracks = project.findall("TRACK")
    names = [t.find("NAME")[1] for t in tracks]
    assert names == ["take 1 (mixture)", "Speech", "Doorbell"]
    for track, label in zip(tracks[1:], CLIPS, strict=True):
        items = track.findall("ITEM")
        got = [
            (float(i.find("POSITION")[1]), float(i.find("LENGTH")[1]), float(i.find("SOFFS")[1]))
            for i in items
        ]
        assert got == [pytest.approx((a, b - a, a)) for _, a, b, _ in CLIPS[label]]
        for item in items:
            file = item.find("SOURCE").find("FILE")[1]
            assert not Path(file).is_absolute()  # relative to the project's folder
            assert (path.parent / file).resolve() == (result / f"take 1_{label}.wav").resolve()
    mixture = tracks[0].find("ITEM").find("SOURCE").find("FILE")[1]
    assert (path.parent / mixture).resolve() == (result.parent / "rec" / "take 1.wav").resolve()


def test_lof_lines_name_the_files_relative_to_the_list(result, tmp_path):
    path = export(result, tmp_path / "take.lof")
    lines = path.read_text().splitlines()
    assert lines == [
        'file "rec/take 1.wav" offset 0',
        'file "result/take 1_Speech.wav" offset 0',
        'file "result/take 1_Doorbell.wav" offset 0',
    ]


def test_otio_read_back_by_opentimelineio(result, tmp_path):
    otio = pytest.importorskip("opentimelineio", reason="opentimelineio is not installed")
    path = export(result, tmp_path / "out" / "take.otio", "--format", "otio")
    timeline = otio.adapters.read_from_file(str(path))
    assert timeline.name == "take 1"
    assert [t.name for t in timeline.tracks] == ["take 1 (mixture)", "Speech", "Doorbell"]
    assert all(t.kind == otio.schema.TrackKind.Audio for t in timeline.tracks)
    for track in timeline.tracks[1:]:
        clips = list(track.find_clips())
        spans = [
            (
                c.range_in_parent().start_time.to_seconds(),
                c.range_in_parent().duration.to_seconds(),
                c.source_range.start_time.to_seconds(),
            )
            for c in clips
        ]
        assert spans == [pytest.approx((a, b - a, a)) for _, a, b, _ in CLIPS[track.name]]
        for clip in clips:
            ref = clip.media_reference
            assert isinstance(ref, otio.schema.ExternalReference)
            assert ref.available_range.duration.rate == RATE
            assert ref.available_range.duration.to_seconds() == pytest.approx(3.0)
            target = (path.parent / ref.target_url).resolve()
            assert target == (result / f"take 1_{track.name}.wav").resolve()
            assert clip.metadata["scenesplit"]["id"].startswith(track.name)
    assert timeline.tracks[2].duration().to_seconds() == pytest.approx(3.0)


def test_a_range_result_places_the_mixture_from_its_start(result, tmp_path):
    rpp = pytest.importorskip("rpp", reason="the rpp parser (pip install rpp) is not installed")
    manifest = json.loads((result / "manifest.json").read_text())
    manifest["recording"].update(start_s=1.5, duration_s=1.5)
    (result / "manifest.json").write_text(json.dumps(manifest))
    project = rpp.loads(export(result, tmp_path / "r.rpp").read_text())
    mixture = project.findall("TRACK")[0].find("ITEM")
    assert float(mixture.find("SOFFS")[1]) == 1.5 and float(mixture.find("LENGTH")[1]) == 1.5
    lof = export(result, tmp_path / "r.lof").read_text()
    assert "rec/take 1.wav" not in lof  # a .lof cannot trim the mixture: left out


def test_bad_requests_are_one_line_errors(result, tmp_path, capsys):
    assert main(["export", str(result), "-o", str(tmp_path / "x.txt")]) == 2
    assert "give --format" in capsys.readouterr().err
    assert main(["export", str(tmp_path), "-o", str(tmp_path / "x.rpp")]) == 2
    assert "not a separation result" in capsys.readouterr().err
    (result / "take 1_Speech.wav").unlink()
    assert main(["export", str(result), "-o", str(tmp_path / "x.rpp")]) == 2
    assert "stems missing: take 1_Speech.wav" in capsys.readouterr().err
