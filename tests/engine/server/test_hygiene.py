"""The work directory stays bounded: orphans of a killed server go at start, a full disk leaves
no temp files, deletion is all or nothing, and the retention policy removes old finished jobs."""

import datetime as dt
import errno
import json
import os

import numpy as np
import pytest

from engine import durable
from engine.audio import write_audio
from engine.errors import ScenesplitError
from engine.server.hygiene import RetentionPolicy, apply_retention
from engine.server.jobs import Job, JobConflict, JobStore, now_iso, write_json_atomic
from engine.server.worker import Worker
from tests.engine.server.fakes import FakeRunner
from tests.engine.server.test_worker import refine_job, run_next, separate_job


@pytest.fixture
def recording(tmp_path):
    return write_audio(tmp_path / "rec.wav", np.zeros((4, 16_000), np.float32))


def test_orphans_of_a_killed_server_are_removed_at_start(tmp_path, recording):
    store = JobStore(tmp_path / "work")
    kept = separate_job(store, recording)
    run_next(store, Worker(store, FakeRunner()))
    jobs = tmp_path / "work" / "jobs"
    upload = jobs / "20260101-000000-abcdef" / "input" / "big.wav"  # killed mid-upload
    upload.parent.mkdir(parents=True)
    upload.write_bytes(b"RIFF" * 1000)
    (jobs / kept / ".job.json.123.456.part").write_text("{")  # killed mid-write
    (jobs / kept / ".tmp-refine").mkdir()  # killed mid-job
    (jobs / ".deleted-20250101-000000-000000").mkdir()  # killed mid-delete
    before = sorted(p.name for p in (jobs / kept).iterdir())

    again = JobStore(tmp_path / "work")
    assert sorted(p.name for p in jobs.iterdir()) == [kept]
    assert sorted(p.name for p in (jobs / kept).iterdir()) == ["job.json", "v1"]
    assert ".job.json.123.456.part" in before
    assert again.public(kept)["state"] == "done"


def test_a_full_disk_leaves_no_temp_record(tmp_path, monkeypatch):
    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(durable.os, "fsync", full)
    with pytest.raises(OSError) as err:
        write_json_atomic(tmp_path / "job.json", {"a": 1})
    assert err.value.errno == errno.ENOSPC and err.value.filename == str(tmp_path / "job.json")
    assert list(tmp_path.iterdir()) == []


def test_delete_removes_a_job_with_its_refinements_and_refuses_a_busy_one(tmp_path, recording):
    store = JobStore(tmp_path / "work")
    worker = Worker(store, FakeRunner())
    job_id = separate_job(store, recording)
    run_next(store, worker)
    r = refine_job(store, job_id, 1, {"kind": "remove_clip", "clip_id": "Speech-0"})
    with pytest.raises(JobConflict, match=f"job {r} is queued; cancel it first"):
        store.delete(job_id)
    run_next(store, worker)
    assert store.delete(job_id) == [job_id, r]
    assert list(store.root.iterdir()) == []
    assert store.list_public() == []


def _finished_job(store, recording, days_ago: float, payload: int) -> str:
    when = dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago)
    job = Job(
        id=store.new_id(),
        kind="separate",
        state="done",
        created=when.isoformat(),
        finished=when.isoformat(),
        input_path=str(recording),
    )
    store.add(job)
    (store.job_dir(job.id) / "v1").mkdir()
    (store.job_dir(job.id) / "v1" / "stem.wav").write_bytes(b"\0" * payload)
    return job.id


def test_retention_removes_old_jobs_then_the_oldest_over_the_size_limit(tmp_path, recording):
    store = JobStore(tmp_path / "work")
    ancient = _finished_job(store, recording, 40, 10)
    old = _finished_job(store, recording, 5, 600_000)
    new = _finished_job(store, recording, 1, 600_000)
    busy = Job(id=store.new_id(), kind="separate", state="queued", created=now_iso())
    store.add(busy)
    # 1 MB allowed: the 40-day-old job goes for its age, then the older big one for size.
    policy = RetentionPolicy(max_age_days=30, max_total_gb=0.001)
    assert apply_retention(store, policy) == [ancient, old]
    assert {j["id"] for j in store.list_public()} == {new, busy.id}
    assert apply_retention(store, RetentionPolicy(max_age_days=1e-9, max_total_gb=None)) == [new]
    assert [j["id"] for j in store.list_public()] == [busy.id]  # a queued job is never removed


def test_a_retention_policy_is_checked(tmp_path):
    with pytest.raises(ScenesplitError, match="max_age_days must be > 0"):
        RetentionPolicy(max_age_days=-1)


def test_the_queue_is_capped(tmp_path, recording):
    store = JobStore(tmp_path / "work", max_queued=2)
    separate_job(store, recording)
    separate_job(store, recording)
    with pytest.raises(ScenesplitError, match="the queue is full") as err:
        separate_job(store, recording)
    assert err.value.status == 429
    ids = [j["id"] for j in store.list_public()]
    assert len(ids) == 2 and all(
        json.loads((store.job_dir(i) / "job.json").read_text())["state"] == "queued" for i in ids
    )
    assert sorted(os.listdir(store.root)) == sorted(ids)  # the refused job left nothing
