"""Impact and rhythm classes: Clapping, CupboardOpenClose, Dishes, FootSteps, Percussion, Typing.

Single hits are short noise bursts through resonances (and modes for hard objects); sequences
place them with class-typical rates and jitter (walking 1.4-2.4 Hz, typing bursts 4-12 Hz, ...).
"""

from __future__ import annotations

import numpy as np

from .params import draw
from .primitives import (
    SR,
    bandpass,
    decay_env,
    highpass,
    lowpass,
    modal,
    n_samples,
    place,
    rhythm_onsets,
)


def _burst(rng, seconds: float, tau: float, lo: float, hi: float) -> np.ndarray:
    m = n_samples(seconds)
    x = bandpass(rng.standard_normal(m), lo, hi) * decay_env(m, tau)
    return x / (np.max(np.abs(x)) + 1e-12)


def _clap(rng, centre: float) -> np.ndarray:
    c = centre * rng.uniform(0.85, 1.15)
    x = _burst(rng, 0.12, rng.uniform(0.008, 0.02), c * 0.5, c * 2.2)
    # A clap is several micro-impacts within a few ms.
    out = x.copy()
    for _ in range(int(rng.integers(1, 3))):
        place(out, x * rng.uniform(0.3, 0.7), int(rng.integers(20, 200)))
    return out


def clapping(rng: np.random.Generator, split: str, duration: float) -> np.ndarray:
    """One person clapping at 2-7 Hz, or a small group (overlapping clappers)."""
    n = n_samples(duration)
    out = np.zeros(n)
    people = 1 if rng.random() < 0.6 else int(rng.integers(2, 8))
    for _ in range(people):
        centre = draw(rng, 700, 2500, split, log=True)
        times = rhythm_onsets(rng, duration, draw(rng, 2.0, 7.0, split), 0.05, rng.uniform(0, 0.3))
        for t in times:
            place(out, _clap(rng, centre) * rng.uniform(0.6, 1.0), n_samples(t))
    return out


def typing(rng: np.random.Generator, split: str, duration: float) -> np.ndarray:
    """Key clicks and bottom-out thocks in bursts with pauses; occasional space bar."""
    n = n_samples(duration)
    out = np.zeros(n)
    click_c = draw(rng, 2500, 7000, split, log=True)
    thock_c = draw(rng, 400, 1500, split, log=True)
    rate = draw(rng, 4, 12, split)
    t = rng.uniform(0, 0.2)
    while t < duration - 0.05:
        word = int(rng.integers(2, 9))
        for _ in range(word):
            space = rng.random() < 0.12
            click = _burst(rng, 0.02, 0.002, click_c * 0.6, click_c * 1.5)
            thock = _burst(rng, 0.06, 0.008 if not space else 0.02, thock_c * 0.5, thock_c * 1.8)
            hit = (0.8 if not space else 1.3) * np.pad(thock, (int(rng.integers(30, 150)), 0))
            hit[: len(click)] += click
            place(out, hit * rng.uniform(0.5, 1.0), n_samples(t))
            t += np.clip(rng.gamma(4, 1 / (4 * rate)), 0.03, 1.0)
        t += rng.uniform(0.1, 1.0)
    return out


def footsteps(rng: np.random.Generator, split: str, duration: float) -> np.ndarray:
    """Walking: heel and toe impacts (thud + surface crunch) alternating feet at 1.4-2.6 Hz."""
    n = n_samples(duration)
    out = np.zeros(n)
    rate = draw(rng, 1.4, 2.6, split)
    thud_hi = draw(rng, 250, 1200, split, log=True)
    crunch = rng.random() < 0.4  # gravel/leaves vs hard floor
    heel_toe = rng.uniform(0.04, 0.12)
    for i, t in enumerate(rhythm_onsets(rng, duration, rate, 0.04, rng.uniform(0, 0.3))):
        foot = 1.0 if i % 2 == 0 else rng.uniform(0.6, 0.9)
        for k, delay in enumerate((0.0, heel_toe)):
            thud = _burst(rng, 0.08, rng.uniform(0.01, 0.03), 60, thud_hi)
            hit = thud
            if crunch:
                m = n_samples(rng.uniform(0.1, 0.25))
                grains = rng.standard_normal(m) * (rng.random(m) < 0.05)
                hit = np.pad(hit, (0, max(0, m - len(hit))))
                hit[:m] += 0.6 * bandpass(grains, 1500, 8000) * decay_env(m, 0.08)
            else:
                scuff = 0.3 * _burst(rng, 0.03, 0.003, 2000, 6000)
                hit = hit.copy()
                hit[: len(scuff)] += scuff
            place(out, hit * foot * (1.0 if k == 0 else 0.6), n_samples(t + delay))
    return out


def _creak(rng, seconds: float, lo: float, hi: float) -> np.ndarray:
    """Stick-slip friction: a pulse train with wandering rate through wood resonances."""
    m = n_samples(seconds)
    rate = np.exp(np.interp(np.linspace(0, 1, m), [0, 0.5, 1], np.log(rng.uniform(lo, hi, 3))))
    ph = np.cumsum(rate) / SR
    pulses = np.diff(np.floor(ph), prepend=0.0) * rng.uniform(0.5, 1.0, m)
    x = bandpass(pulses, 300, 3000) + 0.5 * bandpass(pulses, 1500, 5000)
    env = np.sin(np.linspace(0, np.pi, m)) ** 0.5
    return x * env


