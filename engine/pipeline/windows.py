"""Reading a recording as overlapping 10 s windows, sequentially (bounded memory) or one at a time."""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soxr

from engine.audio import audio_info, iter_blocks, read_frames
from engine.audio.layout import infer_layout, to_foa
from engine.constants import N_CHANNELS, SAMPLE_RATE
from engine.contract import DEFAULTS, WINDOW_S_MAX, WINDOW_S_MIN
from engine.dsp import WindowPlan
from engine.errors import AudioError, ScenesplitError


@dataclass(frozen=True)
class WindowSpec:
    """Window length and hop in seconds (paper: 10 s scenes)."""

    window_s: float = DEFAULTS.window_s
    hop_s: float = DEFAULTS.hop_s

    def __post_init__(self) -> None:
        # The bounds every front end shares (engine.contract): a 1e9 s window would ask for
        # terabytes, one shorter than the models' receptive field fails deep inside them.
        if not WINDOW_S_MIN <= self.window_s <= WINDOW_S_MAX:
            raise ScenesplitError(
                f"window must be {WINDOW_S_MIN:g}-{WINDOW_S_MAX:g} s, got {self.window_s:g} s"
            )
        if not 0 < self.hop_s <= self.window_s:
            raise ScenesplitError(
                f"need 0 < hop <= window, got hop {self.hop_s:g} s, window {self.window_s:g} s"
            )

    def plan(self, length: int) -> WindowPlan:
        """The window plan of a signal of `length` samples at 32 kHz."""
        return WindowPlan(
            length, round(self.window_s * SAMPLE_RATE), round(self.hop_s * SAMPLE_RATE)
        )


@dataclass(frozen=True)
class SourceRange:
    """The part of a file that is separated, in the file's own frames.

    `start` lies on a whole 32 kHz sample (a multiple of the rates' ratio), so windows read
    sequentially and windows read one at a time (refinement) see the same samples.
    """

    start: int = 0
    frames: int | None = None
    """None: to the end of the file."""


def source_range(
    path: str | os.PathLike, start_s: float = 0.0, duration_s: float | None = None
) -> tuple[SourceRange, int]:
    """The file frames of `[start_s, start_s + duration_s)` (clipped to the file's end) and
    the range's start in 32 kHz samples.

    Raises:
        AudioError: the range starts outside the file or is empty.
    """
    info = audio_info(path)
    if start_s < 0 or not start_s < info.duration_s:
        raise AudioError(
            path, f"--start {start_s:g} s is outside the recording (0-{info.duration_s:.3f} s)"
        )
    if duration_s is not None and not duration_s > 0:
        raise AudioError(path, f"--duration must be positive, got {duration_s:g} s")
    step = info.sample_rate // math.gcd(info.sample_rate, SAMPLE_RATE)
    start = int(round(start_s * info.sample_rate / step)) * step
    start = min(start, (info.frames - 1) // step * step)
    end = info.frames
    if duration_s is not None:
        end = min(info.frames, start + int(round(duration_s * info.sample_rate)))
    offset = start * SAMPLE_RATE // info.sample_rate
    return SourceRange(start, end - start), offset


def resampled_length(path: str | os.PathLike, src: SourceRange | None = None) -> int:
    """Length in samples at 32 kHz of a file or a range of it (what the block reader yields)."""
    info = audio_info(path)
    frames = info.frames if src is None or src.frames is None else src.frames
    return round(frames * SAMPLE_RATE / info.sample_rate)


def iter_windows(
    path: str | os.PathLike,
    plan: WindowPlan,
    channels: Sequence[int] | None = None,
    src: SourceRange | None = None,
) -> Iterator[tuple[int, int, np.ndarray]]:
    """Yield `(index, start_sample, window [4, size])` in order, reading the file once in blocks.

    With `src`, only that range of the file is read and sample 0 is the range's start.
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
    src = src or SourceRange()
    blocks = iter_blocks(
        path, hop_s, channels=channels, foa=True, start_frame=src.start, frames=src.frames
    )
    for block in blocks:
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
    offset: int = 0,
) -> np.ndarray:
    """One window `[4, size]` starting at 32 kHz sample `start` (random access, for refinement).

    Samples past `length` are zero, as in `iter_windows`. `start` and `length` count from
    32 kHz sample `offset` of the file (the start of a separated range).
    """
    start, length = start + offset, length + offset
    path = Path(path)
    info = audio_info(path)
    ratio = info.sample_rate / SAMPLE_RATE
    margin = 256 if info.sample_rate != SAMPLE_RATE else 0  # resampler edge settling
    # Start on a source sample that maps to a whole output sample, so the grid matches the
    # streaming reader's exactly (e.g. multiples of 3 source samples for 48 kHz).
    step = info.sample_rate // math.gcd(info.sample_rate, SAMPLE_RATE)
    src_start = max(0, (int(np.floor(start * ratio)) - margin) // step * step)
    src_stop = min(info.frames, int(np.ceil((start + size) * ratio)) + margin)
    raw = read_frames(path, src_start, src_stop - src_start, channels=channels).T
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
