"""REAPER project (.rpp) with the mixture on top and one track per class, one item per clip."""

from __future__ import annotations

import os
from pathlib import Path

COLOURS = [0x1F77B4, 0xFF7F0E, 0x2CA02C, 0xD62728, 0x9467BD, 0x8C564B, 0xE377C2, 0x17BECF]


def _quote(text: str) -> str:
    # RPP strings are double-quoted; a path holding a double quote is rare but must not break it.
    return '"' + text.replace('"', "'") + '"'


def _item(file: Path, position: float, length: float, offset: float, name: str) -> list[str]:
    return [
        "    <ITEM",
        f"      POSITION {position:.6f}",
        f"      LENGTH {length:.6f}",
        f"      SOFFS {offset:.6f}",
        f"      NAME {_quote(name)}",
        "      <SOURCE WAVE",
        f"        FILE {_quote(str(file))}",
        "      >",
        "    >",
    ]


def write_rpp(
    manifest: dict,
    stems_dir: str | os.PathLike,
    out_path: str | os.PathLike,
    include_mixture: bool = True,
    whole_stems: bool = False,
) -> Path:
    """Write a REAPER project for `manifest` whose stems are in `stems_dir`.

    Args:
        manifest: the result's manifest (plain data).
        stems_dir: folder holding the `<recording>_<Label>.wav` stems.
        out_path: the .rpp to write.
        include_mixture: add the original recording as the first track.
        whole_stems: one full-length item per class instead of one item per clip.
    """
    stems_dir = Path(stems_dir).resolve()
    rec = manifest["recording"]
    duration = float(rec["duration_s"])
    lines = ['<REAPER_PROJECT 0.1 "6.0" 0', f"  SAMPLERATE {rec['sample_rate']} 0 0"]
    if include_mixture:
        lines += ["  <TRACK", f"    NAME {_quote(rec['name'] + ' (mixture)')}"]
        lines += _item(Path(rec["path"]), 0.0, duration, 0.0, rec["name"])
        lines += ["  >"]
    for i, track in enumerate(manifest["tracks"]):
        file = stems_dir / track["file"]
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
    out_path = Path(out_path)
    tmp = out_path.with_name(f".{out_path.name}.part")
    tmp.write_text("\n".join(lines) + "\n")
    os.replace(tmp, out_path)
    return out_path
