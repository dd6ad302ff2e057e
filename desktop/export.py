"""Rendering stems to files that DAWs place at the right time (Broadcast WAV `bext`).

Exported stems go through `engine.audio.delivery` (the recording's rate, a chosen format,
optionally the recording's channels); drag-out clips are rendered here from the working stems.

A stem or clip is copied block by block (memory bounded for hour-long stems) to a temporary WAV,
then rewritten with a `bext` chunk in front of the audio and renamed into place, so a failed
export never leaves a half-written file under the final name.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Iterable
from pathlib import Path

import soundfile as sf

# The one BWF implementation (stdlib only, no engine internals behind it).
from engine.audio.bwf import build_bext, insert_bext, read_bext
from engine.client import StemFormat, deliver_stem

BLOCK_FRAMES = 1 << 18


def bext_chunk(time_reference: int, description: str = "", originator: str = "Scenesplit") -> bytes:
    """A complete `bext` chunk (id, size, body); `time_reference` in samples since midnight."""
    body = build_bext(time_reference, description, originator)
    return struct.pack("<4sI", b"bext", len(body)) + body


def read_time_reference(path: str | os.PathLike) -> int | None:
    """The bext time reference (samples) of a WAV file, or None when it has no bext chunk."""
    try:
        bext = read_bext(path)
    except ValueError:  # not a RIFF/WAVE file
        return None
    return bext["time_reference"] if bext else None


def render_wav(
    src: str | os.PathLike,
    dest: str | os.PathLike,
    start_s: float = 0.0,
    end_s: float | None = None,
    time_reference: int = 0,
    description: str = "",
) -> Path:
    """Write `src[start_s:end_s]` to `dest` (float WAV) with a bext time reference.

    `time_reference` is the sample position (at `src`'s rate) where `dest` starts; for a clip
    that is the recording's own time reference plus the clip start.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    plain = dest.with_name(f".{dest.name}.{os.getpid()}.plain")
    final = dest.with_name(f".{dest.name}.{os.getpid()}.part")
    try:
        with sf.SoundFile(str(src)) as fin:
            rate = fin.samplerate
            f0 = max(0, min(fin.frames, int(round(start_s * rate))))
            f1 = fin.frames if end_s is None else max(f0, min(fin.frames, int(round(end_s * rate))))
            fin.seek(f0)
            with sf.SoundFile(
                str(plain), "w", rate, fin.channels, subtype="FLOAT", format="WAV"
            ) as fout:
                left = f1 - f0
                while left > 0:
                    block = fin.read(min(BLOCK_FRAMES, left), dtype="float32", always_2d=True)
                    if block.shape[0] == 0:
                        break
                    fout.write(block)
                    left -= block.shape[0]
        insert_bext(plain, final, build_bext(time_reference, description))
        os.replace(final, dest)
    finally:
        plain.unlink(missing_ok=True)
        final.unlink(missing_ok=True)
    return dest


def stem_export_name(recording_name: str, label: str, suffix: str = ".wav") -> str:
    """`<recording>_<Label>.wav`, as the challenge names estimates."""
    return f"{recording_name}_{label}{suffix}"


def export_targets(
    recording_name: str, labels: Iterable[str], folder: str | os.PathLike, fmt: StemFormat
) -> list[Path]:
    """The files an export of `labels` into `folder` writes (to ask before replacing any)."""
    return [Path(folder) / stem_export_name(recording_name, label, fmt.suffix) for label in labels]


def export_stems(
    recording: dict,
    stems: Iterable[tuple[str, str | os.PathLike]],
    folder: str | os.PathLike,
    fmt: StemFormat | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Deliver every (label, working stem) to `folder/<recording>_<Label>.<ext>` as `fmt`.

    `recording` is the manifest's recording facts (name, rate, channels, time reference).
    """
    fmt = fmt or StemFormat()
    stems = list(stems)
    targets = export_targets(recording["name"], [label for label, _ in stems], folder, fmt)
    out = []
    for i, ((label, path), dest) in enumerate(zip(stems, targets, strict=True)):
        out.append(deliver_stem(path, dest, recording, fmt, description=label))
        if progress is not None:
            progress(i + 1, len(stems))
    return out
