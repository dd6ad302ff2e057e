"""Audacity's mod-script-pipe protocol: send a command line, read the reply, know when it failed.

Audacity (with the mod-script-pipe module enabled) reads commands from the FIFO
`/tmp/audacity_script_pipe.to.<uid>` and writes replies to `/tmp/audacity_script_pipe.from.<uid>`
(Linux and macOS). One reply is a body (free text, or JSON that starts after a blank line), a line
`BatchCommand finished: OK` or `BatchCommand finished: Failed!`, then an empty line. Audacity
serves one client at a time and re-creates the FIFOs after each client disconnects.

What this client copes with (seen on Audacity 3.2.4, shared/spec/HOSTS.md):
- the FIFOs missing (ENOENT) or present without Audacity reading them (ENXIO): retried until a
  deadline, then one message saying how to enable the module;
- commands sent while Audacity is still starting are answered with a bare newline and dropped:
  `connect` pings until a full reply comes back;
- a modal dialog stops all replies: every read has a deadline, and the error says so;
- some replies carry no `BatchCommand finished` line (`Screenshot:`): not used here.
"""

from __future__ import annotations

import errno
import json
import os
import re
import select
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import ScenesplitError

DEFAULT_PREFIX = "/tmp/audacity_script_pipe"
ENABLE_HINT = (
    "in Audacity open Edit > Preferences > Modules, set mod-script-pipe to Enabled and "
    "restart Audacity"
)
PING = "Help: Command=Help Format=Brief"
PING_WAIT_S = 0.5
"""How long a ping waits for its reply before it is sent again (Audacity drops early ones)."""
RETRY_S = 0.05
_FINISHED = re.compile(rb"(?:^|\n)BatchCommand finished: (OK|Failed!)\n\n")


class AudacityError(ScenesplitError):
    """Audacity cannot be reached, does not answer, or refused a command (one-line message)."""


class CommandFailed(AudacityError):
    """A command Audacity answered with `BatchCommand finished: Failed!`; `body` is its text."""

    def __init__(self, command: str, body: str):
        detail = f": {body.strip().splitlines()[0]}" if body.strip() else ""
        super().__init__(f"Audacity refused `{command}`{detail}")
        self.command = command
        self.body = body


@dataclass(frozen=True)
class Reply:
    """One reply: the body text (surrounding blank lines removed) and whether it ended OK."""

    body: str
    ok: bool

    def json(self) -> Any:
        """The body parsed as JSON; AudacityError when it is not JSON."""
        try:
            return json.loads(self.body)
        except json.JSONDecodeError:
            raise AudacityError(
                f"Audacity sent no JSON where JSON was expected: {self.body[:80]!r}"
            ) from None


def split_reply(buffer: bytes) -> tuple[Reply | None, bytes]:
    """The first complete reply in `buffer` and the bytes after it ((None, buffer) if none yet)."""
    m = _FINISHED.search(buffer)
    if m is None:
        return None, buffer
    body = buffer[: m.start()].decode("utf-8", "replace").strip("\n")
    return Reply(body, m.group(1) == b"OK"), buffer[m.end() :]


def default_paths(prefix: str = DEFAULT_PREFIX) -> tuple[Path, Path]:
    """(to, from) FIFO paths Audacity creates for this user."""
    if not hasattr(os, "getuid"):  # Windows: named pipes \\.\pipe\ToSrvPipe, not handled here
        raise AudacityError("the Audacity script pipe is supported on Linux and macOS only")
    uid = os.getuid()
    return Path(f"{prefix}.to.{uid}"), Path(f"{prefix}.from.{uid}")


