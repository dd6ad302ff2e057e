"""Pour: a bubble model (Minnaert-resonance chirps) over a stream noise with a filling cavity.

Each bubble rings at f = 3.26 / r (Hz, radius in m) with a slight upward chirp as it rises, and
decays in a few ms; the stream is band-limited noise whose resonance rises as the vessel fills.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from .params import draw
from .primitives import SR, adsr, bandpass, coloured_noise, n_samples, place


def _bubble(rng, freq: float) -> np.ndarray:
    tau = 0.0025 + 0.5 / freq
    m = n_samples(min(5 * tau, 0.05))
    t = np.arange(m) / SR
    f = freq * (1 + rng.uniform(0.5, 3.0) * t / max(tau, 1e-3) * 0.1)
    return np.sin(2 * np.pi * np.cumsum(f) / SR) * np.exp(-t / tau)


def pour(rng: np.random.Generator, split: str, duration: float) -> np.ndarray:
    """Liquid poured into a vessel: bubbles at 40-400/s plus a rising cavity resonance."""
    n = n_samples(duration)
    out = np.zeros(n)
    rate = draw(rng, 40, 400, split, log=True)
    r_lo = draw(rng, 0.8e-3, 2.5e-3, split)
    r_hi = r_lo * rng.uniform(2, 5)
    count = rng.poisson(rate * duration)
    times = rng.uniform(0, duration, count)
    radii = np.exp(rng.uniform(np.log(r_lo), np.log(r_hi), count))
    amps = rng.uniform(0.2, 1.0, count) * (radii / r_lo) ** 0.5
    for t, r, a in zip(times, radii, amps, strict=True):
        place(out, a * _bubble(rng, 3.26 / r), n_samples(t))
    out /= np.max(np.abs(out)) + 1e-12
    stream = bandpass(coloured_noise(rng, n, -2.0), 200, draw(rng, 2500, 6000, split, log=True))
    # Filling: a resonance sweeping up (lower cavity for a larger vessel).
    f_start = draw(rng, 200, 800, split, log=True)
    f_end = f_start * rng.uniform(1.5, 4.0)
    hop = 256
    _, _, spec = signal.stft(stream, SR, nperseg=512, noverlap=256)
    freqs = np.fft.rfftfreq(512, 1 / SR)
    centres = np.geomspace(f_start, f_end, spec.shape[1])
    env = 0.05 + 1.0 / (1 + ((freqs[:, None] - centres[None, :]) / (0.08 * centres[None, :])) ** 2)
    _, res = signal.istft(spec * env, SR, nperseg=512, noverlap=hop)
    res = np.pad(res, (0, max(0, n - len(res))))[:n]
    res /= np.max(np.abs(res)) + 1e-12
    mix = rng.uniform(0.55, 0.85)
    return (mix * out + (1 - mix) * res) * adsr(n, rng.uniform(0.05, 0.4), rng.uniform(0.1, 0.5))
