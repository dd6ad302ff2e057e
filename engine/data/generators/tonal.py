"""Tonal classes: AlarmClock, BicycleBell, Buzzer, Doorbell, MusicalKeyboard.

Bells and chimes use modal synthesis (inharmonic damped partials); alarms are beep patterns or a
rapidly re-struck bell; buzzers are gated sawtooth/square waves; keyboards are additive pianos,
organs and FM electric pianos playing short melodies and chords.
"""

from __future__ import annotations

import numpy as np

from .params import draw, draw_int
from .primitives import (
    SR,
    adsr,
    decay_env,
    drift,
    harmonic_tone,
    modal,
    n_samples,
    phase_of,
    place,
)


def _bell_strike(rng: np.random.Generator, f0: float, tau: float, n: int, ratios) -> np.ndarray:
    ratios = np.asarray(ratios) * (1 + 0.01 * rng.standard_normal(len(ratios)))
    freqs = f0 * ratios
    amps = rng.uniform(0.3, 1.0, len(ratios)) / np.sqrt(np.arange(1, len(ratios) + 1))
    taus = tau / ratios**0.5 * rng.uniform(0.7, 1.3, len(ratios))
    x = modal(freqs, taus, amps, n, rng)
    # A short metallic click at the strike.
    click = rng.standard_normal(min(n, 64)) * np.exp(-np.arange(min(n, 64)) / 8)
    x[: len(click)] += 0.3 * click
    return x


def alarm_clock(rng: np.random.Generator, split: str, duration: float) -> np.ndarray:
    """Digital beep patterns or a mechanical bell hammered at 12-30 Hz."""
    n = n_samples(duration)
    out = np.zeros(n)
    if rng.random() < 0.65:
        freq = draw(rng, 900, 4200, split, log=True)
        beep = draw(rng, 0.04, 0.25, split)
        gap = beep * rng.uniform(0.5, 1.5)
        group = int(rng.integers(1, 5))
        period = group * (beep + gap) + draw(rng, 0.15, 0.9, split)
        square = rng.random() < 0.5
        m = n_samples(beep)
        ph = phase_of(freq, m)
        tone = np.sign(np.sin(ph)) * 0.5 if square else np.sin(ph) + 0.2 * np.sin(3 * ph)
        tone *= adsr(m, 0.003, 0.005)
        t = rng.uniform(0, 0.2)
        while t < duration:
            for k in range(group):
                place(out, tone, n_samples(t + k * (beep + gap)))
            t += period
    else:
        f0 = draw(rng, 1500, 4500, split, log=True)
        rate = draw(rng, 12, 30, split)
        strike = _bell_strike(rng, f0, 0.15, n_samples(0.4), [1, 2.32, 4.25, 6.63])
        on = rng.uniform(0.8, 3.0)
        off = rng.uniform(0.2, 0.8)
        t = 0.0
        while t < duration:
            for k in range(int(on * rate)):
                place(out, strike * rng.uniform(0.6, 1), n_samples(t + k / rate))
            t += on + off
    return out


def bicycle_bell(rng: np.random.Generator, split: str, duration: float) -> np.ndarray:
    """A thumb bell: single dings or a rapid ring-ring of a high inharmonic bell."""
    n = n_samples(duration)
    f0 = draw(rng, 1800, 4500, split, log=True)
    tau = draw(rng, 0.25, 1.2, split)
    ratios = [1.0, rng.uniform(1.45, 1.65), rng.uniform(2.3, 2.8), rng.uniform(3.6, 4.4)]
    strike = _bell_strike(rng, f0, tau, n_samples(min(duration, 6 * tau)), ratios)
    out = np.zeros(n)
    t = rng.uniform(0, 0.1)
    while t < duration - 0.1:
        if rng.random() < 0.5:
            k = int(rng.integers(4, 12))
            rate = rng.uniform(12, 22)
            for i in range(k):
                place(out, strike * rng.uniform(0.5, 1.0), n_samples(t + i / rate))
            t += k / rate + rng.uniform(0.3, 1.5)
        else:
            place(out, strike, n_samples(t))
            t += rng.uniform(0.3, 1.2)
    return out


def buzzer(rng: np.random.Generator, split: str, duration: float) -> np.ndarray:
    """Gated sawtooth/square buzz (40-900 Hz) with rattle, continuous or in bursts."""
    n = n_samples(duration)
    f0 = draw(rng, 40, 900, split, log=True)
    freq = f0 * drift(rng, n, 0.01, 2)
    k = np.arange(1, 60)
    amps = 1 / k if rng.random() < 0.5 else np.where(k % 2 == 1, 1 / k, 0)
    tone = harmonic_tone(freq, n, amps)
    rattle = 1 + 0.3 * np.sin(phase_of(f0 / rng.integers(2, 5), n))
    gate = np.zeros(n)
    if rng.random() < 0.5:
        gate[:] = 1
    else:
        on = draw(rng, 0.15, 1.2, split)
        off = rng.uniform(0.1, 0.8)
        t = 0.0
        while t < duration:
            gate[n_samples(t) : n_samples(t + on)] = 1
            t += on + off
    gate = np.convolve(gate, np.ones(64) / 64, mode="same")
    return np.tanh(2 * tone * rattle) * gate


