"""The job store: queue order and positions, cancel rules, job.json on every state change, and
what a restart finds after a crash."""

import json

import pytest

from engine.progress import Progress
from engine.server.jobs import Job, JobConflict, JobNotFound, JobStore, now_iso


def new_job(store: JobStore, kind="separate", **kw) -> Job:
    return Job(id=store.new_id(), kind=kind, state="queued", created=now_iso(), **kw)


def on_disk(store: JobStore, job_id: str) -> dict:
    return json.loads((store.job_dir(job_id) / "job.json").read_text())


def test_queue_runs_in_order_and_positions_follow(tmp_path):
    store = JobStore(tmp_path)
    ids = [store.add(new_job(store))["id"] for _ in range(3)]
    assert [store.public(i)["queue_position"] for i in ids] == [1, 2, 3]
    job, token = store.take_next(timeout=0)
    assert job.id == ids[0] and job.state == "running" and not token.cancelled
    assert store.public(ids[0])["queue_position"] is None
    assert [store.public(i)["queue_position"] for i in ids[1:]] == [1, 2]
    assert store.counts() == (True, 2)
    store.cancel(ids[1])
    assert store.public(ids[2])["queue_position"] == 1
    assert store.take_next(timeout=0)[0].id == ids[2]
    assert store.take_next(timeout=0) is None


def test_every_state_change_is_on_disk_but_progress_is_not(tmp_path):
    store = JobStore(tmp_path)
    job_id = store.add(new_job(store, options={"window_s": 2.0}))["id"]
    assert on_disk(store, job_id)["state"] == "queued"
    store.take_next(timeout=0)
    assert on_disk(store, job_id)["state"] == "running"
    store.set_progress(job_id, Progress("separate", 1, 4, "window 1/4", 2.0))
    p = store.public(job_id)["progress"]
    assert p["fraction"] == 0.25 and p["eta_s"] == pytest.approx(6.0) and p["reported_at"]
    assert on_disk(store, job_id)["progress"]["done"] == 0
    store.finish(job_id, "done", result_version=1)
    rec = on_disk(store, job_id)
    assert rec["state"] == "done" and rec["versions"] == [1] and rec["finished"]
    assert not list(store.job_dir(job_id).glob(".*part"))  # atomic writes leave no temp files


def test_refine_result_is_added_to_the_parent(tmp_path):
    store = JobStore(tmp_path)
    parent = store.add(new_job(store))["id"]
    store.take_next(timeout=0)
    store.finish(parent, "done", result_version=1)
    child = store.add(new_job(store, kind="refine", parent=parent, base_version=1))["id"]
    store.take_next(timeout=0)
    store.finish(child, "done", result_version=2)
    assert store.public(parent)["versions"] == [1, 2]
    assert on_disk(store, parent)["versions"] == [1, 2]
    assert store.public(child)["result_version"] == 2 and store.public(child)["versions"] == []


def test_cancel_rules(tmp_path):
    store = JobStore(tmp_path)
    running = store.add(new_job(store))["id"]
    queued = store.add(new_job(store))["id"]
    _, token = store.take_next(timeout=0)
    out = store.cancel(running)
    assert token.cancelled and out["state"] == "running" and out["cancel_requested"]
    assert store.cancel(queued)["state"] == "cancelled"
    assert on_disk(store, queued)["state"] == "cancelled"
    with pytest.raises(JobConflict, match="already cancelled"):
        store.cancel(queued)
    with pytest.raises(JobNotFound):
        store.cancel("nope")


def test_restart_marks_unfinished_jobs_interrupted_and_keeps_results(tmp_path):
    store = JobStore(tmp_path)
    done = store.add(new_job(store))["id"]
    store.take_next(timeout=0)
    (store.job_dir(done) / "v1").mkdir()
    (store.job_dir(done) / "v1" / "manifest.json").write_text("{}")
    store.finish(done, "done", result_version=1)
    running = store.add(new_job(store))["id"]
    queued = store.add(new_job(store))["id"]
    store.take_next(timeout=0)
    half = store.job_dir(running) / ".tmp-x"
    half.mkdir()
    (half / "rec_Speech.wav").write_bytes(b"RIFF")
    (tmp_path / "jobs" / "garbage").mkdir()
    (tmp_path / "jobs" / "garbage" / "job.json").write_text("{not json")
    # No close(): as after kill -9.
    again = JobStore(tmp_path)
    assert [j["id"] for j in again.list_public()] == [done, running, queued]
    assert again.public(done)["state"] == "done" and again.public(done)["versions"] == [1]
    for job_id, was in ((running, "running"), (queued, "queued")):
        job = again.public(job_id)
        assert job["state"] == "interrupted" and was in job["error"] and job["finished"]
        assert on_disk(again, job_id)["state"] == "interrupted"
    assert not half.exists()
    assert again.counts() == (False, 0) and again.take_next(timeout=0) is None


@pytest.mark.parametrize("text", ["null", "[]", '"a job"', "3", "{not json"])
def test_job_files_of_the_wrong_shape_are_skipped_with_a_warning(tmp_path, capsys, text):
    store = JobStore(tmp_path)
    good = store.add(new_job(store))["id"]
    (tmp_path / "jobs" / "odd").mkdir()
    (tmp_path / "jobs" / "odd" / "job.json").write_text(text)
    again = JobStore(tmp_path)
    assert [j["id"] for j in again.list_public()] == [good]
    err = capsys.readouterr().err
    assert "skipping unreadable" in err and str(tmp_path / "jobs" / "odd" / "job.json") in err


def test_close_interrupts_queue_and_cancels_running(tmp_path):
    store = JobStore(tmp_path)
    a = store.add(new_job(store))["id"]
    b = store.add(new_job(store))["id"]
    _, token = store.take_next(timeout=0)
    store.close()
    assert token.cancelled and store.closing
    assert store.public(b)["state"] == "interrupted"
    assert store.public(a)["state"] == "running"  # the worker ends it when it stops
    with pytest.raises(JobConflict, match="shutting down"):
        store.add(new_job(store))


def test_job_validates_kind_and_state(tmp_path):
    with pytest.raises(ValueError, match="kind"):
        Job(id="x", kind="train", state="queued", created=now_iso())
    with pytest.raises(ValueError, match="state"):
        Job(id="x", kind="separate", state="paused", created=now_iso())
