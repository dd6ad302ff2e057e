"""Signal building blocks shared by the generators: noise colours, envelopes, oscillators, modes.

All functions are vectorised numpy and return float64 mono arrays at SAMPLE_RATE unless stated.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.fft as sfft
from scipy import signal

from engine.constants import SAMPLE_RATE

SR = SAMPLE_RATE


def n_samples(seconds: float) -> int:
    """Number of samples in `seconds` (at least 1)."""
    return max(1, int(round(seconds * SR)))


def coloured_noise(rng: np.random.Generator, n: int, slope_db_oct: float = 0.0) -> np.ndarray:
    """Gaussian noise with a spectral slope in dB/octave (0 white, -3 pink, -6 brown), unit RMS."""
    nfft = sfft.next_fast_len(n, real=True)  # arbitrary lengths would make the FFT slow
    spec = rng.standard_normal(nfft // 2 + 1) + 1j * rng.standard_normal(nfft // 2 + 1)
    f = np.fft.rfftfreq(nfft, 1.0 / SR)
    f[0] = f[1] if nfft > 1 else 1.0
    spec *= (f / 1000.0) ** (slope_db_oct / 6.0206)
    x = sfft.irfft(spec, nfft)[:n]
    return x / (np.sqrt(np.mean(x**2)) + 1e-12)


@lru_cache(maxsize=4096)
def _butter(order: int, cutoffs: tuple[float, ...], btype: str) -> np.ndarray:
    # Cut-offs are rounded to 0.5 % steps so designs are reused (design dominates short hits).
    wn = cutoffs[0] if len(cutoffs) == 1 else list(cutoffs)
    return signal.butter(order, wn, btype=btype, fs=SR, output="sos")


def _q(f: float) -> float:
    """Round a frequency to a 0.5 % grid (a cache key for filter designs)."""
    return float(np.exp(np.round(np.log(f) / 0.005) * 0.005))


def bandpass(x: np.ndarray, lo: float, hi: float, order: int = 2) -> np.ndarray:
    """Butterworth band-pass (cut-offs clipped to the valid range)."""
    nyq = SR / 2
    lo = float(np.clip(lo, 10.0, nyq * 0.95))
    hi = float(np.clip(hi, lo * 1.05, nyq * 0.98))
    return signal.sosfilt(_butter(order, (_q(lo), min(_q(hi), nyq * 0.98)), "band"), x)


def lowpass(x: np.ndarray, cutoff: float, order: int = 4) -> np.ndarray:
    """Butterworth low-pass along the last axis; a cut-off above 0.95 Nyquist is a no-op."""
    if cutoff >= 0.95 * SR / 2:
        return x
    return signal.sosfilt(_butter(order, (_q(max(cutoff, 50.0)),), "low"), x, axis=-1)


def highpass(x: np.ndarray, cutoff: float, order: int = 2) -> np.ndarray:
    """Butterworth high-pass along the last axis."""
    return signal.sosfilt(_butter(order, (_q(max(cutoff, 5.0)),), "high"), x, axis=-1)


def adsr(n: int, attack: float, release: float, sustain_shape: float = 0.0) -> np.ndarray:
    """Attack/release envelope over n samples (times in seconds; sustain may slope down)."""
    t = np.arange(n) / SR
    dur = n / SR
    env = np.ones(n)
    a = max(attack, 1e-4)
    r = max(min(release, dur / 2), 1e-4)
    env *= np.clip(t / a, 0, 1)
    env *= np.clip((dur - t) / r, 0, 1)
    if sustain_shape:
        env *= np.exp(-sustain_shape * t)
    return env


def decay_env(n: int, tau: float) -> np.ndarray:
    """Exponential decay exp(-t / tau) over n samples."""
    return np.exp(-np.arange(n) / (SR * max(tau, 1e-4)))


def phase_of(freq: np.ndarray | float, n: int) -> np.ndarray:
    """Instantaneous phase (radians) of a (possibly time-varying) frequency in Hz."""
    f = np.broadcast_to(np.asarray(freq, dtype=float), (n,))
    return 2 * np.pi * np.cumsum(f) / SR


def drift(rng: np.random.Generator, n: int, depth: float, rate_hz: float) -> np.ndarray:
    """Smooth random relative drift (1 +/- depth) varying at about rate_hz."""
    k = max(2, int(n / SR * rate_hz) + 2)
    pts = rng.uniform(-1, 1, k)
    return 1.0 + depth * np.interp(np.linspace(0, k - 1, n), np.arange(k), pts)


def harmonic_tone(
    freq: np.ndarray | float, n: int, amps: np.ndarray, rng: np.random.Generator | None = None
) -> np.ndarray:
    """Sum of harmonics k*freq with amplitudes `amps` (aliasing harmonics are dropped)."""
    ph = phase_of(freq, n)
    fmax = float(np.max(freq))
    out = np.zeros(n)
    # e^{i k phi} by repeated complex multiplication: ~3x cheaper than one sin per harmonic.
    z = np.exp(1j * ph)
    e = np.ones(n, dtype=complex)
    for k, a in enumerate(amps, start=1):
        if k * fmax >= SR / 2 * 0.95:
            break
        e *= z
        if a == 0:
            continue
        off = 0.0 if rng is None else rng.uniform(0, 2 * np.pi)
        out += a * (e.imag * np.cos(off) + e.real * np.sin(off))
    return out


def modal(
    freqs: np.ndarray, taus: np.ndarray, amps: np.ndarray, n: int, rng: np.random.Generator
) -> np.ndarray:
    """Modal synthesis: damped sinusoids (freq Hz, decay tau s, amplitude) struck at t=0."""
    keep = freqs < SR / 2 * 0.95
    f, tau, a = freqs[keep], taus[keep], amps[keep]
    ph = rng.uniform(0, 2 * np.pi, len(f))
    out = np.zeros(n)
    # Each mode is computed only until it has decayed by 80 dB (high modes die fast).
    for fk, tk, ak, pk in zip(f, tau, a, ph, strict=True):
        m = min(n, int(9.2 * tk * SR) + 1)
        # A r^t sin(w t + p) is the impulse response of a two-pole resonator: a C loop instead
        # of one exp and one sin per sample.
        r = np.exp(-1.0 / (tk * SR))
        w = 2 * np.pi * fk / SR
        b = [ak * np.sin(pk), ak * r * np.sin(w - pk)]
        impulse = np.zeros(m)
        impulse[0] = 1.0
        out[:m] += signal.lfilter(b, [1.0, -2 * r * np.cos(w), r * r], impulse)
    return out


def place(out: np.ndarray, x: np.ndarray, start: int, gain: float = 1.0) -> None:
    """Add `x * gain` into `out` at sample `start`, clipped to the buffer."""
    if start >= len(out) or start + len(x) <= 0:
        return
    a = max(start, 0)
    b = min(start + len(x), len(out))
    out[a:b] += gain * x[a - start : b - start]


def peak_normalise(x: np.ndarray) -> np.ndarray:
    """Scale to peak 1 (float32); silence stays silence."""
    p = float(np.max(np.abs(x))) if x.size else 0.0
    return (x / p if p > 0 else x).astype(np.float32)


def rhythm_onsets(
    rng: np.random.Generator, duration: float, rate_hz: float, jitter: float, start: float = 0.05
) -> np.ndarray:
    """Onset times (s) of a quasi-periodic sequence at rate_hz with relative timing jitter."""
    period = 1.0 / rate_hz
    times = []
    t = start
    while t < duration - 0.05:
        times.append(t)
        t += period * (1 + jitter * rng.standard_normal())
        t = max(t, times[-1] + 0.2 * period)
    return np.asarray(times)
