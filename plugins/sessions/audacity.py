"""Audacity "list of files" (.lof): opening it imports every stem as a track at its offset."""

from __future__ import annotations

import os
from pathlib import Path


def write_lof(
    manifest: dict,
    stems_dir: str | os.PathLike,
    out_path: str | os.PathLike,
    include_mixture: bool = True,
) -> Path:
    """Write an Audacity .lof listing the mixture and every stem (all start at the recording's start)."""
    stems_dir = Path(stems_dir).resolve()
    lines = []
    if include_mixture:
        lines.append(f'file "{manifest["recording"]["path"]}" offset 0')
    for track in manifest["tracks"]:
        lines.append(f'file "{stems_dir / track["file"]}" offset 0')
    out_path = Path(out_path)
    tmp = out_path.with_name(f".{out_path.name}.part")
    tmp.write_text("\n".join(lines) + "\n")
    os.replace(tmp, out_path)
    return out_path