_CHIME = [1.0, 2.76, 5.40, 8.93]  # free bar (tubular chime) partials
_TUBE = [1.0, 2.0, 3.0, 4.2, 5.4]


def doorbell(rng: np.random.Generator, split: str, duration: float) -> np.ndarray:
    """Ding-dong (two chime notes), a 4-note Westminster chime, or an electronic two-tone."""
    n = n_samples(duration)
    out = np.zeros(n)
    base = draw(rng, 350, 1300, split, log=True)
    kind = rng.integers(3)
    if kind == 0:
        notes = [1.0, 2 ** (-4 / 12)] if rng.random() < 0.7 else [1.0, 2 ** (-3 / 12)]
    elif kind == 1:
        notes = [2 ** (s / 12) for s in (4, 0, 2, -5)]
    else:
        notes = [1.0, 2 ** (-4 / 12)]
    gap = draw(rng, 0.3, 0.8, split)
    tau = draw(rng, 0.6, 2.5, split)
    t = rng.uniform(0, 0.1)
    while t < duration - 0.2:
        for i, r in enumerate(notes):
            start = t + i * gap
            if start >= duration:
                break
            m = n_samples(min(duration - start, 5 * tau if kind < 2 else gap * rng.uniform(0.9, 2)))
            if kind == 2:
                ph = phase_of(base * r, m)
                note = (np.sin(ph) + 0.3 * np.sin(2 * ph) + 0.1 * np.sin(3 * ph)) * adsr(
                    m, 0.005, 0.05, 1 / tau
                )
            else:
                note = _bell_strike(rng, base * r, tau, m, _CHIME if rng.random() < 0.6 else _TUBE)
            place(out, note, n_samples(start))
        t += len(notes) * gap + rng.uniform(1.0, 4.0)
    return out


def _piano_note(rng, f0: float, m: int, velocity: float) -> np.ndarray:
    k = np.arange(1, 25)
    b = rng.uniform(1e-4, 6e-4)
    freqs = f0 * k * np.sqrt(1 + b * k**2)
    amps = velocity * np.abs(np.sin(np.pi * k * rng.uniform(0.1, 0.15))) / k ** (2.2 - velocity)
    taus = rng.uniform(0.8, 2.5) * (261.0 / f0) ** 0.5 / k**0.6
    x = modal(freqs, taus, amps, m, rng)
    return x * adsr(m, 0.002, 0.08)


def _organ_note(rng, f0: float, m: int, velocity: float) -> np.ndarray:
    drawbars = rng.uniform(0, 1, 6) * np.array([1, 1, 0.8, 0.6, 0.4, 0.3])
    x = harmonic_tone(
        f0 * np.ones(m),
        m,
        np.array(
            [drawbars[0], drawbars[1], drawbars[2], drawbars[3], 0, drawbars[4], 0, drawbars[5]]
        ),
    )
    return velocity * x * adsr(m, 0.01, 0.03)


def _epiano_note(rng, f0: float, m: int, velocity: float) -> np.ndarray:
    t = np.arange(m) / SR
    index = velocity * 2.5 * np.exp(-t / 0.3)
    body = np.sin(2 * np.pi * f0 * t + index * np.sin(2 * np.pi * f0 * t))
    body *= decay_env(m, rng.uniform(0.6, 1.5))
    # The tine's metallic attack: a short partial far above the fundamental.
    tine = 0.3 * velocity * np.sin(2 * np.pi * f0 * rng.uniform(11, 15) * t) * decay_env(m, 0.02)
    return velocity * (body + tine) * adsr(m, 0.002, 0.05)


def musical_keyboard(rng: np.random.Generator, split: str, duration: float) -> np.ndarray:
    """Piano, organ or electric piano playing a melody over occasional chords."""
    n = n_samples(duration)
    out = np.zeros(n)
    voice = (_piano_note, _organ_note, _epiano_note)[int(rng.integers(3))]
    tempo = draw(rng, 60, 180, split)
    beat = 60.0 / tempo
    root = draw_int(rng, 43, 67, split)  # MIDI note
    scale = (
        np.array([0, 2, 4, 5, 7, 9, 11]) if rng.random() < 0.6 else np.array([0, 2, 3, 5, 7, 8, 10])
    )
    degree = int(rng.integers(7))
    t = 0.02
    while t < duration - 0.1:
        length = beat * rng.choice([0.5, 1, 1, 2])
        degree = int(np.clip(degree + rng.integers(-2, 3), 0, 10))
        notes = [degree]
        if rng.random() < 0.25:
            notes += [degree - 2, degree - 4]
        for d in notes:
            midi = root + 12 * (d // 7) + scale[d % 7]
            f0 = 440.0 * 2 ** ((midi - 69) / 12)
            m = n_samples(min(length * rng.uniform(0.9, 1.6), duration - t))
            place(out, voice(rng, f0, m, rng.uniform(0.4, 1.0)), n_samples(t))
        t += length
    return out
