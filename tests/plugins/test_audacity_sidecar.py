"""How `relabel` finds renamed stem tracks from the sidecar records `separate` wrote."""

from __future__ import annotations

from pathlib import Path

from plugins.audacity.project import Track
from plugins.audacity.sidecar import (
    Separation,
    StemRecord,
    TrackRecord,
    find_renamed,
    load_all,
)
from plugins.audacity.workflow import EngineSpec, class_name, engine_for


def separation(job="j1", created="2026-11-30T10:00:00", stems=("Speech", "Doorbell")):
    return Separation(
        job_id=job,
        version=1,
        engine={"kind": "local", "workdir": "/cache/engine", "bundle": None},
        start=1.0,
        end=4.0,
        sources=[TrackRecord(0, "take 1", 0.0, 5.0), TrackRecord(1, "take 2", 0.0, 5.0)],
        stems=[StemRecord(2 + i, s, 1.0, 4.0, file=f"x_{s}.wav") for i, s in enumerate(stems)],
        created=created,
    )


def project(*names: str, spans=None) -> list[Track]:
    """take 1, take 2, then stem tracks with `names` over 1-4 s."""
    tracks = [
        Track(0, "take 1", "wave", False, 0.0, 5.0, 1),
        Track(1, "take 2", "wave", False, 0.0, 5.0, 1),
    ]
    for i, name in enumerate(names):
        start, end = (spans or {}).get(name, (1.0, 4.0))
        tracks.append(Track(2 + i, name, "wave", False, start, end, 1))
    return tracks


def test_record_round_trip_and_newest_first(tmp_path):
    old, new = separation("j1", "2026-11-30T10:00:00"), separation("j2", "2026-11-30T11:00:00")
    assert old.save(tmp_path) == tmp_path / "j1.json"
    new.save(tmp_path)
    (tmp_path / "broken.json").write_text("{not json")
    loaded = load_all(tmp_path)
    assert [s.job_id for s in loaded] == ["j2", "j1"]
    assert loaded[1] == old and loaded[1].path == tmp_path / "j1.json"
    assert not list(tmp_path.glob(".*.part"))
    assert load_all(tmp_path / "missing") == []


def test_a_renamed_stem_is_found_with_its_old_label():
    sep = separation()
    assert find_renamed([sep], project("Speech", "Doorbell")) == []
    (r,) = find_renamed([sep], project("Speech", "Buzzer"))
    assert (r.stem.name, r.track.name, r.track.index, r.separation) == (
        "Doorbell",
        "Buzzer",
        3,
        sep,
    )


def test_stems_are_recognised_by_position_and_time_span():
    sep = separation()
    # at a stem's position but over another time span: a track the user made, not the stem
    assert find_renamed([sep], project("Speech", "Buzzer", spans={"Buzzer": (2.0, 5.0)})) == []
    assert find_renamed([sep], project("Speech")) == []  # the Doorbell stem track was removed
    # a source track renamed or gone: another project, or one changed since
    other = project("Speech", "Buzzer")
    other[0] = Track(0, "another take", "wave", False, 0.0, 5.0, 1)
    assert find_renamed([sep], other) == []
    assert not sep.in_project(other[:1])


def test_the_newest_record_claims_a_track():
    old = separation("j1", "2026-11-30T10:00:00", stems=("Speech", "Doorbell"))
    new = separation("j2", "2026-11-30T11:00:00", stems=("Cough", "Doorbell"))
    (r,) = find_renamed([new, old], project("Speech", "Doorbell"))
    assert r.separation.job_id == "j2" and r.stem.name == "Cough"


def test_relabelled_record_moves_to_the_new_version_and_label(tmp_path):
    sep = separation()
    after = sep.relabelled(sep.stems[1], "Buzzer", 2)
    assert after.version == 2 and [s.name for s in after.stems] == ["Speech", "Buzzer"]
    assert sep.version == 1 and sep.stems[1].name == "Doorbell"
    assert find_renamed([after], project("Speech", "Buzzer")) == []


def test_class_names_accept_another_case_only():
    assert class_name("Speech") == "Speech"
    assert class_name(" footsteps ") == "FootSteps"
    assert class_name("Birds") is None and class_name("Speech 2") is None


def test_relabel_goes_back_to_the_engine_that_holds_the_job():
    sep = separation()
    local = engine_for(sep, EngineSpec(device="cpu", threads=1))
    assert local.url is None and local.workdir == Path("/cache/engine") and local.device == "cpu"
    sep.engine = {"kind": "remote", "url": "http://gpu:8000", "token_file": "/t"}
    remote = engine_for(sep, EngineSpec())
    assert (remote.url, remote.token_file) == ("http://gpu:8000", "/t")
    moved = engine_for(sep, EngineSpec(url="http://gpu2:8000", token_file="/t2"))
    assert (moved.url, moved.token_file) == ("http://gpu2:8000", "/t2")
