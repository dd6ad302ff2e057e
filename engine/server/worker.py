"""The single model worker: one thread that runs queued jobs one at a time.

Results are written to a hidden temp folder and renamed to `v<N>` only when complete, so a
cancelled, failed or killed job leaves nothing that looks like a result.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from engine.contract import version_folder
from engine.durable import rename_durable
from engine.errors import Cancelled, ScenesplitError, os_error_message
from engine.progress import CancelToken, ProgressCallback
from engine.server.hygiene import TMP_PREFIX
from engine.server.jobs import TERMINAL, Job, JobStore, version_dirs

STOP_WAIT_S = 3.0
"""How long a stopping server waits for the running job to reach a checkpoint; a model call
can take longer than that on a busy CPU, and then the job is recorded interrupted without it."""
SHUTDOWN_ERROR = "the engine was shut down while this job ran"


class JobRunner(Protocol):
    """What the worker runs: the model pipeline in the server, a small function in tests."""

    def separate(
        self, job: Job, out_dir: Path, progress: ProgressCallback, cancel: CancelToken
    ) -> None:
        """Separate `job.input_path` into stems + manifest.json in `out_dir`."""

    def refine(
        self,
        job: Job,
        base_dir: Path,
        out_dir: Path,
        version: int,
        progress: ProgressCallback,
        cancel: CancelToken,
    ) -> None:
        """Apply `job.operation` to the result in `base_dir`, writing version `version` to `out_dir`."""


class Worker:
    """Runs the store's queued jobs with `runner`, one at a time, in a background thread."""

    def __init__(
        self, store: JobStore, runner: JobRunner, after_job: Callable[[], None] | None = None
    ):
        self.store = store
        self.runner = runner
        self.after_job = after_job
        """Called after every job (the server's retention policy)."""
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the worker thread."""
        self._thread = threading.Thread(target=self._loop, name="scenesplit-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = STOP_WAIT_S) -> bool:
        """Close the store (cancels the running job, interrupts queued ones) and wait for the
        thread; returns whether it ended in time.

        If it did not, the running job is recorded interrupted now, so a stopping server
        answers its clients and exits within seconds whatever the models are doing.
        """
        if self._thread is None:
            self.store.close()
            return True
        if not self.store.closing:  # a second stop (the server's last resort) waits no more
            self.store.close()
            self._thread.join(timeout)
        if self._thread.is_alive():
            self.store.interrupt_running(SHUTDOWN_ERROR)
            return False
        return True

    def alive(self) -> bool:
        """Whether the worker thread is running (False before `start` and after it ended)."""
        return self._thread is not None and self._thread.is_alive()

    def _loop(self) -> None:
        while not self.store.closing:
            item = None
            try:
                item = self.store.take_next(timeout=1.0)
                if item is not None:
                    self.run_job(*item)
                    if self.after_job is not None and not self.store.closing:
                        self.after_job()
            except Exception as exc:  # a bug around one job must not leave the queue unserved
                traceback.print_exc(file=sys.stderr)
                if item is not None and self.store.get(item[0].id).state not in TERMINAL:
                    self.store.fail(item[0].id, f"internal error: {type(exc).__name__}: {exc}")

    def run_job(self, job: Job, cancel: CancelToken) -> None:
        """Run one job that the store has marked running, and record how it ended.

        Leftovers are removed before the final state is recorded, so whoever sees a job
        "cancelled" or "failed" finds no partial files.
        """
        tmp: Path | None = None
        version: int | None = None
        error: str | None = None
        try:
            if job.kind == "separate":
                job_dir = self.store.job_dir(job.id)
                version = 1
                tmp = job_dir / f"{TMP_PREFIX}{job.id}"
                _fresh(tmp)
                self.runner.separate(job, tmp, self._progress(job.id), cancel)
            else:
                job_dir = self.store.job_dir(job.parent)
                versions = version_dirs(job_dir)
                base = versions.get(job.base_version)
                if base is None:
                    raise ScenesplitError(f"version {job.base_version} of job {job.parent} is gone")
                version = max(versions) + 1
                tmp = job_dir / f"{TMP_PREFIX}{job.id}"
                _fresh(tmp)
                self.runner.refine(job, base, tmp, version, self._progress(job.id), cancel)
            cancel.check()  # a cancel that came after the last checkpoint still wins
            # Durable: a result the job record lists must survive a power cut.
            rename_durable(tmp, job_dir / version_folder(version))
            tmp = None
            state = "done"
        except Cancelled:
            state = "interrupted" if self.store.closing else "cancelled"
            if state == "interrupted":
                error = SHUTDOWN_ERROR
        except ScenesplitError as exc:
            state, error = "failed", self._shown(job, str(exc))
        except OSError as exc:  # the environment (a full disk): what, not where on the server
            traceback.print_exc(file=sys.stderr)
            state, error = "failed", f"system error on the engine: {os_error_message(exc, False)}"
        except Exception as exc:  # a bug: keep serving other jobs
            traceback.print_exc(file=sys.stderr)
            state, error = (
                "failed",
                self._shown(job, f"internal error: {type(exc).__name__}: {exc}"),
            )
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        try:
            self.store.finish(job.id, state, error, version if state == "done" else None)
        except OSError as exc:  # job.json cannot be written (disk full?): the job cannot stand
            traceback.print_exc(file=sys.stderr)
            if state == "done":  # a result no job.json lists would reappear after a restart
                shutil.rmtree(job_dir / version_folder(version), ignore_errors=True)
            self.store.fail(
                job.id,
                "internal error: cannot record the end of the job: "
                + os_error_message(exc, path=False),
            )

    def _progress(self, job_id: str) -> ProgressCallback:
        return lambda p: self.store.set_progress(job_id, p)

    def _shown(self, job: Job, message: str) -> str:
        """An error as the client should see it: no server paths (an upload by its name, a
        result file by its place in the job)."""
        if job.input_path and job.recording and job.recording.get("path") is None:
            message = message.replace(job.input_path, Path(job.input_path).name)
        return message.replace(f"{self.store.root}{os.sep}", "")


def _fresh(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
