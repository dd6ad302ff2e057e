"""Project files: round trip, atomic save, stems kept beside the project, clear errors."""

import json

import numpy as np
import pytest
import soundfile as sf

from desktop.project import LaneState, Project, ResultVersion
from engine.client import RemoveClip
from engine.errors import ScenesplitError


def project_with_version(tmp_path) -> Project:
    stems = tmp_path / "cache" / "v2"
    stems.mkdir(parents=True)
    sf.write(str(stems / "rec_Speech.wav"), np.zeros(320, np.float32), 32000)
    manifest = {"tracks": [{"label": "Speech", "file": "rec_Speech.wav", "clips": []}]}
    p = Project(recording=str(tmp_path / "rec.wav"), job_id="j1")
    p.add_version(ResultVersion(1, {"tracks": []}, str(tmp_path / "cache" / "v1")))
    p.add_version(ResultVersion(2, manifest, str(stems), RemoveClip("a")))
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
    assert back.versions[2].operation == RemoveClip("a")
    assert back.lanes["Speech"].mute and back.lanes["Dishes"] == LaneState(
        True and False, True, "#ff0000"
    )
    stem = back.current.stem_path("Speech")
    assert stem.parent == tmp_path / "proj" / "mine.stems" / "v2" and stem.is_file()
    assert not list((tmp_path / "proj").glob(".*part*"))


def test_save_removes_stems_no_version_uses(tmp_path):
    p = project_with_version(tmp_path)
    saved = p.save(tmp_path / "proj" / "mine")
    stems = tmp_path / "proj" / "mine.stems"
    (stems / ".v3.part").mkdir()  # a save that died half-way
    p.save(saved)
    assert sorted(c.name for c in stems.iterdir()) == ["v2"]  # still the current version's
    # A new separation replaces the job's versions: the old job's stems go on the next save.
    fresh = tmp_path / "cache" / "new" / "v1"
    fresh.mkdir(parents=True)
    sf.write(str(fresh / "rec_Speech.wav"), np.zeros(320, np.float32), 32000)
    p.versions.clear()
    p.add_version(ResultVersion(1, p_manifest(), str(fresh)))
    p.version = 1
    p.save(saved)
    assert sorted(c.name for c in stems.iterdir()) == ["v1"]
    assert Project.load(saved).current.stem_path("Speech").is_file()


def p_manifest():
    return {"tracks": [{"label": "Speech", "file": "rec_Speech.wav", "clips": []}]}


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


def saved_project(tmp_path):
    """A project saved in tmp_path/proj with its recording in tmp_path/audio."""
    rec = tmp_path / "audio" / "rec.wav"
    rec.parent.mkdir()
    sf.write(str(rec), np.zeros(3200, np.float32), 32000)
    p = project_with_version(tmp_path)
    p.recording = str(rec)
    return p.save(tmp_path / "proj" / "mine")


def test_paths_are_saved_relative_and_a_moved_folder_keeps_its_stems(tmp_path):
    saved = saved_project(tmp_path)
    data = json.loads(saved.read_text())
    assert data["recording"] == "../audio/rec.wav"
    current = next(v for v in data["versions"] if v["number"] == 2)
    assert current["stems_dir"] == "mine.stems/v2"
    moved = tmp_path / "elsewhere"
    (tmp_path / "proj").rename(moved)
    (tmp_path / "audio").rename(tmp_path / "elsewhere-audio")  # the recording moves too
    back = Project.load(moved / "mine.scenesplit")
    assert back.current.stem_path("Speech") == moved / "mine.stems" / "v2" / "rec_Speech.wav"
    assert back.current.stem_path("Speech").is_file()
    assert back.recording_missing  # ... the rest opens; the window offers to locate it
    back.relocate(tmp_path / "elsewhere-audio" / "rec.wav")
    assert not back.recording_missing
    with pytest.raises(ScenesplitError, match="no such file"):
        back.relocate(tmp_path / "nope.wav")


def test_a_project_moved_without_its_recording_finds_it_where_it_was(tmp_path):
    saved_project(tmp_path)
    (tmp_path / "deep").mkdir()
    (tmp_path / "proj").rename(tmp_path / "deep" / "proj")  # "../audio" now points nowhere
    back = Project.load(tmp_path / "deep" / "proj" / "mine.scenesplit")
    assert back.recording == str(tmp_path / "audio" / "rec.wav") and not back.recording_missing


