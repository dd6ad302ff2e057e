"""Audacity "list of files" (.lof): opening it imports every stem as a track at its offset."""

from __future__ import annotations

import os
from pathlib import Path

from plugins.sessions.common import file_ref, write_atomic


def write_lof(
    manifest: dict,
    stems_dir: str | os.PathLike,
    out_path: str | os.PathLike,
    include_mixture: bool = True,
    relative: bool = False,
) -> Path:
    """Write an Audacity .lof listing the mixture and every stem (all start at the recording's start).

    Args:
        manifest: the result's manifest (plain data).
        stems_dir: folder holding the stems named in the manifest.
        out_path: the .lof to write.
        include_mixture: list the original recording first.
        relative: name files relative to the .lof's folder (Audacity resolves them from there).
    """
    stems_dir = Path(stems_dir)
    session_dir = Path(out_path).parent if relative else None
    files = [stems_dir / track["file"] for track in manifest["tracks"]]
    if include_mixture:
        # A .lof cannot trim a file: a --start range's mixture is left out rather than misplaced.
        if not manifest["recording"].get("start_s"):
            files.insert(0, Path(manifest["recording"]["path"]))
    lines = [f'file "{file_ref(f, session_dir)}" offset 0' for f in files]
    return write_atomic(out_path, "\n".join(lines) + "\n")
