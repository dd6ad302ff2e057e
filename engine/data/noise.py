"""Background noise: 4-channel FOA diffuse ambience with coloured spectra and per-bin coherence.

Built in the frequency domain over the whole clip: a coloured spectrum (random slope and bumps)
drives (a) an isotropic diffuse part, whose W/Y/Z/X components are mutually incoherent with
Y/Z/X at 1/3 of W's power, and (b) 1-3 distant directional components encoded in FOA. The mix
weight of the directional part falls with frequency, so inter-channel coherence is high at low
frequencies (large wavelengths) and low at high frequencies, as in real rooms and streets.
Some kinds add texture: hum harmonics, rain crackle, wind gusts, distant babble-like murmur.
"""

from __future__ import annotations

import numpy as np
import scipy.fft as sfft

from engine.constants import SAMPLE_RATE

KINDS = ("room_tone", "traffic", "hvac", "rain", "wind", "murmur")


def _foa_gains(azimuth: float, elevation: float) -> np.ndarray:
    """First-order encoding gains (W, Y, Z, X) of a plane wave."""
    ce = np.cos(elevation)
    return np.array([1.0, np.sin(azimuth) * ce, np.sin(elevation), np.cos(azimuth) * ce])


def _spectrum(rng: np.random.Generator, f: np.ndarray, kind: str) -> np.ndarray:
    slope = {"traffic": -5.0, "wind": -7.0, "rain": -1.0, "hvac": -3.0}.get(kind, -3.5)
    slope += rng.uniform(-1.5, 1.5)
    ff = np.maximum(f, 20.0)
    mag = (ff / 1000.0) ** (slope / 6.0206)
    for _ in range(int(rng.integers(0, 4))):
        c = np.exp(rng.uniform(np.log(100), np.log(6000)))
        mag *= 1 + rng.uniform(0.5, 3.0) * np.exp(
            -0.5 * (np.log(ff / c) / rng.uniform(0.1, 0.5)) ** 2
        )
    mag *= 1 / (1 + (rng.uniform(20, 80) / ff) ** 4)  # no DC / infrasound
    return mag


def background_noise(
    rng: np.random.Generator, n: int, kind: str | None = None
) -> tuple[np.ndarray, str]:
    """`([4, n] float32 FOA noise, kind)`; unit mean square over channels and samples."""
    kind = kind or KINDS[int(rng.integers(len(KINDS)))]
    if kind not in KINDS:
        raise ValueError(f"noise kind must be one of {', '.join(KINDS)}, got {kind!r}")
    nf = n // 2 + 1
    f = np.fft.rfftfreq(n, 1.0 / SAMPLE_RATE)
    mag = _spectrum(rng, f, kind)
    mag = mag.astype(np.float32)
    # complex64 halves the cost of building the spectra; the result is float32 anyway.
    spec = rng.standard_normal((4, nf), dtype=np.float32) + 1j * rng.standard_normal(
        (4, nf), dtype=np.float32
    )
    spec[1:] /= np.sqrt(3.0)
    coh_f = np.exp(rng.uniform(np.log(150), np.log(1500)))
    w_dir = (rng.uniform(0.3, 0.9) / (1 + f / coh_f)).astype(np.float32)
    n_dir = int(rng.integers(1, 4))
    spec *= mag * np.sqrt(1 - 0.5 * w_dir**2) ** n_dir
    for _ in range(n_dir):
        g = _foa_gains(rng.uniform(-np.pi, np.pi), rng.uniform(-0.3, 0.5)).astype(np.float32)
        src = rng.standard_normal(nf, dtype=np.float32) + 1j * rng.standard_normal(
            nf, dtype=np.float32
        )
        src *= mag * w_dir
        spec += g[:, None] * src
    x = sfft.irfft(spec, n, axis=1)
    t = np.arange(n) / SAMPLE_RATE
    if kind == "hvac" or (kind == "room_tone" and rng.random() < 0.5):
        hum_f = rng.choice([50.0, 60.0]) * rng.choice([1, 2])
        hum = sum(np.sin(2 * np.pi * k * hum_f * t + rng.uniform(0, 6)) / k for k in range(1, 5))
        x[0] += hum * rng.uniform(0.1, 0.5) * np.std(x[0])
    elif kind == "rain":
        drops = (rng.random(n) < rng.uniform(0.002, 0.02)) * rng.standard_normal(n)
        drops = np.convolve(drops, np.exp(-np.arange(64) / 6), mode="same")
        enc = np.stack([_foa_gains(a, 0.3) for a in rng.uniform(-np.pi, np.pi, 4)])
        part = np.array_split(np.arange(n), 4)
        for e, idx in zip(enc, part, strict=True):
            x[:, idx] += e[:, None] * drops[idx] * np.std(x[0]) * 2
    elif kind == "wind":
        gust = np.interp(t, np.linspace(0, t[-1], 12), rng.uniform(0.3, 1.5, 12))
        x *= gust
    elif kind == "traffic":
        swell = np.interp(t, np.linspace(0, t[-1], 6), rng.uniform(0.5, 1.5, 6))
        x *= swell
    x /= np.sqrt(np.mean(x**2)) + 1e-12
    return x.astype(np.float32), kind