def test_old_projects_with_absolute_paths_still_open_after_a_move(tmp_path):
    saved = saved_project(tmp_path)
    data = json.loads(saved.read_text())
    data.pop("recording_absolute")
    data["recording"] = str(tmp_path / "audio" / "rec.wav")
    for v in data["versions"]:  # as the first format wrote them
        v["stems_dir"] = str(tmp_path / "proj" / v["stems_dir"])
    saved.write_text(json.dumps(data))
    assert Project.load(saved).current.stem_path("Speech").is_file()
    (tmp_path / "proj").rename(tmp_path / "moved")
    back = Project.load(tmp_path / "moved" / "mine.scenesplit")
    assert back.current.stem_path("Speech") == (
        tmp_path / "moved" / "mine.stems" / "v2" / "rec_Speech.wav"
    )
    assert not back.recording_missing


@pytest.mark.parametrize(
    "change, message",
    [
        ({"lanes": []}, "'lanes' must be an object, got list"),
        ({"recording": None}, "'recording' must be a file path, got NoneType"),
        ({"version": "2"}, "'version' must be a version number, got '2'"),
        ({"versions": [{"number": 1}]}, "'versions[0].stems_dir' is missing"),
        ({"lanes": {"Speech": {"mute": "yes"}}}, "'lanes.Speech.mute' must be bool"),
        (
            {"versions": [{"number": 1, "stems_dir": "s", "manifest": {"tracks": [3]}}]},
            "'versions[0].manifest.tracks[0]' must be an object",
        ),
    ],
)
def test_damaged_fields_give_one_message_naming_the_file(tmp_path, change, message):
    path = tmp_path / "bad.scenesplit"
    path.write_text(json.dumps({"recording": "r.wav", **change}))
    with pytest.raises(ScenesplitError) as err:
        Project.load(path)
    assert str(err.value).startswith(f"{path}: ") and message in str(err.value)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\x89PNG\r\n\x1a\n\x00\xff\xfe binary", "not UTF-8 text"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b"[]", "no 'recording'"),
    ],
)
def test_binary_or_deeply_nested_files_are_not_projects(tmp_path, content, message):
    path = tmp_path / "bad.scenesplit"
    path.write_bytes(content)
    with pytest.raises(ScenesplitError, match=message) as err:
        Project.load(path)
    assert str(err.value).startswith(str(path))


@pytest.mark.parametrize("name", ["../x.wav", "../../escape.wav", "sub/x.wav", "..\\x.wav"])
def test_a_crafted_stem_name_never_writes_outside_the_stems_folder(tmp_path, name):
    p = project_with_version(tmp_path)
    (tmp_path / "cache" / "x.wav").write_bytes(b"RIFF")  # what "../x.wav" would copy
    p.current.manifest["tracks"].append({"label": "Dishes", "file": name, "clips": []})
    with pytest.raises(ScenesplitError, match="not a plain file name"):
        p.save(tmp_path / "proj" / "mine")
    assert not (tmp_path / "proj" / "mine.stems" / "x.wav").exists()
    assert not (tmp_path / "proj" / "x.wav").exists() and not (tmp_path / "escape.wav").exists()
    assert p.current.stem_path("Dishes") is None


def test_the_editor_opens_a_project_whose_recording_is_gone_and_can_locate_it(qtbot, tmp_path):
    from desktop.session import RecordingMissing, Session

    saved = saved_project(tmp_path)
    data = json.loads(saved.read_text())
    next(v for v in data["versions"] if v["number"] == 2)["manifest"]["recording"] = {
        "duration_s": 0.1
    }
    saved.write_text(json.dumps(data))
    (tmp_path / "audio" / "rec.wav").rename(tmp_path / "found.wav")
    session = Session(None, tmp_path / "cache")
    messages = []
    session.message.connect(messages.append)
    session.open_project(saved)
    project = session.project
    assert project.recording_missing and session.model.duration_s == pytest.approx(0.1)
    assert project.current.stem_path("Speech").is_file()
    assert "missing" in messages[-1]
    session.locate_recording(tmp_path / "found.wav")
    assert not session.project.recording_missing
    assert session.project.recording == str(tmp_path / "found.wav")

    bare = Project(recording=str(tmp_path / "gone.wav")).save(tmp_path / "bare")
    with pytest.raises(RecordingMissing) as err:  # nothing says how long it was: ask for it
        session.open_project(bare)
    assert err.value.recording == str(tmp_path / "gone.wav")
    session.open_project(bare, recording=tmp_path / "found.wav")
    assert session.model.duration_s == pytest.approx(0.1)
