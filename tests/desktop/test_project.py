"""Project files: round trip, atomic save, stems kept beside the project, clear errors."""

import json

import numpy as np
import pytest
import soundfile as sf

from desktop.project import LaneState, Project, ResultVersion
from engine.errors import ScenesplitError


def project_with_version(tmp_path) -> Project:
    stems = tmp_path / "cache" / "v2"
    stems.mkdir(parents=True)
    sf.write(str(stems / "rec_Speech.wav"), np.zeros(320, np.float32), 32000)
    manifest = {"tracks": [{"label": "Speech", "file": "rec_Speech.wav", "clips": []}]}
    p = Project(recording=str(tmp_path / "rec.wav"), job_id="j1")
    p.add_version(ResultVersion(1, {"tracks": []}, str(tmp_path / "cache" / "v1")))
    p.add_version(ResultVersion(2, manifest, str(stems), {"kind": "remove_clip", "clip_id": "a"}))
    p.version = 2
    p.lane("Speech").mute = True
    p.lanes["Dishes"] = LaneState(solo=True, colour="#ff0000")
    return p


def test_round_trip_keeps_versions_lanes_and_copies_current_stems(tmp_path):
    p = project_with_version(tmp_path)
    saved = p.save(tmp_path / "proj" / "mine")
    assert saved.name == "mine.scenesplit"
    back = Project.load(saved)
    assert back.job_id == "j1" and back.version == 2
    assert sorted(back.versions) == [1, 2]
    assert back.versions[2].operation == {"kind": "remove_clip", "clip_id": "a"}
    assert back.lanes["Speech"].mute and back.lanes["Dishes"] == LaneState(
        True and False, True, "#ff0000"
    )
    stem = back.current.stem_path("Speech")
    assert stem.parent == tmp_path / "proj" / "mine.stems" / "v2" and stem.is_file()
    assert not list((tmp_path / "proj").glob(".*part*"))


def test_failed_save_keeps_previous_file(tmp_path, monkeypatch):
    p = project_with_version(tmp_path)
    path = p.save(tmp_path / "a.scenesplit")
    before = path.read_text()
    p.job_id = "changed"

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr("desktop.project.os.replace", boom)
    with pytest.raises(OSError):
        p.save(path)
    assert path.read_text() == before
    assert not list(tmp_path.glob(".a.scenesplit*"))


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "not a project file"),
        (json.dumps({"x": 1}), "no 'recording'"),
        (json.dumps({"recording": "r", "format": 99}), "newer than this editor"),
    ],
)
def test_bad_project_files_give_clear_errors(tmp_path, content, message):
    path = tmp_path / "bad.scenesplit"
    path.write_text(content)
    with pytest.raises(ScenesplitError, match=message):
        Project.load(path)


def test_missing_project_file(tmp_path):
    with pytest.raises(ScenesplitError, match="cannot read project"):
        Project.load(tmp_path / "nope.scenesplit")