def _wood_thud(rng, seconds: float) -> np.ndarray:
    m = n_samples(seconds)
    f = rng.uniform(80, 300) * np.array([1, 1.7, 2.9, 4.1, 6.3])
    x = modal(f, rng.uniform(0.04, 0.2, 5), rng.uniform(0.3, 1, 5), m, rng)
    x += _burst(rng, seconds, 0.01, 200, 4000)[:m]
    return x


def cupboard_open_close(rng: np.random.Generator, split: str, duration: float) -> np.ndarray:
    """Latch click, hinge creak, then (often) the door closing with a wooden thud."""
    n = n_samples(duration)
    out = np.zeros(n)
    t = rng.uniform(0, 0.3)
    while t < duration - 0.3:
        place(out, 0.6 * _burst(rng, 0.03, 0.003, 2000, 8000), n_samples(t))
        creak_s = draw(rng, 0.3, 1.5, split)
        if rng.random() < 0.7:
            place(
                out, 0.5 * _creak(rng, creak_s, 40, draw(rng, 80, 400, split)), n_samples(t + 0.05)
            )
        t += creak_s + rng.uniform(0.3, 2.0)
        if t < duration - 0.2:
            place(out, _wood_thud(rng, 0.6), n_samples(t))
            place(out, 0.5 * _wood_thud(rng, 0.3), n_samples(t + rng.uniform(0.04, 0.12)))
            place(out, 0.5 * _burst(rng, 0.02, 0.002, 2000, 8000), n_samples(t + 0.01))
        t += rng.uniform(0.8, 3.0)
    return out


def _clink(rng, f0: float, seconds: float) -> np.ndarray:
    m = n_samples(seconds)
    ratios = np.array([1.0, 2.3, 3.9, 5.1, 6.8]) * rng.uniform(0.95, 1.05, 5)
    taus = rng.uniform(0.05, 0.4) / ratios**0.7
    return modal(f0 * ratios, taus, rng.uniform(0.3, 1.0, 5), m, rng)


def dishes(rng: np.random.Generator, split: str, duration: float) -> np.ndarray:
    """Ceramic and glass clinks and clatter: random bursts of high, short modal hits."""
    n = n_samples(duration)
    out = np.zeros(n)
    base = draw(rng, 1200, 5000, split, log=True)
    t = rng.uniform(0, 0.2)
    while t < duration - 0.05:
        k = int(rng.integers(1, 6))
        for _ in range(k):
            f0 = base * rng.uniform(0.7, 1.4)
            hit = _clink(rng, f0, 0.5) + 0.4 * _burst(rng, 0.5, 0.004, 1000, 10000)
            place(out, hit * rng.uniform(0.3, 1.0), n_samples(t + rng.uniform(0, 0.25)))
        t += rng.exponential(draw(rng, 0.2, 1.0, split)) + 0.05
    return out


def _kick(rng, m):
    t = np.arange(m) / SR
    f = 45 + rng.uniform(60, 130) * np.exp(-t / 0.04)
    return np.sin(2 * np.pi * np.cumsum(f) / SR) * decay_env(m, rng.uniform(0.1, 0.3))


def _snare(rng, m):
    t = np.arange(m) / SR
    tone = np.sin(2 * np.pi * rng.uniform(160, 250) * t) * decay_env(m, 0.05)
    return 0.6 * tone + highpass(rng.standard_normal(m), 1000) * decay_env(
        m, rng.uniform(0.06, 0.15)
    )


def _hat(rng, m):
    return highpass(rng.standard_normal(m), 6000) * decay_env(m, rng.uniform(0.01, 0.08))


def _tom(rng, m):
    t = np.arange(m) / SR
    f = rng.uniform(80, 300) * (1 + 0.3 * np.exp(-t / 0.05))
    return np.sin(2 * np.pi * np.cumsum(f) / SR) * decay_env(m, rng.uniform(0.15, 0.4))


def percussion(rng: np.random.Generator, split: str, duration: float) -> np.ndarray:
    """A drum pattern (kick, snare, hats, toms) or hand drums at 70-170 BPM (no claps)."""
    n = n_samples(duration)
    out = np.zeros(n)
    step = 60.0 / draw(rng, 70, 170, split) / 2
    m = n_samples(0.6)
    kit = [_kick, _snare, _hat, _tom]
    pattern = rng.random((4, 8)) < np.array([[0.5], [0.35], [0.7], [0.15]])
    pattern[0, 0] = True
    shapes = [f(rng, m) for f in kit]
    for i in range(int(duration / step)):
        for v in range(4):
            if pattern[v, i % 8] and rng.random() < 0.95:
                place(
                    out,
                    shapes[v] * rng.uniform(0.6, 1.0),
                    n_samples(i * step + 0.01 * rng.standard_normal() + 0.02),
                )
    return lowpass(out, 16000) if rng.random() < 0.5 else out
