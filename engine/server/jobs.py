"""Jobs of the engine server: their state, the queue, change notification and job.json persistence.

The store is the one owner of job state. HTTP handlers (on the event loop) and the worker thread
both go through it under one lock; every state change is written to `jobs/<id>/job.json`
atomically, progress is kept in memory only (it changes many times a second and is rebuilt by
the next job anyway). Subscribers (the SSE streams) get an `asyncio.Event` set on each change of
the job they watch, from whichever thread made it.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as _dt
import json
import os
import re
import secrets
import shutil
import sys
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from engine.contract import JOB_STATES, JOBS_FOLDER, MANIFEST_FILE, TERMINAL_STATES
from engine.durable import fsync_dir, write_text_durable
from engine.errors import ScenesplitError, os_error_message
from engine.progress import CancelToken, Progress
from engine.server.hygiene import DELETED_PREFIX, JOB_FILE, clean_orphans

STATES = JOB_STATES
TERMINAL = TERMINAL_STATES
KINDS = ("separate", "refine")
MAX_QUEUED = 100
_VERSION_DIR = re.compile(r"^v([0-9]+)$")


class JobNotFound(ScenesplitError):
    """No job (or version, or file) of that name."""

    status = 404


class JobConflict(ScenesplitError):
    """The job is not in a state that allows the request."""

    status = 409


class QueueFull(ScenesplitError):
    """Too many jobs wait already; the client should try again later."""

    status = 429


def now_iso() -> str:
    """UTC time stamp with milliseconds, as jobs record it."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds")


def empty_progress() -> dict[str, Any]:
    """The progress of a job that has not reported yet."""
    return {
        "stage": "",
        "done": 0.0,
        "total": 0.0,
        "fraction": 0.0,
        "message": "",
        "eta_s": None,
        "elapsed_s": 0.0,
        "reported_at": None,
    }


def progress_dict(p: Progress) -> dict[str, Any]:
    """A pipeline `Progress` as the job's JSON progress (`reported_at`: server epoch seconds)."""
    return {
        "stage": p.stage,
        "done": p.done,
        "total": p.total,
        "fraction": p.fraction,
        "message": p.message,
        "eta_s": p.eta_s,
        "elapsed_s": p.elapsed_s,
        "reported_at": time.time(),
    }


@dataclass
class Job:
    """One separation or refinement job (the persisted record; `public()` is the API view)."""

    id: str
    kind: str
    state: str
    created: str
    options: dict[str, Any] = field(default_factory=dict)
    recording: dict[str, Any] | None = None
    input_path: str | None = None
    """The file the worker reads (server side; uploads live under the job's input/ folder)."""
    progress: dict[str, Any] = field(default_factory=empty_progress)
    error: str | None = None
    started: str | None = None
    finished: str | None = None
    parent: str | None = None
    base_version: int | None = None
    result_version: int | None = None
    versions: list[int] = field(default_factory=list)
    operation: dict[str, Any] | None = None
    cancel_requested: bool = False
    seq: int = 0
    """Submission order: jobs made in the same millisecond still list in the order they came."""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"job kind must be one of {KINDS}, got {self.kind!r}")
        if self.state not in STATES:
            raise ValueError(f"job state must be one of {STATES}, got {self.state!r}")

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> Job:
        """Rebuild from a job.json record (unknown keys from newer versions are ignored)."""
        if not isinstance(data, dict):
            raise ValueError(f"a job record must be a JSON object, got {type(data).__name__}")
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def public(self, queue_position: int | None) -> dict[str, Any]:
        """The job object of the HTTP API."""
        d = asdict(self)
        d.pop("input_path")
        d["queue_position"] = queue_position
        return d


