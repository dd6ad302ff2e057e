"""Rendering stems to WAV files that DAWs place at the right time (Broadcast WAV `bext`).

A stem or clip is copied block by block (memory bounded for hour-long stems) to a temporary WAV,
then rewritten with a `bext` chunk in front of the audio and renamed into place, so a failed
export never leaves a half-written file under the final name.
"""

from __future__ import annotations

import datetime as _dt
import os
import struct
from collections.abc import Callable, Iterable
from pathlib import Path

import soundfile as sf

BLOCK_FRAMES = 1 << 18
_BEXT_SIZE = 602  # fixed part of a version-2 bext chunk (EBU Tech 3285)


def bext_chunk(time_reference: int, description: str = "", originator: str = "Scenesplit") -> bytes:
    """A complete `bext` chunk (id, size, body); `time_reference` in samples since midnight."""
    if time_reference < 0:
        raise ValueError(f"time_reference must be >= 0 samples, got {time_reference}")
    now = _dt.datetime.now()
    body = struct.pack(
        "<256s32s32s10s8sQH64s10s180s",
        description.encode("ascii", "replace")[:256],
        originator.encode("ascii", "replace")[:32],
        b"",
        now.strftime("%Y-%m-%d").encode(),
        now.strftime("%H:%M:%S").encode(),
        time_reference,
        2,
        b"",
        b"",
        b"",
    )
    return struct.pack("<4sI", b"bext", len(body)) + body


def read_time_reference(path: str | os.PathLike) -> int | None:
    """The bext time reference (samples) of a WAV file, or None when it has no bext chunk."""
    with open(path, "rb") as f:
        head = f.read(12)
        if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        end = os.fstat(f.fileno()).st_size
        pos = 12
        while pos + 8 <= end:
            f.seek(pos)
            cid, size = struct.unpack("<4sI", f.read(8))
            if cid == b"bext" and size >= 346:
                f.seek(pos + 8 + 338)
                return struct.unpack("<Q", f.read(8))[0]
            pos += 8 + size + (size & 1)
    return None


def _with_bext(src: Path, dst: Path, chunk: bytes) -> None:
    """Copy RIFF/WAVE `src` to `dst`, putting `chunk` right before the `data` chunk."""
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        head = fin.read(12)
        if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            raise ValueError(f"{src}: not a RIFF/WAVE file")
        end = os.fstat(fin.fileno()).st_size
        chunks, pos = [], 12
        while pos + 8 <= end:
            fin.seek(pos)
            cid, size = struct.unpack("<4sI", fin.read(8))
            if cid != b"bext":
                chunks.append((cid, pos + 8, size))
            pos += 8 + size + (size & 1)
        riff = 4 + len(chunk) + sum(8 + s + (s & 1) for _, _, s in chunks)
        if riff > 0xFFFFFFFF:
            raise ValueError("WAV over 4 GiB; export a shorter range")
        fout.write(struct.pack("<4sI4s", b"RIFF", riff, b"WAVE"))
        for cid, offset, size in chunks:
            if cid == b"data":
                fout.write(chunk)
            fout.write(struct.pack("<4sI", cid, size))
            fin.seek(offset)
            left = size + (size & 1)
            while left:
                data = fin.read(min(left, 1 << 22))
                if not data:
                    raise ValueError(f"{src}: truncated chunk {cid!r}")
                fout.write(data)
                left -= len(data)


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
        _with_bext(plain, final, bext_chunk(time_reference, description))
        os.replace(final, dest)
    finally:
        plain.unlink(missing_ok=True)
        final.unlink(missing_ok=True)
    return dest


def stem_export_name(recording_name: str, label: str) -> str:
    """`<recording>_<Label>.wav`, as the challenge names estimates."""
    return f"{recording_name}_{label}.wav"


def export_stems(
    recording_name: str,
    stems: Iterable[tuple[str, str | os.PathLike]],
    folder: str | os.PathLike,
    time_reference: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Write every (label, stem path) to `folder/<recording>_<Label>.wav`; returns the files."""
    stems = list(stems)
    out = []
    for i, (label, path) in enumerate(stems):
        dest = Path(folder) / stem_export_name(recording_name, label)
        out.append(render_wav(path, dest, time_reference=time_reference, description=label))
        if progress is not None:
            progress(i + 1, len(stems))
    return out
