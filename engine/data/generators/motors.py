"""Motor-driven classes: Blender, HairDryer, MechanicalFans, VacuumCleaner.

Each is a motor tone (harmonics of a drifting rotation frequency) plus coloured, band-shaped air
noise, amplitude-modulated at the blade-pass rate, with spin-up/down ramps. Blenders are pulsed
and load-dependent; vacuums whine high with suction changes; dryers are dominated by broadband
air flow; fans are low, steady and strongly blade-modulated.
"""

from __future__ import annotations

import numpy as np

from .params import draw
from .primitives import (
    bandpass,
    coloured_noise,
    drift,
    harmonic_tone,
    lowpass,
    n_samples,
    phase_of,
)


def _spin(n: int, up: float, down: float) -> np.ndarray:
    """Rotation-speed profile in [0, 1]: exponential spin-up then spin-down (times in s)."""
    t = np.arange(n) / 32000.0
    dur = n / 32000.0
    s = 1 - np.exp(-t / max(up, 1e-3))
    s *= np.clip(1 - np.exp(-(dur - t) / max(down, 1e-3)), 0, 1)
    return s


def _motor(
    rng: np.random.Generator,
    n: int,
    f_rot: float,
    speed: np.ndarray,
    n_harm: int,
    rolloff: float,
    noise_slope: float,
    noise_band: tuple[float, float],
    tone_db: float,
    blades: int,
    am_depth: float,
) -> np.ndarray:
    freq = f_rot * speed * drift(rng, n, 0.01, 1.5)
    k = np.arange(1, n_harm + 1)
    amps = k ** (-rolloff) * rng.uniform(0.3, 1.0, n_harm)
    tone = harmonic_tone(freq, n, amps, rng)
    tone /= np.sqrt(np.mean(tone**2)) + 1e-12
    noise = bandpass(coloured_noise(rng, n, noise_slope), *noise_band)
    noise /= np.sqrt(np.mean(noise**2)) + 1e-12
    # Impeller blades modulate the air noise at a sub-multiple of the rotation rate.
    bpf = np.sin(phase_of(freq * blades / 8, n))
    am = 1 + am_depth * bpf
    g = 10 ** (tone_db / 20)
    return (g * tone + noise * am) * np.clip(speed, 0, 1)


def hair_dryer(rng: np.random.Generator, split: str, duration: float) -> np.ndarray:
    """Air flow peaked in the mid band, a high motor whine, optional speed switch."""
    n = n_samples(duration)
    speed = _spin(n, rng.uniform(0.05, 0.3), rng.uniform(0.2, 0.8))
    if rng.random() < 0.4:
        cut = int(rng.uniform(0.3, 0.7) * n)
        speed[cut:] *= rng.uniform(0.6, 0.8)
    band = (draw(rng, 300, 1200, split, log=True), draw(rng, 3000, 9000, split, log=True))
    x = _motor(
        rng,
        n,
        draw(rng, 180, 450, split),
        speed,
        10,
        0.6,
        -2.0,
        band,
        draw(rng, -10, 0, split),
        2,
        0.05,
    )
    # The nozzle/heater grille adds a broad resonance that follows the motor speed.
    centre = draw(rng, 1500, 5000, split, log=True)
    return x + 1.2 * bandpass(x, centre * 0.7, centre * 1.4)


def mechanical_fans(rng: np.random.Generator, split: str, duration: float) -> np.ndarray:
    """Low hum and soft low-passed noise strongly modulated at the blade-pass rate."""
    n = n_samples(duration)
    speed = _spin(n, rng.uniform(0.5, 2.5), rng.uniform(1.0, 3.0))
    f_rot = draw(rng, 8, 30, split)
    band = (40.0, draw(rng, 800, 4000, split, log=True))
    noise = bandpass(coloured_noise(rng, n, -3.0), *band)
    noise /= np.sqrt(np.mean(noise**2)) + 1e-12
    blades = int(rng.integers(3, 8))
    ph = phase_of(f_rot * blades * speed * drift(rng, n, 0.02, 0.5), n)
    am = 1 + draw(rng, 0.15, 0.6, split) * np.sin(ph)
    hum_f = draw(rng, 50, 160, split, log=True)
    hum = harmonic_tone(hum_f * np.ones(n), n, np.array([1, 0.5, 0.3, 0.15]), rng)
    hum /= np.sqrt(np.mean(hum**2)) + 1e-12
    return (noise * am + 10 ** (draw(rng, -25, -8, split) / 20) * hum) * speed


def vacuum_cleaner(rng: np.random.Generator, split: str, duration: float) -> np.ndarray:
    """High motor whine with a slow spin-up and suction changes over loud resonant air noise."""
    n = n_samples(duration)
    speed = _spin(n, rng.uniform(0.3, 1.5), rng.uniform(0.5, 1.5))
    speed *= drift(rng, n, draw(rng, 0.02, 0.12, split), 0.7)
    band = (draw(rng, 150, 500, split, log=True), draw(rng, 3000, 10000, split, log=True))
    x = _motor(
        rng,
        n,
        draw(rng, 350, 1100, split, log=True),
        speed,
        8,
        0.8,
        -2.0,
        band,
        draw(rng, -12, 0, split),
        1,
        0.02,
    )
    # A hose resonance.
    res = bandpass(x, *(lambda c: (c * 0.8, c * 1.25))(draw(rng, 500, 2500, split, log=True)))
    return x + 1.5 * res


def blender(rng: np.random.Generator, split: str, duration: float) -> np.ndarray:
    """Pulsed motor with a load-dependent, chaotic pitch and grinding crackle."""
    n = n_samples(duration)
    pulses = np.zeros(n)
    t = 0.0
    continuous = rng.random() < 0.3
    while t < duration:
        on = duration if continuous else draw(rng, 0.4, 2.5, split)
        a, b = n_samples(t), min(n, n_samples(t + on))
        pulses[a:b] = _spin(b - a, rng.uniform(0.05, 0.2), rng.uniform(0.1, 0.3))
        t += on + rng.uniform(0.2, 0.8)
    load = drift(rng, n, draw(rng, 0.05, 0.2, split), 8.0)
    speed = pulses * load
    band = (draw(rng, 200, 800, split, log=True), draw(rng, 3000, 9000, split, log=True))
    x = _motor(
        rng,
        n,
        draw(rng, 180, 550, split, log=True),
        speed,
        12,
        0.7,
        -1.5,
        band,
        draw(rng, -6, 6, split),
        2,
        0.1,
    )
    crackle = lowpass(rng.standard_normal(n) * (rng.random(n) < 0.002) * 8.0, 6000.0)
    return x + crackle * (pulses > 0.5)
