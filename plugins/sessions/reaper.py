"""REAPER project (.rpp) with the mixture on top and one track per class, one item per clip."""

from __future__ import annotations

import os
from pathlib import Path

from plugins.sessions.common import file_ref, range_start, write_atomic

COLOURS = [0x1F77B4, 0xFF7F0E, 0x2CA02C, 0xD62728, 0x9467BD, 0x8C564B, 0xE377C2, 0x17BECF]


def _quote(text: str) -> str:
    # RPP strings are double-quoted; a path holding a double quote is rare but must not break it.
    return '"' + text.replace('"', "'") + '"'


def _item(file: str, position: float, length: float, offset: float, name: str) -> list[str]:
    return [
        "    <ITEM",
        f"      POSITION {position:.6f}",
        f"      LENGTH {length:.6f}",
        f"      SOFFS {offset:.6f}",
        f"      NAME {_quote(name)}",
        "      <SOURCE WAVE",
        f"        FILE {_quote(file)}",
        "      >",
        "    >",
    ]


def write_rpp(
    manifest: dict,
    stems_dir: str | os.PathLike,
    out_path: str | os.PathLike,
    include_mixture: bool = True,
    whole_stems: bool = False,
    relative: bool = False,
) -> Path:
    """Write a REAPER project for `manifest` whose stems are in `stems_dir`.

    Args:
        manifest: the result's manifest (plain data).
        stems_dir: folder holding the `<recording>_<Label>.wav` stems.
        out_path: the .rpp to write.
        include_mixture: add the original recording as the first track.
        whole_stems: one full-length item per class instead of one item per clip.
        relative: name files relative to the .rpp's folder (REAPER resolves them from there).
    """
    stems_dir = Path(stems_dir)
    session_dir = Path(out_path).parent if relative else None
    rec = manifest["recording"]
    duration = float(rec["duration_s"])
    lines = ['<REAPER_PROJECT 0.1 "6.0" 0', f"  SAMPLERATE {rec['sample_rate']} 0 0"]
    if include_mixture:
        lines += ["  <TRACK", f"    NAME {_quote(rec['name'] + ' (mixture)')}"]
        mixture = file_ref(rec["path"], session_dir)
        lines += _item(mixture, 0.0, duration, range_start(manifest), rec["name"])
        lines += ["  >"]
    for i, track in enumerate(manifest["tracks"]):
        file = file_ref(stems_dir / track["file"], session_dir)
        colour = COLOURS[i % len(COLOURS)] | 0x1000000  # REAPER: high bit = custom colour on
        lines += ["  <TRACK", f"    NAME {_quote(track['label'])}", f"    PEAKCOL {colour}"]
        if whole_stems or not track["clips"]:
            lines += _item(file, 0.0, duration, 0.0, track["label"])
        else:
            for clip in track["clips"]:
                start, end = float(clip["start_s"]), float(clip["end_s"])
                lines += _item(
                    file, start, end - start, start, f"{track['label']} {clip['confidence']:.2f}"
                )
        lines += ["  >"]
    lines.append(">")
    return write_atomic(out_path, "\n".join(lines) + "\n")
