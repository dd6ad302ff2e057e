"""The editor's only door to the engine: starts or connects to it, watches its health, and runs
jobs through `engine.client`.

Job methods (`separate_job`, `refine_job`, `fetch_version`) block and are meant for
`desktop.workers`; job methods that are generators yield the engine's job dicts as they change.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QObject, QTimer, pyqtSignal

from desktop import workers
from engine.client import (
    MANIFEST_FILE,
    TERMINAL_STATES,
    EngineClient,
    LocalEngine,
    Operation,
    default_engine_workdir,
    plain_file_name,
    result_files,
    result_version_dir,
    version_folder,
)
from engine.errors import Cancelled, ScenesplitError


@dataclass
class EngineSettings:
    """Which engine to use: a remote one (url + token file) or a local process."""

    url: str | None = None
    token_file: str | None = None
    workdir: str | None = None
    bundle: str | None = None
    device: str = "auto"
    threads: int | None = None
    """Model threads of a local engine (None: the engine's default)."""
    allow_roots: list[str] = field(default_factory=lambda: [os.path.abspath(os.sep)])
    """Folders a local engine may read directly (the user's own machine: everything)."""

    def describe(self) -> str:
        """One line for the status bar."""
        return f"remote {self.url}" if self.url else "local"

    def local_workdir(self) -> str | None:
        """Work directory of the local engine (None for a remote one)."""
        if self.url:
            return None
        if self.workdir:
            return self.workdir
        if default_engine_workdir is not None:
            return str(default_engine_workdir())  # the engine's own default ($SCENESPLIT_CACHE)
        return os.path.join(os.path.expanduser("~"), ".cache", "scenesplit", "engine")


class RemoteEngine:
    """An engine someone else runs (`scenesplit serve` on a GPU host), with LocalEngine's methods."""

    def __init__(self, url: str, token_file: str | os.PathLike):
        self.url, self.token_file = url, token_file
        self._client = None

    def start(self, timeout: float = 30.0):
        """Connect and check the engine answers; returns the client."""
        self._client = EngineClient.from_token_file(self.url, self.token_file)
        self._client.health()
        return self._client

    def alive(self) -> bool:
        """Whether the engine answers a health check."""
        try:
            return self._client is not None and bool(self._client.health())
        except Exception:
            return False

    def stop(self) -> None:
        """Close the connection (the remote engine keeps running)."""
        if self._client is not None:
            self._client.close()

    def restart(self):
        """Reconnect."""
        self.stop()
        return self.start()

    @property
    def client(self):
        """The connected client, or None."""
        return self._client


def make_engine(settings: EngineSettings):
    """A LocalEngine or RemoteEngine for `settings`."""
    if settings.url:
        if not settings.token_file:
            raise ScenesplitError("a remote engine needs a token file (--token-file)")
        return RemoteEngine(settings.url, settings.token_file)
    return LocalEngine(
        workdir=settings.local_workdir(),
        bundle=settings.bundle,
        device=settings.device,
        allow_roots=settings.allow_roots,
        threads=settings.threads,
    )


class EngineLink(QObject):
    """Owns the engine object: start/restart, periodic health, and job helpers for workers."""

    stateChanged = pyqtSignal(object)
    """Latest health dict (device, bundle, busy, queued), or None while not connected."""
    connected = pyqtSignal()
    died = pyqtSignal(str)
    """The engine stopped answering; the message says why."""

    def __init__(
        self,
        engine_factory: Callable[[], Any],
        health_interval_ms: int = 3000,
        where: str = "",
        local_workdir: str | None = None,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self._where = where
        self.local_workdir = local_workdir
        """A local engine's work directory: its result folders are used in place."""
        self._factory = engine_factory
        self._engine: Any = None
        self.client: Any = None
        self.health: dict | None = None
        self.dead_reason: str | None = None
        self._probing = False
        self._failures = 0
        self._timer = QTimer(self)
        self._timer.setInterval(health_interval_ms)
        self._timer.timeout.connect(self.check_health)

    @property
    def where(self) -> str:
        """Where the engine runs ("local", "local, shared", "remote URL"), for the status bar."""
        shared = self.client is not None and getattr(self._engine, "shared", False)
        return f"{self._where}, shared" if shared else self._where

    @property
    def is_connected(self) -> bool:
        """Whether a client is ready for jobs."""
        return self.client is not None and self.dead_reason is None

    def start(self, restart: bool = False) -> workers.Worker | None:
        """Start (or restart) the engine in the background; `connected` or `died` follows."""
        self._timer.stop()
        self.client = None
        self.health = None
        self.stateChanged.emit(None)
        try:
            if self._engine is None:
                self._engine = self._factory()
        except ScenesplitError as exc:
            self._set_dead(str(exc))
            return None
        engine = self._engine

        def boot():
            client = engine.restart() if restart else engine.start()
            return client, client.health()

        return workers.start(boot, on_done=self._booted)

    def _booted(self, result, error) -> None:
        if error is not None:
            self._set_dead(f"engine did not start: {error}")
            return
        self.client, self.health = result
        self.dead_reason = None
        self._failures = 0
        self.connected.emit()
        self.stateChanged.emit(self.health)
        self._timer.start()

    def restart(self) -> workers.Worker | None:
        """Restart a dead or stuck engine (the project stays as it is)."""
        return self.start(restart=self._engine is not None)

    def stop(self) -> None:
        """Stop health checks and the engine (a local process is terminated)."""
        self._timer.stop()
        if self._engine is not None:
            try:
                self._engine.stop()
            except Exception:  # shutting down: nothing useful to report
                pass
        self.client = None

    def _set_dead(self, reason: str) -> None:
        self._timer.stop()
        self.dead_reason = reason
        self.health = None
        self.stateChanged.emit(None)
        self.died.emit(reason)

    def check_health(self) -> None:
        """Ask the engine how it is, off the GUI thread (skipped while a probe is running)."""
        if self._probing or self.client is None:
            return
        self._probing = True
        engine, client = self._engine, self.client

        def probe():
            if hasattr(engine, "alive") and not engine.alive():
                raise ScenesplitError("the engine process exited")
            return client.health()

        workers.start(probe, on_done=self._probed)

    def _probed(self, health, error) -> None:
        self._probing = False
        if self.client is None:
            return
        if error is None:
            self._failures = 0
            self.health = health
            self.stateChanged.emit(health)
            return
        self._failures += 1
        exited = "exited" in str(error)
        if exited or self._failures >= 2:
            self._set_dead(f"engine not responding: {error}")

    # -- job helpers (blocking; run them through desktop.workers) ---------------------------

    def _require(self):
        if self.client is None:
            raise ScenesplitError(self.dead_reason or "the engine is not running")
        return self.client

    def _follow(self, client, job: dict) -> Generator[dict, None, dict]:
        yield job
        last = job
        if job["state"] not in TERMINAL_STATES:
            for last in client.events(job["id"]):
                yield last
            if last["state"] not in TERMINAL_STATES:
                last = client.job(job["id"])
        if last["state"] == "cancelled":
            raise Cancelled()
        if last["state"] != "done":
            raise ScenesplitError(last.get("error") or f"job {last['state']}")
        return last

    def separate_job(self, path: str, **options: Any) -> Generator[dict, None, dict]:
        """Submit `path` for separation and follow it; returns the finished job."""
        client = self._require()
        return (yield from self._follow(client, client.submit(path, **options)))

    def refine_job(
        self, job_id: str, operation: Operation, version: int | str = "latest"
    ) -> Generator[dict, None, dict]:
        """Submit a refinement of `job_id`'s `version` and follow it; returns the finished job."""
        client = self._require()
        return (yield from self._follow(client, client.refine(job_id, operation, version)))

    def cancel(self, job_id: str) -> dict:
        """Cancel a queued or running job."""
        return self._require().cancel(job_id)

    def fetch_version(self, job_id: str, version: int, root: str | os.PathLike) -> tuple[dict, str]:
        """Download a result version (manifest + stems) into `root/<job>/v<N>`; returns both."""
        client = self._require()
        plain_file_name(job_id, "job id")  # it names a local folder below
        if self.local_workdir:
            # A local engine's versions are never changed once written: read them in place
            # instead of copying hour-long stems over HTTP.
            here = result_version_dir(self.local_workdir, job_id, version)
            manifest = client.manifest(job_id, version)
            if all((here / f).is_file() for f in result_files(manifest)):
                return manifest, str(here)
        dest = Path(root) / job_id / version_folder(version)
        if (dest / MANIFEST_FILE).is_file():  # written last: the version is all there
            return json.loads((dest / MANIFEST_FILE).read_text()), str(dest)
        return client.download_version(job_id, version, dest), str(dest)


def result_version(job: dict) -> int:
    """The result version a finished job produced."""
    if job.get("result_version") is not None:
        return int(job["result_version"])
    versions = job.get("versions") or [1]
    return int(max(versions))
