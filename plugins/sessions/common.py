"""What every session writer shares: how a file is named inside the session, atomic writes."""

from __future__ import annotations

import os
from pathlib import Path

from engine.client import write_text_durable


def file_ref(file: str | os.PathLike, session_dir: Path | None) -> str:
    """`file` as the session names it: absolute, or relative to `session_dir` when given
    (so a session folder can be moved or sent along with its stems)."""
    file = Path(file).resolve()
    if session_dir is None:
        return str(file)
    return Path(os.path.relpath(file, session_dir.resolve())).as_posix()


def write_atomic(out_path: str | os.PathLike, text: str) -> Path:
    """Write `text` to `out_path` atomically and durably: no half-written session is left."""
    return write_text_durable(out_path, text)


def range_start(manifest: dict) -> float:
    """Where the result starts in the recording file, in seconds (a `--start` range)."""
    return float(manifest["recording"].get("start_s", 0.0) or 0.0)
