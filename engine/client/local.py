"""`LocalEngine`: an engine server started as a child process on loopback with a random port.

The editor uses it to run its own engine; it reads the server's READY line, can tell whether the
process is still alive, and restarts it on the same work directory (jobs and results survive).
A second editor on the same work directory shares the first one's server (one set of models in
memory, one job queue on the cores) instead of failing to start another.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path

from engine.client.client import EngineClient, EngineError
from engine.contract import READY_PREFIX
from engine.server import workdir as shared

STDERR_TAIL_LINES = 40
STOP_GRACE_S = 15.0
_PACKAGE_ROOT = Path(__file__).resolve().parents[2]


class LocalEngine:
    """Start, watch and stop `python -m engine.cli.main serve` on 127.0.0.1.

    Args:
        workdir: the server's work directory (jobs, results, token, log).
        bundle: model bundle folder (None: the server's default).
        device: 'auto', 'cpu', 'cuda', ...
        allow_roots: folders the server may read by path (None: none; files are uploaded).
        python: interpreter that runs the server.
        threads: CPU threads for the models (None: torch's default).
    """

    def __init__(
        self,
        workdir: str | os.PathLike,
        bundle: str | os.PathLike | None = None,
        device: str = "auto",
        allow_roots: list[str | os.PathLike] | None = None,
        python: str = sys.executable,
        threads: int | None = None,
    ):
        self.workdir = Path(workdir).expanduser().absolute()
        self.bundle = bundle
        self.device = device
        self.allow_roots = [str(r) for r in (allow_roots or [])]
        self.python = python
        self.threads = threads
        self.token_file = self.workdir / "token"
        self.log_file = self.workdir / shared.LOG_FILE
        self.ready_info: dict | None = None
        self._proc: subprocess.Popen | None = None
        self._shared_pid: int | None = None
        self._client: EngineClient | None = None
        self._stderr_tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)

    @property
    def client(self) -> EngineClient | None:
        """The client of the running server (None when not started)."""
        return self._client

    @property
    def pid(self) -> int | None:
        """The server's process id."""
        return self._proc.pid if self._proc is not None else self._shared_pid

    @property
    def shared(self) -> bool:
        """Whether this is another editor's server, attached to rather than started."""
        return self._shared_pid is not None

    def command(self) -> list[str]:
        """The command line that starts the server."""
        cmd = [self.python, "-m", "engine.cli.main", "serve", "--host", "127.0.0.1"]
        cmd += ["--port", "0", "--workdir", str(self.workdir), "--token-file", str(self.token_file)]
        cmd += ["--device", self.device, "--parent-pid", str(os.getpid())]
        if self.bundle is not None:
            cmd += ["--bundle", str(self.bundle)]
        for root in self.allow_roots:
            cmd += ["--allow-root", root]
        if self.threads is not None:
            cmd += ["--threads", str(self.threads)]
        return cmd

    def start(self, timeout: float = 120.0) -> EngineClient:
        """Start the server and wait for its READY line; EngineError (with the server's last
        stderr lines) if it exits or does not get ready within `timeout` seconds."""
        if self.alive():
            raise EngineError("the local engine is already running")
        self.workdir.mkdir(parents=True, exist_ok=True)
        running = shared.running_server(self.workdir)
        if running is not None:
            return self._attach(running)
        env = dict(os.environ)
        # Run this checkout's engine, whatever the working directory.
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(_PACKAGE_ROOT), env.get("PYTHONPATH")])
        )
        env["PYTHONUNBUFFERED"] = "1"
        self._stderr_tail.clear()
        self._proc = subprocess.Popen(
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        ready = threading.Event()
        threading.Thread(target=self._read_stdout, args=(self._proc, ready), daemon=True).start()
        err_reader = threading.Thread(target=self._read_stderr, args=(self._proc,), daemon=True)
        err_reader.start()
        deadline = time.monotonic() + timeout
        while not ready.wait(0.05):
            if self._proc.poll() is not None:
                err_reader.join(2.0)  # the pipe is at EOF: let the reader keep the last lines
                raise EngineError(
                    f"the engine exited with code {self._proc.returncode} before it was ready"
                    + self._tail_text()
                )
            if time.monotonic() > deadline:
                self._kill()
                err_reader.join(2.0)
                raise EngineError(
                    f"the engine did not get ready within {timeout:g} s" + self._tail_text()
                )
        info = self.ready_info or {}
        self._client = EngineClient.from_token_file(info["url"], info["token_file"])
        return self._client

    def _attach(self, info: dict) -> EngineClient:
        """Use the server another editor started on this work directory."""
        shared.attach(self.workdir)
        try:
            client = EngineClient.from_token_file(info["url"], info["token_file"])
        except BaseException:
            shared.detach(self.workdir)
            raise
        self.ready_info, self._shared_pid, self._client = info, int(info["pid"]), client
        return client

    def _read_stdout(self, proc: subprocess.Popen, ready: threading.Event) -> None:
        for line in proc.stdout:
            if line.startswith(READY_PREFIX) and not ready.is_set():
                try:
                    self.ready_info = json.loads(line[len(READY_PREFIX) :])
                except json.JSONDecodeError:
                    continue
                ready.set()

    def _read_stderr(self, proc: subprocess.Popen) -> None:
        with open(self.log_file, "a") as log:
            for line in proc.stderr:
                self._stderr_tail.append(line.rstrip("\n"))
                log.write(line)
                log.flush()

    def _tail_text(self) -> str:
        tail = "\n".join(self._stderr_tail).strip()
        return f"; its last messages:\n{tail}" if tail else "; it printed nothing"

    def stderr_tail(self) -> str:
        """The server's last stderr lines (also in `workdir/engine.log`)."""
        return "\n".join(self._stderr_tail)

    def alive(self) -> bool:
        """Whether the server process is running."""
        if self._shared_pid is not None:
            return shared.process_alive(self._shared_pid)
        return self._proc is not None and self._proc.poll() is None

    def stop(self) -> None:
        """Stop the server gracefully (SIGTERM; the running job ends interrupted), then kill it
        if it has not exited within a grace period. A server other editors still use is left
        running for them (it stops itself once they have all ended)."""
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._shared_pid is not None:
            shared.detach(self.workdir)
            self._shared_pid = None
            return
        if self._proc is None:
            return
        if shared.live_editors(self.workdir):
            self._proc = None
            return
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                self._kill()
        self._proc = None

    def _kill(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()

    def restart(self) -> EngineClient:
        """Stop (if running) and start again on the same work directory."""
        self.stop()
        return self.start()

    def __enter__(self) -> LocalEngine:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
