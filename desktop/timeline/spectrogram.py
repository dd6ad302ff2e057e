"""Spectrogram of the visible stretch: computed per view (bounded work at any zoom) in a worker.

Each image column averages the power of a few Hann-windowed frames read at its time position,
so one screen of an hour-long file costs the same as one screen of a ten-second file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
import soundfile as sf

N_FFT = 1024
FRAMES_PER_COLUMN = 3
FLOOR_DB = -100.0
ROWS = 256
MIN_HZ = 40.0
CONTIGUOUS_MAX = 4 * 1024 * 1024
"""Views up to this many frames are read in one go; longer ones seek to each column."""


@dataclass
class Spectrogram:
    """Power in dB, `[columns, ROWS]`, for t0..t1 seconds; rows log-spaced min_hz..max_hz."""

    db: np.ndarray
    t0: float
    t1: float
    min_hz: float
    max_hz: float


def compute(
    path: str, t0: float, t1: float, columns: int, channel: int = 0, n_fft: int = N_FFT
) -> Spectrogram:
    """Spectrogram of `channel` of `path` between t0 and t1 seconds, `columns` wide."""
    if t1 <= t0:
        raise ValueError(f"need t1 > t0, got {t0}..{t1}")
    columns = max(2, int(columns))
    window = np.hanning(n_fft).astype(np.float32)
    with sf.SoundFile(path) as f:
        rate, frames = f.samplerate, f.frames
        channel = min(channel, f.channels - 1)
        f0, f1 = int(t0 * rate), min(frames, int(math.ceil(t1 * rate)))
        step = (f1 - f0) / columns
        power = np.zeros((columns, n_fft // 2 + 1), np.float32)
        contiguous = step * columns <= CONTIGUOUS_MAX
        if contiguous:
            # Short views: read the stretch once (plus one FFT of margin), slice frames from it.
            lo = max(0, f0 - n_fft // 2)
            f.seek(lo)
            span = f.read(f1 - lo + n_fft, dtype="float32", always_2d=True)[:, channel]
        for c in range(columns):
            for k in range(FRAMES_PER_COLUMN):
                centre = f0 + (c + (k + 0.5) / FRAMES_PER_COLUMN) * step
                start = int(centre) - n_fft // 2
                if contiguous:
                    a = start - lo
                    x = span[max(0, a) : max(0, a + n_fft)]
                else:
                    f.seek(min(max(0, start), frames))
                    x = f.read(n_fft, dtype="float32", always_2d=True)[:, channel]
                if x.shape[0] < n_fft:
                    x = np.pad(x, (0, n_fft - x.shape[0]))
                power[c] += np.abs(np.fft.rfft(x * window)) ** 2
    power = _log_rows(power / FRAMES_PER_COLUMN / (window.sum() ** 2), rate, n_fft)
    db = 10 * np.log10(power + 1e-12)
    return Spectrogram(np.maximum(db, FLOOR_DB).astype(np.float32), t0, t1, MIN_HZ, rate / 2)


def _log_rows(power: np.ndarray, rate: int, n_fft: int) -> np.ndarray:
    """Resample `[columns, bins]` linear-frequency power onto ROWS log-spaced frequencies.

    Field recordings carry most of their structure below a few kHz; a log axis shows it.
    """
    freqs = np.fft.rfftfreq(n_fft, 1.0 / rate)
    target = np.geomspace(MIN_HZ, rate / 2, ROWS)
    pos = np.interp(target, freqs, np.arange(freqs.shape[0]))
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, freqs.shape[0] - 1)
    frac = (pos - lo).astype(np.float32)
    return power[:, lo] * (1 - frac) + power[:, hi] * frac


class SpectrogramItem(pg.ImageItem):
    """Image of a `Spectrogram` stretched over its time range and the lane's height (0..1)."""

    def __init__(self):
        super().__init__(axisOrder="col-major")
        self.setColorMap(pg.colormap.get("inferno"))
        self.setZValue(-5)

    def show_spectrogram(self, spec: Spectrogram, top_db: float | None = None) -> None:
        """Display `spec` (levels: 80 dB below the loudest bin)."""
        top = float(spec.db.max()) if top_db is None else top_db
        self.setImage(spec.db, levels=(top - 80.0, top), autoLevels=False)
        self.setRect(spec.t0, 0.0, spec.t1 - spec.t0, 1.0)


def frequency_position(hz: float, max_hz: float, min_hz: float = MIN_HZ) -> float:
    """Height (0..1) of `hz` on the spectrogram's log frequency axis."""
    return float(np.log(hz / min_hz) / np.log(max_hz / min_hz))
