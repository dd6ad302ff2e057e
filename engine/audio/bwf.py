"""Broadcast WAV (EBU Tech 3285 v2) `bext` chunk: the time reference DAWs use to place a stem.

libsndfile can write a `bext` chunk but python-soundfile does not expose it, so the chunk is
inserted here into a finished RIFF/WAVE file by a streaming copy.
"""

from __future__ import annotations

import datetime as _dt
import os
import struct
from pathlib import Path

_BEXT_FIXED = 602  # bytes of the fixed part of a version-2 bext chunk
_COPY_BLOCK = 1 << 22


def build_bext(
    time_reference: int,
    description: str = "",
    originator: str = "Scenesplit",
    when: _dt.datetime | None = None,
) -> bytes:
    """Bytes of a bext chunk body; `time_reference` is in samples since midnight."""
    if time_reference < 0:
        raise ValueError(f"time_reference must be >= 0 samples, got {time_reference}")
    when = when or _dt.datetime.now()
    body = struct.pack(
        "<256s32s32s10s8sIIH64s10s180s",
        description.encode("ascii", "replace")[:256],
        originator.encode("ascii", "replace")[:32],
        b"",
        when.strftime("%Y-%m-%d").encode(),
        when.strftime("%H:%M:%S").encode(),
        time_reference & 0xFFFFFFFF,
        time_reference >> 32,
        2,
        b"",
        b"",
        b"",
    )
    assert len(body) == _BEXT_FIXED
    return body


def _chunks(f) -> list[tuple[bytes, int, int]]:
    """(id, offset of data, size) of every chunk of an open RIFF/WAVE file."""
    head = f.read(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise ValueError("not a RIFF/WAVE file")
    out = []
    end = os.fstat(f.fileno()).st_size
    pos = 12
    while pos + 8 <= end:
        f.seek(pos)
        cid, size = struct.unpack("<4sI", f.read(8))
        out.append((cid, pos + 8, size))
        pos += 8 + size + (size & 1)
    return out


def insert_bext(src: str | os.PathLike, dst: str | os.PathLike, bext_body: bytes) -> None:
    """Copy WAV `src` to `dst` with `bext_body` as a chunk placed before the audio data."""
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        chunks = [c for c in _chunks(fin) if c[0] != b"bext"]
        total = 4 + 8 + len(bext_body) + sum(8 + s + (s & 1) for _, _, s in chunks)
        if total > 0xFFFFFFFF:
            raise ValueError("WAV over 4 GiB: split the export or use FLAC")
        fout.write(struct.pack("<4sI4s", b"RIFF", total, b"WAVE"))
        for cid, offset, size in chunks:
            if cid == b"data":
                fout.write(struct.pack("<4sI", b"bext", len(bext_body)) + bext_body)
            fout.write(struct.pack("<4sI", cid, size))
            fin.seek(offset)
            left = size + (size & 1)
            while left:
                block = fin.read(min(left, _COPY_BLOCK))
                if not block:
                    raise ValueError("truncated WAV chunk")
                fout.write(block)
                left -= len(block)


def read_bext(path: str | Path) -> dict | None:
    """The bext fields of a WAV file (time_reference, description, originator), or None."""
    with open(path, "rb") as f:
        for cid, offset, size in _chunks(f):
            if cid == b"bext" and size >= 346:
                f.seek(offset)
                raw = f.read(346)
                desc, orig, _ref, date, time_, lo, hi = struct.unpack("<256s32s32s10s8sII", raw)
                return {
                    "time_reference": lo | (hi << 32),
                    "description": desc.rstrip(b"\0").decode("ascii", "replace"),
                    "originator": orig.rstrip(b"\0").decode("ascii", "replace"),
                    "origination": f"{date.decode()} {time_.decode()}",
                }
    return None
