"""The engine link's job helpers: following jobs, fetching versions (downloaded or in place)."""

import shutil

import pytest

from desktop.engine_link import EngineLink, EngineSettings, make_engine, result_version
from engine.client import EngineError
from engine.errors import Cancelled, ScenesplitError
from tests.desktop.fake_engine import FakeClient


@pytest.fixture
def link(qtbot, tmp_path, recording):
    client = FakeClient(tmp_path / "engine")
    link = EngineLink(lambda: None)
    link.client = client
    job = client.submit(recording)
    list(client.events(job["id"]))
    return link, client, job["id"]


def drain(gen):
    seen = []
    while True:
        try:
            seen.append(next(gen))
        except StopIteration as stop:
            return seen, stop.value


def test_fetch_version_downloads_once(link, tmp_path, monkeypatch):
    link, client, job_id = link
    manifest, folder = link.fetch_version(job_id, 1, tmp_path / "cache")
    assert folder == str(tmp_path / "cache" / job_id / "v1")
    assert sorted(p.name for p in (tmp_path / "cache" / job_id / "v1").glob("*.wav")) == [
        "scene_Dishes.wav",
        "scene_Doorbell.wav",
        "scene_Speech.wav",
    ]
    monkeypatch.setattr(client, "download_stem", lambda *a: pytest.fail("downloaded twice"))
    assert link.fetch_version(job_id, 1, tmp_path / "cache")[1] == folder


@pytest.mark.parametrize("name", ["../../evil.wav", "ABSOLUTE", "..", "a\\b.wav"])
def test_fetch_version_refuses_names_that_leave_its_folder(link, tmp_path, monkeypatch, name):
    link, client, job_id = link
    name = str(tmp_path / "evil.wav") if name == "ABSOLUTE" else name
    hostile = {"tracks": [{"label": "Speech", "file": name}]}
    monkeypatch.setattr(client, "manifest", lambda *a: hostile)
    monkeypatch.setattr(client, "download_stem", lambda j, v, f, dest: dest.write_bytes(b"RIFF"))
    with pytest.raises(EngineError, match=r"unusable stem file name .*not a plain file name"):
        link.fetch_version(job_id, 1, tmp_path / "cache")
    with pytest.raises(EngineError, match="unusable job id"):
        link.fetch_version("../outside", 1, tmp_path / "cache")
    assert not list(tmp_path.rglob("evil.wav")) and not (tmp_path / "cache").exists()


def test_local_engine_results_are_used_in_place(link, tmp_path, monkeypatch):
    link, client, job_id = link
    engine_dir = tmp_path / "workdir" / "jobs" / job_id / "v1"
    shutil.copytree(client.results[job_id][1]["folder"], engine_dir)
    link.local_workdir = str(tmp_path / "workdir")
    monkeypatch.setattr(client, "download_stem", lambda *a: pytest.fail("copied a local stem"))
    assert link.fetch_version(job_id, 1, tmp_path / "cache")[1] == str(engine_dir)


def test_following_jobs_yields_progress_and_ends_with_the_outcome(link, recording):
    link, client, _ = link
    seen, final = drain(link.separate_job(str(recording), tse_rounds=1))
    assert [j["state"] for j in seen][:2] == ["queued", "running"] and final["state"] == "done"
    assert client.calls[-1] == ("submit", str(recording), {"tse_rounds": 1})
    assert result_version(final) == 1
    client.cancelled.add("separate3")
    with pytest.raises(Cancelled):
        drain(link.separate_job(str(recording)))
    job = client.submit(recording)
    client.jobs[job["id"]]["state"] = "failed"
    client.jobs[job["id"]]["error"] = "disk full"
    client.events = lambda jid: iter([client.job(jid)])
    with pytest.raises(ScenesplitError, match="disk full"):
        drain(link._follow(client, client.job(job["id"])))


def test_jobs_need_a_connected_engine(qtbot):
    link = EngineLink(lambda: None)
    with pytest.raises(ScenesplitError, match="not running"):
        drain(link.separate_job("/x.wav"))
    with pytest.raises(ScenesplitError):
        make_engine(EngineSettings(url="http://gpu:1"))  # no token file (or no client)
    assert result_version({"versions": [1, 3, 2]}) == 3
