"""Reading a recording as overlapping 10 s windows, sequentially (bounded memory) or one at a time."""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from engine.audio import audio_info, iter_blocks
from engine.audio.layout import infer_layout, to_foa
from engine.constants import N_CHANNELS, SAMPLE_RATE
from engine.dsp import WindowPlan
from engine.errors import AudioError


@dataclass(frozen=True)
class WindowSpec:
    """Window length and hop in seconds (paper: 10 s scenes)."""

    window_s: float = 10.0
    hop_s: float = 7.5

    def plan(self, length: int) -> WindowPlan:
        """The window plan of a signal of `length` samples at 32 kHz."""
        return WindowPlan(
            length, round(self.window_s * SAMPLE_RATE), round(self.hop_s * SAMPLE_RATE)
        )


def resampled_length(path: str | os.PathLike) -> int:
    """Length in samples at 32 kHz of a file (what the block reader yields)."""
    info = audio_info(path)
    return round(info.frames * SAMPLE_RATE / info.sample_rate)


def iter_windows(
    path: str | os.PathLike,
    plan: WindowPlan,
    channels: Sequence[int] | None = None,
) -> Iterator[tuple[int, int, np.ndarray]]:
    """Yield `(index, start_sample, window [4, size])` in order, reading the file once in blocks.

    The last windows are zero-padded past the end; memory holds about one window.

    Raises:
        AudioError: as `iter_blocks`, or the file holds fewer samples than `plan.length`
        (it changed after the plan was made).
    """
    starts = plan.starts()
    buf = np.zeros((N_CHANNELS, 0), np.float32)
    buf_start = 0
    idx = 0
    hop_s = plan.hop / SAMPLE_RATE

    def take(i: int) -> np.ndarray:
        s = starts[i] - buf_start
        w = buf[:, s : s + plan.size]
        # Clip to the planned length, so every reader of the file sees the same samples.
        valid = max(0, min(plan.size, plan.length - starts[i]))
        out = np.zeros((N_CHANNELS, plan.size), np.float32)
        out[:, : min(valid, w.shape[1])] = w[:, :valid]
        return out

    read = 0
    for block in iter_blocks(path, hop_s, channels=channels, foa=True):
        read += block.shape[1]
        buf = np.concatenate([buf, block], axis=1)
        while idx < len(starts) and buf_start + buf.shape[1] >= starts[idx] + plan.size:
            yield idx, starts[idx], take(idx)
            idx += 1
            if idx < len(starts):
                drop = starts[idx] - buf_start
                buf = buf[:, drop:]
                buf_start += drop
    # Padding a short file out to the plan would turn the missing audio into silent stems.
    if read < plan.length:
        raise AudioError(
            path,
            f"has {read} samples at {SAMPLE_RATE} Hz where {plan.length} were planned "
            "(was it changed while being separated?)",
        )
    while idx < len(starts):
        yield idx, starts[idx], take(idx)
        idx += 1


def read_window(
    path: str | os.PathLike,
    start: int,
    size: int,
    length: int,
    channels: Sequence[int] | None = None,
) -> np.ndarray:
    """One window `[4, size]` starting at 32 kHz sample `start` (random access, for refinement).

    Samples past `length` are zero, as in `iter_windows`.
    """
    path = Path(path)
    info = audio_info(path)
    ratio = info.sample_rate / SAMPLE_RATE
    margin = 256 if info.sample_rate != SAMPLE_RATE else 0  # resampler edge settling
    # Start on a source sample that maps to a whole output sample, so the grid matches the
    # streaming reader's exactly (e.g. multiples of 3 source samples for 48 kHz).
    step = info.sample_rate // math.gcd(info.sample_rate, SAMPLE_RATE)
    src_start = max(0, (int(np.floor(start * ratio)) - margin) // step * step)
    src_stop = min(info.frames, int(np.ceil((start + size) * ratio)) + margin)
    with sf.SoundFile(str(path)) as f:
        f.seek(src_start)
        raw = f.read(max(0, src_stop - src_start), dtype="float32", always_2d=True)
    if channels is not None:
        raw = raw[:, list(channels)]
    layout = infer_layout(raw.shape[1], path)
    if info.sample_rate != SAMPLE_RATE and raw.shape[0]:
        raw = soxr.resample(raw, info.sample_rate, SAMPLE_RATE, quality="HQ")
    audio = to_foa(np.ascontiguousarray(raw.T), layout)
    offset = start - round(src_start / ratio)
    valid = max(0, min(size, length - start))
    out = np.zeros((N_CHANNELS, size), np.float32)
    piece = audio[:, offset : offset + valid]
    out[:, : piece.shape[1]] = piece
    return out