def version_dirs(job_dir: Path) -> dict[int, Path]:
    """Finished result versions in a job folder (`v<N>/manifest.json` present)."""
    out = {}
    if job_dir.is_dir():
        for child in job_dir.iterdir():
            m = _VERSION_DIR.match(child.name)
            if m and (child / MANIFEST_FILE).is_file():
                out[int(m.group(1))] = child
    return dict(sorted(out.items()))


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Replace `path` by `data` as JSON, atomically and durably (no temp file left on ENOSPC)."""
    write_text_durable(path, json.dumps(data, indent=1))


class _Subscriber:
    __slots__ = ("event", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.event = asyncio.Event()

    def wake(self) -> None:
        try:
            self.loop.call_soon_threadsafe(self.event.set)
        except RuntimeError:  # the loop is closed: nobody is listening any more
            pass


class JobStore:
    """All jobs of one work directory, the queue of those waiting, and their cancel tokens."""

    def __init__(self, workdir: str | os.PathLike, max_queued: int = MAX_QUEUED):
        self.root = Path(workdir) / JOBS_FOLDER
        self.root.mkdir(parents=True, exist_ok=True)
        self.max_queued = max_queued
        self._jobs: dict[str, Job] = {}
        self._queue: deque[str] = deque()
        self._tokens: dict[str, CancelToken] = {}
        self._subs: dict[str, list[_Subscriber]] = {}
        self._cond = threading.Condition()
        self.closing = False
        self._load()

    # -- persistence ---------------------------------------------------------------------------

    def job_dir(self, job_id: str) -> Path:
        """The folder of a job."""
        return self.root / job_id

    def _persist(self, job: Job) -> None:
        d = self.job_dir(job.id)
        d.mkdir(parents=True, exist_ok=True)
        write_json_atomic(d / JOB_FILE, asdict(job))

    def _load(self) -> None:
        """Read every job.json; jobs that were queued or running when the server died are
        marked interrupted, and what it left half-written is removed."""
        clean_orphans(self.root)
        loaded = []
        for d in sorted(self.root.iterdir()):
            path = d / JOB_FILE
            if not path.is_file():
                continue
            try:
                job = Job.from_record(json.loads(path.read_text()))
            except (json.JSONDecodeError, TypeError, ValueError) as exc:
                print(f"scenesplit serve: skipping unreadable {path}: {exc}", file=sys.stderr)
                continue
            changed = False
            if job.state in ("queued", "running"):
                was = job.state
                job.state = "interrupted"
                job.error = f"the engine stopped while this job was {was}; submit it again"
                job.finished = now_iso()
                changed = True
            if job.kind == "separate":
                on_disk = list(version_dirs(d))
                if on_disk != job.versions:
                    job.versions = on_disk
                    changed = True
            if changed:
                self._persist(job)
            loaded.append(job)
        for job in sorted(loaded, key=lambda j: (j.seq, j.created, j.id)):
            self._jobs[job.id] = job

    # -- queries -------------------------------------------------------------------------------

    def new_id(self) -> str:
        """A fresh job id: sortable by time, unguessable enough not to collide."""
        stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%d-%H%M%S")
        while True:
            job_id = f"{stamp}-{secrets.token_hex(3)}"
            if job_id not in self._jobs and not self.job_dir(job_id).exists():
                return job_id

    def _get(self, job_id: str) -> Job:
        job = self._jobs.get(job_id)
        if job is None:
            raise JobNotFound(f"no job {job_id!r}")
        return job

    def get(self, job_id: str) -> Job:
        """A snapshot (copy) of a job; JobNotFound otherwise."""
        with self._cond:
            return copy.deepcopy(self._get(job_id))

    def _public(self, job: Job) -> dict[str, Any]:
        pos = self._queue.index(job.id) + 1 if job.state == "queued" else None
        return copy.deepcopy(job.public(pos))

    def public(self, job_id: str) -> dict[str, Any]:
        """The API view of a job (queue_position: 1 = next to run, None when not queued)."""
        with self._cond:
            return self._public(self._get(job_id))

    def list_public(self) -> list[dict[str, Any]]:
        """Every job, oldest first."""
        with self._cond:
            return [self._public(j) for j in self._jobs.values()]

    def check_room(self) -> None:
        """QueueFull when no further job may queue (checked before an upload is received)."""
        with self._cond:
            if len(self._queue) >= self.max_queued:
                raise QueueFull(
                    f"the queue is full (at most {self.max_queued} waiting jobs); try again "
                    "when some have run"
                )

    def counts(self) -> tuple[bool, int]:
        """(a job is running, number queued)."""
        with self._cond:
            return bool(self._tokens), len(self._queue)

    # -- changes -------------------------------------------------------------------------------

    def _notify(self, *job_ids: str) -> None:
        for job_id in job_ids:
            for sub in self._subs.get(job_id, ()):
                sub.wake()

    def _notify_queued(self) -> None:
        self._notify(*self._queue)

    def add(self, job: Job) -> dict[str, Any]:
        """Register a new job (queued jobs join the end of the queue); returns its API view."""
        with self._cond:
            if job.id in self._jobs:
                raise ValueError(f"job {job.id} exists")
            if self.closing and job.state == "queued":
                raise JobConflict("the engine is shutting down")
            if job.state == "queued":
                self.check_room()
            job.seq = max((j.seq for j in self._jobs.values()), default=0) + 1
            self._persist(job)
            self._jobs[job.id] = job
            if job.state == "queued":
                self._queue.append(job.id)
                self._cond.notify_all()
            self._notify(job.id)
            return self._public(job)

    def take_next(self, timeout: float | None = None) -> tuple[Job, CancelToken] | None:
        """Wait for the next queued job, mark it running and return it with its cancel token."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._queue or self.closing, timeout):
                return None
            if self.closing:
                return None
            job = self._jobs[self._queue.popleft()]
            job.state = "running"
            job.started = now_iso()
            token = CancelToken()
            self._tokens[job.id] = token
            self._notify_queued()
            try:
                self._persist(job)
            except OSError as exc:  # disk full or gone: this job cannot run, the next may
                self.fail(
                    job.id,
                    "internal error: cannot record that the job started: "
                    + os_error_message(exc, path=False),
                )
                return None
            self._notify(job.id)
            return copy.deepcopy(job), token

    def set_progress(self, job_id: str, progress: Progress) -> None:
        """Record a progress report of a running job (memory only) and wake its watchers."""
        with self._cond:
            job = self._get(job_id)
            job.progress = progress_dict(progress)
            self._notify(job_id)

    def finish(
        self,
        job_id: str,
        state: str,
        error: str | None = None,
        result_version: int | None = None,
    ) -> None:
        """End a running job; a finished refinement adds its version to the parent job.

        Raises OSError when a job.json cannot be written; the jobs then stay as they were in
        memory, so the caller can end the job with `fail` instead.
        """
        if state not in TERMINAL:
            raise ValueError(f"finish needs a terminal state, got {state!r}")
        with self._cond:
            if self._get(job_id).state in TERMINAL:  # already ended by `interrupt_running`
                return
            job = copy.deepcopy(self._get(job_id))
            job.state = state
            job.error = error
            job.finished = now_iso()
            ended = [job]
            if state == "done" and result_version is not None:
                job.result_version = result_version
                if job.kind == "separate":
                    job.versions = sorted({*job.versions, result_version})
                elif job.parent in self._jobs:
                    parent = copy.deepcopy(self._jobs[job.parent])
                    parent.versions = sorted({*parent.versions, result_version})
                    ended.append(parent)
            # Written before shown: the API never reports an end that job.json does not hold.
            for j in ended:
                self._persist(j)
            self._tokens.pop(job_id, None)
            for j in ended:
                self._jobs[j.id] = j
            self._notify(*(j.id for j in ended))

    def fail(self, job_id: str, error: str) -> None:
        """End a running job as failed: in memory always, in job.json when it can be written."""
        with self._cond:
            job = self._get(job_id)
            job.state = "failed"
            job.error = error
            job.finished = now_iso()
            self._tokens.pop(job_id, None)
            try:
                self._persist(job)
            except OSError as exc:  # still shown as failed; a restart marks it interrupted
                print(
                    f"scenesplit serve: cannot record job {job_id} as failed: {exc}",
                    file=sys.stderr,
                )
            self._notify(job_id)

    def cancel(self, job_id: str) -> dict[str, Any]:
        """Cancel a job: a queued one leaves the queue now, a running one stops at its next
        checkpoint (its state turns "cancelled" when the worker has cleaned up)."""
        with self._cond:
            job = self._get(job_id)
            if job.state in TERMINAL:
                raise JobConflict(f"job {job_id} is already {job.state}")
            if job.state == "queued":
                self._queue.remove(job_id)
                job.state = "cancelled"
                job.finished = now_iso()
                job.cancel_requested = True
                self._persist(job)
                self._notify(job_id)
                self._notify_queued()
            else:
                job.cancel_requested = True
                self._tokens[job_id].cancel()
                self._persist(job)
                self._notify(job_id)
            return self._public(job)

    def interrupt_running(self, error: str) -> list[str]:
        """Shutting down without waiting for the worker: record running jobs as interrupted
        now (their watchers get the final state); returns their ids.

        The worker thread may still be inside a model call; whatever it reports later is
        ignored (`finish` leaves ended jobs alone), and its temp folder goes at the next start.
        """
        with self._cond:
            ended = list(self._tokens)
            for job_id in ended:
                job = self._jobs[job_id]
                job.state, job.error, job.finished = "interrupted", error, now_iso()
                self._tokens.pop(job_id).cancel()
                try:
                    self._persist(job)
                except OSError as exc:  # a restart marks it interrupted anyway
                    print(f"scenesplit serve: cannot record job {job_id}: {exc}", file=sys.stderr)
                self._notify(job_id)
            return ended

    def delete(self, job_id: str) -> list[str]:
        """Remove a finished job and its files; returns the ids removed.

        A separate job takes its refinements' records with it (their results are its
        versions); deleting a refinement removes only its record. JobConflict while any of
        them is queued or running: cancel first.
        """
        with self._cond:
            job = self._get(job_id)
            family = [job]
            if job.kind == "separate":
                family += [j for j in self._jobs.values() if j.parent == job_id]
            busy = next((j for j in family if j.state not in TERMINAL), None)
            if busy is not None:
                raise JobConflict(
                    f"job {busy.id} is {busy.state}; cancel it first "
                    f"(POST /jobs/{busy.id}/cancel), then delete"
                )
            # Renamed first (one atomic step): a crash mid-delete leaves no half job, only a
            # hidden folder the next start removes.
            trash = []
            for j in family:
                d = self.job_dir(j.id)
                if d.is_dir():
                    target = self.root / f"{DELETED_PREFIX}{j.id}"
                    os.rename(d, target)
                    trash.append(target)
                del self._jobs[j.id]
            fsync_dir(self.root)
        for target in trash:  # outside the lock: other requests need not wait for rmtree
            shutil.rmtree(target, ignore_errors=True)
        return [j.id for j in family]

    def close(self) -> None:
        """Shutting down: stop the running job at its next checkpoint, interrupt queued ones."""
        with self._cond:
            self.closing = True
            for token in self._tokens.values():
                token.cancel()
            while self._queue:
                job = self._jobs[self._queue.popleft()]
                job.state = "interrupted"
                job.error = "the engine was shut down before this job started; submit it again"
                job.finished = now_iso()
                self._persist(job)
            self._cond.notify_all()
            for subs in self._subs.values():
                for sub in subs:
                    sub.wake()

    # -- watching ------------------------------------------------------------------------------

    def subscribe(self, job_id: str) -> asyncio.Event:
        """An event set on every change of `job_id` (call from the event loop; unsubscribe after)."""
        sub = _Subscriber(asyncio.get_running_loop())
        with self._cond:
            self._get(job_id)
            self._subs.setdefault(job_id, []).append(sub)
        return sub.event

    def unsubscribe(self, job_id: str, event: asyncio.Event) -> None:
        """Stop waking `event`."""
        with self._cond:
            subs = self._subs.get(job_id, [])
            self._subs[job_id] = [s for s in subs if s.event is not event]
            if not self._subs[job_id]:
                del self._subs[job_id]
