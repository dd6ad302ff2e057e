"""Starting the engine server: load the bundle once, bind, print the READY line, serve, stop cleanly.

The READY line is the only thing written to stdout, so a parent process (LocalEngine, the
editor) can read it; logs go to stderr.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import signal
import socket
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn

from engine.contract import READY_PREFIX, default_engine_workdir
from engine.errors import ScenesplitError, os_error_message
from engine.server.hygiene import RetentionPolicy
from engine.server.jobs import MAX_QUEUED
from engine.server.workdir import LOG_FILE, live_editors, process_alive, workdir_lock, write_record

SHUTDOWN_GRACE_S = 5.0
"""How long open connections (event streams) get to finish when the server stops."""


@dataclass
class ServeConfig:
    """`scenesplit serve` options."""

    host: str = "127.0.0.1"
    port: int = 0
    token_file: str | None = None
    workdir: str | None = None
    device: str = "auto"
    bundle: str | None = None
    allow_roots: list[str] = field(default_factory=list)
    max_upload_mb: float = 2048.0
    threads: int | None = None
    parent_pid: int | None = None  # stop when this process ends (the editor that started us)
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
    max_queued: int = MAX_QUEUED


def is_loopback(host: str) -> bool:
    """Whether `host` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening-ready TCP socket on host:port (port 0: a free port chosen by the OS)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on accepted sockets only when proto says TCP;
    # without it every keep-alive response waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ScenesplitError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


def server_url(sock: socket.socket) -> str:
    """The http URL of a bound socket."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


PARENT_POLL_S = 1.0


def watch_parent(pid: int, stop, workdir: Path, poll_s: float = PARENT_POLL_S) -> threading.Thread:
    """Call `stop()` once process `pid` has ended (or we were re-parented: it died) and no
    other editor that shares this server (`engine.server.workdir.attach`) is still running."""

    def parent_alive() -> bool:
        return process_alive(pid) and os.getppid() == pid

    def run() -> None:
        while parent_alive():
            time.sleep(poll_s)
        if live_editors(workdir):
            # Our stdout and stderr were pipes to the parent: they are gone with it.
            _log_to(workdir / LOG_FILE)
            print(
                f"scenesplit serve: parent process {pid} ended; serving the editors that "
                "share this engine",
                file=sys.stderr,
                flush=True,
            )
            while live_editors(workdir):
                time.sleep(poll_s)
        stop()
        try:  # the parent may have held our stderr's pipe: it can be gone with it
            print(f"scenesplit serve: parent process {pid} ended; stopping", file=sys.stderr)
        except OSError:
            pass

    thread = threading.Thread(target=run, name="parent-watch", daemon=True)
    thread.start()
    return thread


def _log_to(path: Path) -> None:
    """Send this process's stdout and stderr to `path` (appended) from now on."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:
            pass
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


class _Server(uvicorn.Server):
    """uvicorn's server, announcing readiness and stopping the worker before connections close
    (so event streams can still deliver the jobs' final states)."""

    def __init__(self, config: uvicorn.Config, on_ready, on_stop):
        super().__init__(config)
        self._on_ready = on_ready
        self._on_stop = on_stop

    async def startup(self, sockets=None) -> None:
        await super().startup(sockets=sockets)
        if self.started and not self.should_exit:
            self._on_ready()

    async def shutdown(self, sockets=None) -> None:
        await asyncio.to_thread(self._on_stop)
        await super().shutdown(sockets=sockets)


def serve(cfg: ServeConfig) -> int:
    """Run the engine server until SIGINT/SIGTERM; returns the exit code."""

    workdir = Path(cfg.workdir).expanduser() if cfg.workdir else default_engine_workdir()
    workdir = workdir.absolute()
    # Uploads, stems and the token are the user's: everything this server creates is private
    # (folders 0700, files 0600).
    os.umask(0o077)
    try:
        workdir.mkdir(parents=True, exist_ok=True)
        # Jobs, uploads and the token all go here: find out now, not at the first upload.
        tempfile.TemporaryFile(dir=workdir).close()
    except OSError as exc:
        raise ScenesplitError(
            f"--workdir {workdir}: cannot write there: {os_error_message(exc, path=False)}; "
            "choose another folder"
        ) from None
    if cfg.max_upload_mb <= 0:
        raise ScenesplitError(f"--max-upload-mb must be > 0, got {cfg.max_upload_mb}")
    if cfg.threads is not None and cfg.threads < 1:
        raise ScenesplitError(f"--threads must be >= 1, got {cfg.threads}")
    if cfg.max_queued < 1:
        raise ScenesplitError(f"--max-queued must be >= 1, got {cfg.max_queued}")
    for root in cfg.allow_roots:
        if not Path(root).expanduser().is_dir():
            raise ScenesplitError(f"--allow-root {root}: not a folder")
    # Before the token, the job store and the models: a refused server touches nothing.
    with workdir_lock(workdir):
        return _serve_in(workdir, cfg)


def _serve_in(workdir: Path, cfg: ServeConfig) -> int:
    """The server proper, once this process holds `workdir`."""
    from engine import paths
    from engine.pipeline.separator import Separator
    from engine.server.app import create_app
    from engine.server.runner import PipelineRunner
    from engine.server.security import PathPolicy, load_or_create_token
    from engine.server.service import EngineService, ServiceInfo

    token, token_path = load_or_create_token(cfg.token_file, workdir)
    sock = bind_socket(cfg.host, cfg.port)
    if not is_loopback(cfg.host):
        print(
            f"scenesplit serve: warning: listening on {cfg.host}, reachable from other "
            "machines; anyone with the token can use this engine",
            file=sys.stderr,
        )
    separator = Separator.from_path(cfg.bundle or paths.default_bundle_dir(), cfg.device)
    service = EngineService(
        workdir,
        PipelineRunner(separator, cfg.threads),
        ServiceInfo(str(separator.device), separator.bundle.describe()),
        PathPolicy(cfg.allow_roots),
        max_upload_bytes=int(cfg.max_upload_mb * 2**20),
        retention=cfg.retention,
        max_queued=cfg.max_queued,
    )
    app = create_app(service, token)
    url = server_url(sock)

    def ready() -> None:
        info = {
            "url": url,
            "token_file": str(token_path),
            "pid": os.getpid(),
            "workdir": str(workdir),
        }
        write_record(workdir, info)
        print(f"{READY_PREFIX} {json.dumps(info)}", flush=True)

    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
        lifespan="off",
    )
    server = _Server(config, ready, service.stop)
    if cfg.parent_pid is not None:
        # An editor killed (or crashed) cannot stop its engine: the engine stops itself.
        watch_parent(cfg.parent_pid, lambda: setattr(server, "should_exit", True), workdir)
    # SIGTERM is how a server is asked to stop: a clean stop, exit 0. uvicorn takes the signal
    # while it serves and raises it again once stopped; this handler (not the command line's
    # "interrupted") receives it then, and before uvicorn is up it stops the start-up.
    signal.signal(signal.SIGTERM, lambda signum, frame: setattr(server, "should_exit", True))
    service.start()
    try:
        server.run(sockets=[sock])
    finally:
        service.stop()
        sock.close()
    return 0
