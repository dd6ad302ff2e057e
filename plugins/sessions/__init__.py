"""DAW session files for a separation result: REAPER projects, Audacity LOF lists, OTIO timelines.

They take the manifest (as the engine client returns it: plain JSON data) and the folder that
holds its stems, and place every clip at its original time so the DAW shows the scene as heard.
The editor's "export with DAW session" and `scenesplit export` both write through here.
"""

from __future__ import annotations

import os
from pathlib import Path

from plugins.sessions.audacity import write_lof
from plugins.sessions.otio import write_otio
from plugins.sessions.reaper import write_rpp

WRITERS = {"rpp": write_rpp, "lof": write_lof, "otio": write_otio}
"""Session format (also the file suffix) -> writer."""


def write_session(
    manifest: dict,
    stems_dir: str | os.PathLike,
    out_path: str | os.PathLike,
    fmt: str | None = None,
    relative: bool = True,
    include_mixture: bool = True,
) -> Path:
    """Write a session of format `fmt` (default: `out_path`'s suffix); see `WRITERS`.

    Raises:
        ValueError: an unknown format, naming the known ones.
    """
    fmt = (fmt or Path(out_path).suffix.lstrip(".")).lower()
    if fmt not in WRITERS:
        raise ValueError(f"unknown session format {fmt!r}; expected one of: {', '.join(WRITERS)}")
    return WRITERS[fmt](
        manifest, stems_dir, out_path, include_mixture=include_mixture, relative=relative
    )


__all__ = ["WRITERS", "write_lof", "write_otio", "write_rpp", "write_session"]
