"""A WAV file cut short (an interrupted copy or recording): what its header promised vs. holds.

libsndfile quietly counts the frames that are there, so a truncated file reads as a shorter,
valid one; only the `data` chunk's declared size tells the difference.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

_UNKNOWN_SIZES = (0, 0xFFFFFFFF)
"""Sizes a streaming writer leaves when it never came back to fill them in: no promise made."""


@dataclass(frozen=True)
class Truncation:
    """How much of a WAV file's `data` chunk is missing."""

    declared_bytes: int
    present_bytes: int
    frame_bytes: int
    sample_rate: int

    @property
    def declared_frames(self) -> int:
        """Frames the header declares."""
        return self.declared_bytes // self.frame_bytes

    @property
    def present_frames(self) -> int:
        """Frames actually in the file."""
        return self.present_bytes // self.frame_bytes

    def message(self) -> str:
        """One sentence for the user."""
        rate = self.sample_rate
        return (
            f"truncated: the header declares {self.declared_frames} samples "
            f"({self.declared_frames / rate:.3f} s) but the file holds only "
            f"{self.present_frames} ({self.present_frames / rate:.3f} s)"
        )


def wav_truncation(path: str | os.PathLike) -> Truncation | None:
    """The truncation of a RIFF/RF64 WAVE file's data chunk; None when it is whole, when the
    header makes no promise, or when the file is not a WAV (other formats are checked while
    decoding)."""
    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
            return None
        end = os.fstat(f.fileno()).st_size
        pos, fmt, ds64_data = 12, None, None
        while pos + 8 <= end:
            f.seek(pos)
            cid, size = struct.unpack("<4sI", f.read(8))
            if cid == b"ds64" and size >= 16:
                ds64_data = struct.unpack("<QQ", f.read(16))[1]  # riff size, data size
            elif cid == b"fmt " and size >= 16:
                _tag, _channels, rate, _bps, align = struct.unpack("<HHIIH", f.read(14))
                fmt = (max(1, align), rate)
            elif cid == b"data":
                declared = ds64_data if head[:4] == b"RF64" and size == 0xFFFFFFFF else size
                present = end - (pos + 8)
                if fmt is None or (ds64_data is None and declared in _UNKNOWN_SIZES):
                    return None
                if declared > present:
                    return Truncation(declared, present, *fmt)
                return None
            pos += 8 + size + (size & 1)
    return None
