"""Min/max peak pyramids: draw any stretch of an hours-long file with a few thousand points.

Level 0 keeps the min and max of every `BASE` frames, each level above merges `FACTOR` bins of
the one below. The file is read block by block (memory stays at one block plus the pyramid, about
2 % of a 16-bit file), so a pyramid can be built in a worker and drawn while it grows.
Plain numpy + soundfile, no Qt.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

BASE = 256
FACTOR = 4
LEVELS = 6
BLOCK_FRAMES = BASE * FACTOR ** (LEVELS - 1)  # 262,144: whole bins at every level
SKETCH_LEVEL = 4
SKETCH_CHUNK = 4096
SKETCH_MIN_FRAMES = 64 * BLOCK_FRAMES
"""Files longer than this (~9 min at 32 kHz) get a quick sketch before the exact pass."""


@dataclass
class View:
    """What to draw for one channel: pixel-column times with the min and max in each column."""

    times: np.ndarray
    mins: np.ndarray
    maxs: np.ndarray

    def zigzag(self) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) of a single polyline visiting min then max of every column."""
        x = np.repeat(self.times, 2)
        y = np.empty(x.shape[0], np.float32)
        y[0::2] = self.mins
        y[1::2] = self.maxs
        return x, y


class PeakPyramid:
    """Min/max pyramid of an audio file (all channels), filled block by block."""

    def __init__(self, path: str | Path, rate: int, channels: int, frames: int):
        self.path = str(path)
        self.rate = rate
        self.channels = channels
        self.frames = frames
        self.covered = 0
        """Frames summarised so far (the pyramid grows while a worker builds it)."""
        self.sketched = False
        """Whether the coarse levels hold a sampled sketch of the whole file."""
        self.levels: list[np.ndarray] = []
        for level in range(LEVELS):
            bins = max(1, math.ceil(frames / (BASE * FACTOR**level)))
            arr = np.zeros((channels, bins, 2), np.float32)
            self.levels.append(arr)

    @classmethod
    def for_file(cls, path: str | Path) -> PeakPyramid:
        """An empty pyramid sized for `path` (raises RuntimeError from soundfile if unreadable)."""
        info = sf.info(str(path))
        return cls(path, info.samplerate, info.channels, info.frames)

    @property
    def duration_s(self) -> float:
        """Length of the file in seconds."""
        return self.frames / self.rate

    @property
    def complete(self) -> bool:
        """Whether every frame has been summarised."""
        return self.covered >= self.frames

    def peak(self) -> float:
        """Largest absolute sample value seen so far (at least a tiny positive number)."""
        top = self.levels[-1]
        return float(max(np.abs(top).max(initial=0.0), 1e-6))

    def build(self, cancel=None) -> Generator[int, None, PeakPyramid]:
        """Fill the pyramid; yields frames covered after each block, returns self.

        Long files first get a sketch of the coarse levels (a short chunk read in every bin), so
        the whole-file overview can be drawn at once; the exact pass then overwrites it in order.
        `cancel` is an object with a `cancelled` attribute, checked between blocks.
        """
        with sf.SoundFile(self.path) as f:
            if self.frames >= SKETCH_MIN_FRAMES and f.seekable():
                self._sketch(f, cancel)
                yield 0
                f.seek(0)
            start = 0
            while start < self.frames:
                if cancel is not None and getattr(cancel, "cancelled", False):
                    return self
                block = f.read(BLOCK_FRAMES, dtype="float32", always_2d=True)
                if block.shape[0] == 0:
                    break
                self._add_block(start, block.T)
                start += block.shape[0]
                self.covered = start
                yield start
        self.covered = self.frames
        return self

    def _sketch(self, f: sf.SoundFile, cancel) -> None:
        """Approximate the coarse levels from one short chunk per SKETCH_LEVEL bin."""
        width = BASE * FACTOR**SKETCH_LEVEL
        level = self.levels[SKETCH_LEVEL]
        for i in range(level.shape[1]):
            if i % 64 == 0 and cancel is not None and getattr(cancel, "cancelled", False):
                return
            centre = min(i * width + width // 2, self.frames - 1)
            f.seek(max(0, centre - SKETCH_CHUNK // 2))
            chunk = f.read(SKETCH_CHUNK, dtype="float32", always_2d=True)
            if chunk.shape[0]:
                level[:, i, 0] = chunk.min(axis=0)
                level[:, i, 1] = chunk.max(axis=0)
        for lv in range(SKETCH_LEVEL + 1, LEVELS):
            below = self.levels[lv - 1]
            k = self.levels[lv].shape[1]
            need = k * FACTOR
            if below.shape[1] < need:
                below = np.concatenate(
                    [below, np.repeat(below[:, -1:], need - below.shape[1], axis=1)], axis=1
                )
            grouped = below[:, :need].reshape(self.channels, k, FACTOR, 2)
            self.levels[lv][..., 0] = grouped[..., 0].min(axis=2)
            self.levels[lv][..., 1] = grouped[..., 1].max(axis=2)
        self.sketched = True

    def _add_block(self, start: int, block: np.ndarray) -> None:
        """Summarise `block` [C, n] starting at frame `start` (a multiple of BLOCK_FRAMES)."""
        c, n = block.shape
        b0 = start // BASE
        nb = math.ceil(n / BASE)
        pad = nb * BASE - n
        if pad:
            # Repeat the last sample so padding never widens the min/max.
            block = np.concatenate([block, np.repeat(block[:, -1:], pad, axis=1)], axis=1)
        grouped = block.reshape(c, nb, BASE)
        lvl = self.levels[0]
        lvl[:, b0 : b0 + nb, 0] = grouped.min(axis=2)
        lvl[:, b0 : b0 + nb, 1] = grouped.max(axis=2)
        for level in range(1, LEVELS):
            below = self.levels[level - 1]
            lo = b0 // FACTOR ** (level - 1)
            hi = lo + math.ceil(nb / FACTOR ** (level - 1))
            src = below[:, lo:hi]
            k = math.ceil(src.shape[1] / FACTOR)
            if src.shape[1] < k * FACTOR:
                edge = np.repeat(src[:, -1:], k * FACTOR - src.shape[1], axis=1)
                src = np.concatenate([src, edge], axis=1)
            src = src.reshape(c, k, FACTOR, 2)
            dst0 = lo // FACTOR
            self.levels[level][:, dst0 : dst0 + k, 0] = src[..., 0].min(axis=2)
            self.levels[level][:, dst0 : dst0 + k, 1] = src[..., 1].max(axis=2)

    def level_for(self, frames_per_pixel: float) -> int:
        """The coarsest level whose bins are no wider than one pixel (-1: read raw samples)."""
        if frames_per_pixel < BASE:
            return -1
        level = int(math.floor(math.log(frames_per_pixel / BASE, FACTOR)))
        return min(level, LEVELS - 1)

    def view(self, t0: float, t1: float, pixels: int, channel: int = 0) -> View:
        """Min/max per pixel column of `channel` between t0 and t1 seconds.

        Only the covered part is returned; zoomed in past `BASE` frames per pixel the samples
        themselves are read from the file (a few hundred thousand at most).
        """
        if not 0 <= channel < self.channels:
            raise ValueError(f"channel must be in [0, {self.channels}), got {channel}")
        pixels = max(1, int(pixels))
        f0 = max(0, int(t0 * self.rate))
        f1 = min(self.frames, int(math.ceil(t1 * self.rate)))
        empty = np.zeros(0, np.float32)
        if f1 <= f0:
            return View(empty, empty, empty)
        level = self.level_for((f1 - f0) / pixels)
        if level < 0:
            return self._raw_view(f0, f1, pixels, channel)
        if f1 > self.covered:
            if self.sketched and level >= 2:
                # Until the exact pass gets there, the sketch stands in (coarser columns).
                level = max(level, SKETCH_LEVEL)
            else:
                f1 = self.covered
                if f1 <= f0:
                    return View(empty, empty, empty)
        width = BASE * FACTOR**level
        i0, i1 = f0 // width, math.ceil(f1 / width)
        data = self.levels[level][channel, i0:i1]
        group = max(1, math.ceil(data.shape[0] / pixels))
        n = math.ceil(data.shape[0] / group)
        if n * group > data.shape[0]:
            data = np.concatenate([data, np.repeat(data[-1:], n * group - data.shape[0], 0)])
        data = data.reshape(n, group, 2)
        times = (i0 * width + (np.arange(n) + 0.5) * group * width) / self.rate
        return View(times, data[:, :, 0].min(axis=1), data[:, :, 1].max(axis=1))

    def _raw_view(self, f0: int, f1: int, pixels: int, channel: int) -> View:
        with sf.SoundFile(self.path) as f:
            f.seek(f0)
            x = f.read(f1 - f0, dtype="float32", always_2d=True)[:, channel]
        if x.shape[0] <= pixels:
            times = (f0 + np.arange(x.shape[0])) / self.rate
            return View(times, x, x)
        group = math.ceil(x.shape[0] / pixels)
        n = math.ceil(x.shape[0] / group)
        x = np.concatenate([x, np.repeat(x[-1:], n * group - x.shape[0])]).reshape(n, group)
        times = (f0 + (np.arange(n) + 0.5) * group) / self.rate
        return View(times, x.min(axis=1), x.max(axis=1))

    def nbytes(self) -> int:
        """Memory held by the pyramid."""
        return sum(level.nbytes for level in self.levels)
