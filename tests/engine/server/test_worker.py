"""The worker: results appear only complete (as v<N>), cancel and failure leave nothing behind,
refinements get the next version number, shutdown interrupts."""

import errno
import json
import time

import numpy as np
import pytest

from engine.audio import write_audio
from engine.errors import ScenesplitError
from engine.pipeline.manifest import Manifest
from engine.server import jobs
from engine.server.jobs import TERMINAL, Job, JobStore, now_iso
from engine.server.worker import Worker
from tests.engine.server.fakes import FakeRunner


@pytest.fixture
def recording(tmp_path):
    return write_audio(tmp_path / "rec.wav", np.zeros((4, 16_000), np.float32))


def separate_job(store, path) -> str:
    job = Job(
        id=store.new_id(),
        kind="separate",
        state="queued",
        created=now_iso(),
        input_path=str(path),
        recording={"name": path.stem},
    )
    return store.add(job)["id"]


def wait_until(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def refine_job(store, parent, base, op) -> str:
    job = Job(
        id=store.new_id(),
        kind="refine",
        state="queued",
        created=now_iso(),
        parent=parent,
        base_version=base,
        operation=op,
    )
    return store.add(job)["id"]


def run_next(store, worker):
    worker.run_job(*store.take_next(timeout=0))


def files_in(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_separate_then_refines_number_versions(tmp_path, recording):
    store = JobStore(tmp_path / "work")
    worker = Worker(store, FakeRunner())
    job_id = separate_job(store, recording)
    run_next(store, worker)
    job = store.public(job_id)
    assert job["state"] == "done" and job["versions"] == [1] and job["result_version"] == 1
    assert job["progress"]["fraction"] == 1.0
    assert files_in(store.job_dir(job_id)) == [
        "job.json",
        "v1",
        "v1/manifest.json",
        "v1/rec_Speech.wav",
    ]
    change = {"kind": "change_class", "clip_id": "Speech-0", "label": "Doorbell"}
    r1 = refine_job(store, job_id, 1, change)
    run_next(store, worker)
    # Refining version 1 again (undo, then another edit) makes version 3, not a second 2.
    r2 = refine_job(store, job_id, 1, {"kind": "remove_clip", "clip_id": "Speech-0"})
    run_next(store, worker)
    assert store.public(r1)["result_version"] == 2 and store.public(r2)["result_version"] == 3
    assert store.public(job_id)["versions"] == [1, 2, 3]
    v2 = Manifest.load(store.job_dir(job_id) / "v2")
    assert v2.version == 2 and [t.label for t in v2.tracks] == ["Doorbell"]
    v3 = Manifest.load(store.job_dir(job_id) / "v3")
    assert v3.version == 3 and v3.tracks == []
    assert Manifest.load(store.job_dir(job_id) / "v1").tracks[0].label == "Speech"
    assert not list(store.job_dir(job_id).glob(".tmp-*"))


def test_cancel_while_running_leaves_no_partial_result(tmp_path, recording):
    store = JobStore(tmp_path / "work")
    runner = FakeRunner()
    runner.gate.clear()
    worker = Worker(store, runner)
    worker.start()
    try:
        job_id = separate_job(store, recording)
        assert runner.started.wait(5)
        assert list(store.job_dir(job_id).glob(".tmp-*/partial.wav"))  # mid-job
        store.cancel(job_id)
        deadline = time.monotonic() + 5
        while store.public(job_id)["state"] == "running" and time.monotonic() < deadline:
            time.sleep(0.01)
        job = store.public(job_id)
        assert job["state"] == "cancelled" and job["versions"] == [] and job["error"] is None
        assert files_in(store.job_dir(job_id)) == ["job.json"]
    finally:
        worker.stop(5)


@pytest.mark.parametrize(
    "exc,message",
    [
        (ScenesplitError("rec.wav: contains NaN samples"), "rec.wav: contains NaN samples"),
        (RuntimeError("CUDA out of memory"), "internal error: RuntimeError: CUDA out of memory"),
    ],
)
def test_failures_are_reported_and_the_worker_keeps_going(tmp_path, recording, exc, message):
    store = JobStore(tmp_path / "work")
    runner = FakeRunner()
    worker = Worker(store, runner)
    runner.fail_with = exc
    bad = separate_job(store, recording)
    run_next(store, worker)
    assert store.public(bad)["state"] == "failed" and store.public(bad)["error"] == message
    assert files_in(store.job_dir(bad)) == ["job.json"]
    runner.fail_with = None
    good = separate_job(store, recording)
    run_next(store, worker)
    assert store.public(good)["state"] == "done"


def test_refine_of_a_vanished_version_fails_clearly(tmp_path, recording):
    store = JobStore(tmp_path / "work")
    worker = Worker(store, FakeRunner())
    job_id = separate_job(store, recording)
    run_next(store, worker)
    r = refine_job(store, job_id, 7, {"kind": "remove_clip", "clip_id": "Speech-0"})
    run_next(store, worker)
    assert store.public(r)["state"] == "failed" and "version 7" in store.public(r)["error"]


def test_stop_interrupts_the_running_job(tmp_path, recording):
    store = JobStore(tmp_path / "work")
    runner = FakeRunner()
    runner.gate.clear()
    worker = Worker(store, runner)
    worker.start()
    running = separate_job(store, recording)
    assert runner.started.wait(5)
    queued = separate_job(store, recording)
    assert worker.stop(5)
    for job_id in (running, queued):
        job = store.public(job_id)
        assert job["state"] == "interrupted" and "shut down" in job["error"]
    assert files_in(store.job_dir(running)) == ["job.json"]


@pytest.mark.parametrize("unwritable", ["running", "done"])
def test_a_job_whose_state_cannot_be_written_fails_and_the_worker_goes_on(
    tmp_path, recording, monkeypatch, unwritable
):
    write = jobs.write_json_atomic
    faults = []

    def disk_full_once(path, data):
        if data["state"] == unwritable and not faults:
            faults.append(data["id"])
            raise OSError(errno.ENOSPC, "No space left on device")
        write(path, data)

    monkeypatch.setattr(jobs, "write_json_atomic", disk_full_once)
    store = JobStore(tmp_path / "work")
    worker = Worker(store, FakeRunner())
    worker.start()
    try:
        bad = separate_job(store, recording)
        good = separate_job(store, recording)
        wait_until(lambda: store.public(good)["state"] in TERMINAL)
        assert faults == [bad] and worker.alive()
        job = store.public(bad)
        assert job["state"] == "failed" and "No space left on device" in job["error"]
        assert job["versions"] == [] and job["result_version"] is None
        record = json.loads((store.job_dir(bad) / "job.json").read_text())
        assert {k: record[k] for k in ("state", "error", "finished", "versions")} == {
            k: job[k] for k in ("state", "error", "finished", "versions")
        }
        assert files_in(store.job_dir(bad)) == ["job.json"]  # no result it does not list
        assert store.public(good)["state"] == "done" and store.counts() == (False, 0)
    finally:
        worker.stop(5)
