"""Interference: sounds of other classes (birds, insects, engines, power tools, plucked and bowed
strings, wind instruments, sirens, barks, water drips). Never target classes, no keyboard tones."""

from __future__ import annotations

import numpy as np

from .params import draw
from .primitives import (
    SR,
    adsr,
    bandpass,
    coloured_noise,
    decay_env,
    drift,
    harmonic_tone,
    lowpass,
    modal,
    n_samples,
    phase_of,
    place,
)


def bird(rng, split: str, duration: float) -> np.ndarray:
    """Song birds: FM chirps and trills at 2-8 kHz."""
    n = n_samples(duration)
    out = np.zeros(n)
    t = rng.uniform(0, 0.3)
    base = draw(rng, 2000, 6000, split, log=True)
    while t < duration - 0.1:
        m = n_samples(rng.uniform(0.03, 0.2))
        sweep = base * np.geomspace(rng.uniform(0.7, 1.3), rng.uniform(0.7, 1.5), m)
        sweep *= 1 + 0.05 * np.sin(phase_of(rng.uniform(20, 60), m))
        place(out, np.sin(phase_of(sweep, m)) * np.hanning(m), n_samples(t))
        t += rng.exponential(0.12) + m / SR
    return out


def insect(rng, split: str, duration: float) -> np.ndarray:
    """Crickets: pulsed high tones."""
    n = n_samples(duration)
    tone = np.sin(phase_of(draw(rng, 3500, 7000, split), n))
    gate = (np.sin(phase_of(rng.uniform(20, 60), n)) > 0).astype(float)
    slow = (np.sin(phase_of(rng.uniform(0.5, 3), n)) > -0.2).astype(float)
    return tone * lowpass(gate * slow, 400.0)


def engine(rng, split: str, duration: float) -> np.ndarray:
    """Combustion engine / car pass-by: low firing harmonics and rumble."""
    n = n_samples(duration)
    f = draw(rng, 20, 80, split) * drift(rng, n, 0.2, 0.3)
    tone = harmonic_tone(f, n, 1 / np.arange(1, 30) ** 0.7, rng)
    rumble = lowpass(coloured_noise(rng, n, -4.0), 2000)
    env = np.exp(-(((np.arange(n) / n) - rng.uniform(0.2, 0.8)) ** 2) / rng.uniform(0.02, 0.3))
    return (tone / np.std(tone) + rumble) * env


def power_tool(rng, split: str, duration: float) -> np.ndarray:
    """Drill / grinder: very high whine with hammering and gated triggers."""
    n = n_samples(duration)
    f = draw(rng, 300, 800, split) * drift(rng, n, 0.03, 3)
    tone = harmonic_tone(f, n, np.array([1, 0.7, 0.5, 0.4, 0.3, 0.2]), rng)
    hammer = 1 + 0.5 * np.sign(np.sin(phase_of(rng.uniform(20, 50), n)))
    gate = (drift(rng, n, 1.0, 1.0) > 0.8).astype(float)
    gate = np.convolve(gate, np.ones(800) / 800, mode="same")
    noise = bandpass(coloured_noise(rng, n, 0), 2000, 9000)
    return (tone / np.std(tone) + 0.5 * noise) * hammer * gate


def plucked_string(rng, split: str, duration: float) -> np.ndarray:
    """Guitar/harp-like plucks: harmonic modes, higher ones decaying faster."""
    n = n_samples(duration)
    out = np.zeros(n)
    t = 0.02
    k = np.arange(1, 21)
    while t < duration - 0.1:
        f0 = 440 * 2 ** ((rng.integers(40, 76) - 69) / 12)
        m = n_samples(rng.uniform(0.5, 2.0))
        pos = rng.uniform(0.1, 0.3)  # pluck position along the string
        amps = np.abs(np.sin(np.pi * k * pos)) / k
        x = modal(f0 * k, rng.uniform(0.4, 1.5) / k**0.8, amps, m, rng)
        place(out, x, n_samples(t))
        t += rng.uniform(0.15, 0.8)
    return out


def bowed_or_blown(rng, split: str, duration: float) -> np.ndarray:
    """Violin / flute-like sustained notes with vibrato and breath noise."""
    n = n_samples(duration)
    out = np.zeros(n)
    t = 0.0
    bowed = rng.random() < 0.5
    while t < duration - 0.2:
        m = n_samples(rng.uniform(0.3, 1.5))
        f0 = 440 * 2 ** ((rng.integers(55, 90) - 69) / 12)
        vib = f0 * (1 + 0.006 * np.sin(phase_of(rng.uniform(4.5, 6.5), m)))
        k = np.arange(1, 16)
        amps = 1 / k if bowed else np.exp(-k)
        x = harmonic_tone(vib, m, amps, rng)
        x += (0.01 if bowed else 0.04) * bandpass(rng.standard_normal(m), f0, 8 * f0)
        place(out, x * adsr(m, 0.06, 0.08), n_samples(t))
        t += m / SR + rng.uniform(0, 0.2)
    return out


def siren(rng, split: str, duration: float) -> np.ndarray:
    """Distant siren: slow wail or hi-lo between two pitches."""
    n = n_samples(duration)
    lo = draw(rng, 500, 900, split)
    if rng.random() < 0.5:
        f = lo * (1 + 0.6 * (0.5 + 0.5 * np.sin(phase_of(rng.uniform(0.15, 0.5), n))))
    else:
        f = lo * np.where(np.sin(phase_of(rng.uniform(0.3, 1.0), n)) > 0, 1.0, 1.33)
    return harmonic_tone(f, n, np.array([1, 0.4, 0.2]), rng)


def bark(rng, split: str, duration: float) -> np.ndarray:
    """Dog barks: short voiced bursts with a strong pitch fall."""
    n = n_samples(duration)
    out = np.zeros(n)
    t = rng.uniform(0, 0.3)
    f0 = draw(rng, 250, 700, split, log=True)
    while t < duration - 0.2:
        m = n_samples(rng.uniform(0.1, 0.25))
        f = f0 * np.geomspace(1.3, 0.8, m)
        x = harmonic_tone(f, m, 1 / np.arange(1, 12), rng) * decay_env(m, 0.06)
        x += 0.3 * bandpass(rng.standard_normal(m), 500, 3000) * decay_env(m, 0.03)
        place(out, x, n_samples(t))
        t += rng.uniform(0.2, 1.2)
    return out


def drips(rng, split: str, duration: float) -> np.ndarray:
    """Water drips: sparse, high resonant plinks."""
    n = n_samples(duration)
    out = np.zeros(n)
    rate = draw(rng, 1, 8, split)
    for t in np.sort(rng.uniform(0, duration, rng.poisson(rate * duration) + 1)):
        m = n_samples(0.05)
        f = rng.uniform(800, 3000) * np.geomspace(1, 1.8, m)
        place(out, np.sin(phase_of(f, m)) * decay_env(m, 0.01), n_samples(t))
    return out


INTERFERENCE = {
    "Bird": bird,
    "Insect": insect,
    "Engine": engine,
    "PowerTool": power_tool,
    "PluckedString": plucked_string,
    "BowedOrBlown": bowed_or_blown,
    "Siren": siren,
    "Bark": bark,
    "Drips": drips,
}
