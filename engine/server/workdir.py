"""One engine server per work directory: its lock, its record, and the editors that share it.

A server holds `serve.lock` (flock) while it runs and, once it accepts requests, writes
`server.json` (url, token file, pid). A second editor on the same work directory finds that
server through `running_server()` and attaches to it instead of failing to start its own: it
registers its pid in `editors/`, and the server stops only when its parent and every
registered editor have ended. Standard library only: the torch-free client uses it too.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from engine.durable import write_text_durable
from engine.errors import ScenesplitError

LOCK_FILE = "serve.lock"
SERVER_FILE = "server.json"
EDITORS_FOLDER = "editors"
LOG_FILE = "engine.log"


def process_alive(pid: int) -> bool:
    """Whether process `pid` exists (and is not a zombie we could see)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def workdir_lock(workdir: Path) -> Iterator[None]:
    """Hold `workdir` for this server; ScenesplitError if another server holds it.

    A second server on the same folder would clean up the first one's running job as if it
    had crashed and replace its token. flock is released by the kernel however the process
    ends, so a killed server never leaves a stale lock.
    """
    path = workdir / LOCK_FILE
    with open(path, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            pid = f.read().strip() or "unknown"
            raise ScenesplitError(
                f"{workdir}: another engine server (pid {pid}) uses this work directory; "
                "stop it or choose another --workdir"
            ) from None
        f.truncate(0)
        f.write(f"{os.getpid()}\n")
        f.flush()
        try:
            yield
        finally:
            (workdir / SERVER_FILE).unlink(missing_ok=True)


def write_record(workdir: Path, info: dict) -> None:
    """Say how to reach this server (`info`: url, token_file, pid) to other editors."""
    write_text_durable(workdir / SERVER_FILE, json.dumps(info))


def _locked(workdir: Path) -> bool:
    try:
        with open(workdir / LOCK_FILE, "a+") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(f, fcntl.LOCK_UN)
            return False
    except OSError:
        return False


def running_server(workdir: str | os.PathLike) -> dict | None:
    """The record of the live server holding `workdir`, or None (none, or not ready yet)."""
    workdir = Path(workdir)
    if not _locked(workdir):
        return None
    try:
        info = json.loads((workdir / SERVER_FILE).read_text())
        pid = int(info["pid"])
        info["url"], info["token_file"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return info if process_alive(pid) else None


def attach(workdir: str | os.PathLike, pid: int | None = None) -> Path:
    """Register editor `pid` (default: this process) as a user of `workdir`'s server."""
    folder = Path(workdir) / EDITORS_FOLDER
    folder.mkdir(exist_ok=True)
    mark = folder / str(pid or os.getpid())
    mark.touch()
    return mark


def detach(workdir: str | os.PathLike, pid: int | None = None) -> None:
    """Take editor `pid` (default: this process) off `workdir`'s server's users."""
    (Path(workdir) / EDITORS_FOLDER / str(pid or os.getpid())).unlink(missing_ok=True)


def live_editors(workdir: str | os.PathLike) -> list[int]:
    """The registered editors still running (marks of ended ones are removed)."""
    folder = Path(workdir) / EDITORS_FOLDER
    alive = []
    for mark in folder.glob("*") if folder.is_dir() else []:
        if not mark.name.isdigit():
            continue
        pid = int(mark.name)
        if process_alive(pid):
            alive.append(pid)
        else:
            mark.unlink(missing_ok=True)
    return sorted(alive)
