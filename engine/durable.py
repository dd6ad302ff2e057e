"""Writes that survive a crash or power loss: temp file, fsync, rename, fsync of the folder.

A rename is only durable once the folder holding it is synced; without that, a machine that
loses power can come back with the old name, or an empty file under the new one. A write that
fails (a full disk) leaves no temp file behind.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path


def fsync_dir(path: str | os.PathLike) -> None:
    """Flush a folder's entries (renames, new files) to disk."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_name(path: Path) -> Path:
    """The hidden temp file beside `path` that this process and thread write first."""
    return path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.part")


def write_text_durable(path: str | os.PathLike, text: str) -> Path:
    """Replace `path` by `text` atomically and durably.

    Raises:
        OSError: naming `path` (a failed write() alone names no file).
    """
    path = Path(path)
    tmp = temp_name(path)
    try:
        with open(tmp, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if exc.filename is None:
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def rename_durable(src: str | os.PathLike, dst: str | os.PathLike) -> None:
    """Rename `src` to `dst` (same folder tree) and sync the destination's folder."""
    os.rename(src, dst)
    fsync_dir(Path(dst).parent)