class ScriptPipe:
    """A connection to a running Audacity's script pipe.

    Args:
        to_path, from_path: the FIFOs (default: Audacity's, for this user).
        connect_timeout: seconds `connect` keeps trying (Audacity starting, pipes re-created).
        reply_timeout: seconds to wait for one reply (long imports and exports take a while).
    """

    def __init__(
        self,
        to_path: str | os.PathLike | None = None,
        from_path: str | os.PathLike | None = None,
        connect_timeout: float = 3.0,
        reply_timeout: float = 60.0,
    ):
        default_to, default_from = default_paths()
        self.to_path = Path(to_path) if to_path is not None else default_to
        self.from_path = Path(from_path) if from_path is not None else default_from
        self.connect_timeout = connect_timeout
        self.reply_timeout = reply_timeout
        self._to: int | None = None
        self._from: int | None = None
        self._buffer = b""
        self._heard = False  # bytes came back on this connection: EOF now means Audacity left

    # -- connection ----------------------------------------------------------------------------

    def connect(self) -> ScriptPipe:
        """Open both FIFOs and wait until Audacity answers a ping; AudacityError otherwise."""
        deadline = time.monotonic() + self.connect_timeout
        opened = False
        while True:
            try:
                self._open()
                opened = True
                if self._ping(deadline):
                    return self
            except (_NotThere, BrokenPipeError, _Closed):
                self._close_fds()
            if time.monotonic() >= deadline:
                self._close_fds()
                if not opened:
                    raise AudacityError(
                        f"no Audacity listening on {self.to_path}: start Audacity with its "
                        f"script pipe enabled ({ENABLE_HINT})"
                    )
                raise AudacityError(
                    f"Audacity does not answer on {self.to_path} within {self.connect_timeout:g} s; "
                    "close any open dialog in Audacity and try again"
                )
            time.sleep(RETRY_S)

    def _open(self) -> None:
        if self._to is None:
            try:
                # Non-blocking: a FIFO nobody reads (Audacity not running) fails with ENXIO
                # instead of hanging.
                self._to = os.open(self.to_path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:
                if exc.errno in (errno.ENOENT, errno.ENXIO):
                    raise _NotThere from None
                raise AudacityError(f"cannot open {self.to_path}: {exc.strerror}") from None
            os.set_blocking(self._to, True)
        if self._from is None:
            try:
                self._from = os.open(self.from_path, os.O_RDONLY | os.O_NONBLOCK)
            except OSError as exc:
                if exc.errno == errno.ENOENT:
                    raise _NotThere from None
                raise AudacityError(f"cannot open {self.from_path}: {exc.strerror}") from None
            self._buffer, self._heard = b"", False

    def _ping(self, deadline: float) -> bool:
        """Send pings until one is answered (True) or the deadline passes (False)."""
        while time.monotonic() < deadline:
            self._write(PING)
            wait = min(PING_WAIT_S, max(0.0, deadline - time.monotonic()))
            if self._read_reply(time.monotonic() + wait) is not None:
                self._drain()
                return True
        return False

    def _drain(self, quiet_s: float = 0.05) -> None:
        """Drop what a late answer to an earlier ping may still send."""
        while self._fill(time.monotonic() + quiet_s):
            pass
        self._buffer = b""

    def close(self) -> None:
        """Disconnect (Audacity then re-creates its FIFOs for the next client)."""
        self._close_fds()

    def _close_fds(self) -> None:
        for fd in (self._to, self._from):
            if fd is not None:
                os.close(fd)
        self._to = self._from = None
        self._buffer, self._heard = b"", False

    def __enter__(self) -> ScriptPipe:
        return self.connect()

    def __exit__(self, *exc) -> None:
        self.close()

    # -- commands ------------------------------------------------------------------------------

    def send(self, command: str, timeout: float | None = None) -> Reply:
        """Send one command and return its reply, whether OK or Failed!."""
        if self._to is None:
            raise AudacityError("not connected to Audacity (call connect first)")
        if "\n" in command:
            raise ValueError(f"one command per line, got {command!r}")
        try:
            self._write(command)
            reply = self._read_reply(time.monotonic() + (timeout or self.reply_timeout))
        except BrokenPipeError:
            raise AudacityError(f"Audacity closed its script pipe during `{command}`") from None
        except _Closed:
            raise AudacityError(f"Audacity closed its script pipe during `{command}`") from None
        if reply is None:
            raise AudacityError(
                f"Audacity did not answer `{command}` within {timeout or self.reply_timeout:g} s; "
                "is a dialog open in Audacity?"
            )
        return reply

    def command(self, command: str, timeout: float | None = None) -> str:
        """Send one command; its body text, or CommandFailed when Audacity answers Failed!."""
        reply = self.send(command, timeout)
        if not reply.ok:
            raise CommandFailed(command, reply.body)
        return reply.body

    def query(self, command: str, timeout: float | None = None) -> Any:
        """Send a command that answers JSON (`GetInfo: ...`) and return the parsed body."""
        reply = self.send(command, timeout)
        if not reply.ok:
            raise CommandFailed(command, reply.body)
        return reply.json()

    # -- I/O -----------------------------------------------------------------------------------

    def _write(self, command: str) -> None:
        data = (command + "\n").encode()
        while data:
            data = data[os.write(self._to, data) :]

    def _read_reply(self, deadline: float) -> Reply | None:
        while True:
            reply, rest = split_reply(self._buffer)
            if reply is not None:
                self._buffer = rest
                return reply
            if not self._fill(deadline):
                return None

    def _fill(self, deadline: float) -> bool:
        """Read what is available before `deadline` into the buffer; False when nothing came."""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            ready, _, _ = select.select([self._from], [], [], left)
            if not ready:
                return False
            data = os.read(self._from, 1 << 16)
            if data:
                self._buffer += data
                self._heard = True
                return True
            if self._heard:
                raise _Closed
            # No writer yet (Audacity opens its end after ours): a FIFO reads as EOF meanwhile.
            time.sleep(min(RETRY_S, max(0.0, deadline - time.monotonic())))


class _NotThere(Exception):
    """The FIFOs are missing or nobody reads them (yet)."""


class _Closed(Exception):
    """Audacity closed its end of the reply FIFO."""
