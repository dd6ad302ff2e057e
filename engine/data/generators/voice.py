"""Voice classes: Speech (formant-filtered glottal pulses with syllables and pauses) and Cough.

Speech-like babble: a glottal pulse train with an intonation contour drives a time-varying
spectral envelope of vowel formants (applied per STFT frame), interleaved with fricative and
plosive noise bursts. Coughs: an explosive formant-shaped noise burst with a voiced tail.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from .params import draw
from .primitives import SR, adsr, bandpass, decay_env, drift, n_samples, place

# F1, F2, F3 (Hz) of a few vowels (adult male averages; scaled per speaker).
_VOWELS = np.array(
    [
        [730, 1090, 2440],
        [270, 2290, 3010],
        [300, 870, 2240],
        [530, 1840, 2480],
        [660, 1720, 2410],
        [570, 840, 2410],
        [440, 1020, 2240],
        [490, 1350, 1690],
    ]
)
_NPERSEG = 512


def _glottal(f0: np.ndarray, n: int, rng) -> np.ndarray:
    """Pulse train (one pulse per period) smoothed to a glottal-like spectrum tilt."""
    ph = np.cumsum(f0) / SR
    pulses = np.diff(np.floor(ph), prepend=0.0)
    # Glottal flow has a ~-12 dB/oct spectrum; lip radiation adds +6 dB/oct.
    src = signal.lfilter([1.0], [1.0, -1.94, 0.9409], pulses)
    src = np.diff(src, prepend=0.0)
    return src + 0.02 * rng.standard_normal(n)


def _formant_envelope(freqs: np.ndarray, formants: np.ndarray, scale: float) -> np.ndarray:
    """Magnitude envelope [frames, bins] from per-frame formants [frames, 3] (Hz)."""
    bw = np.array([80.0, 110.0, 160.0]) * scale
    amp = np.array([1.0, 0.6, 0.3])
    env = np.zeros((formants.shape[0], len(freqs)))
    for k in range(3):
        env += amp[k] / (1 + ((freqs[None, :] - formants[:, k : k + 1]) / bw[k]) ** 2)
    return env + 0.003 / (1 + (freqs[None, :] / 4000.0) ** 2)


def speech(rng: np.random.Generator, split: str, duration: float) -> np.ndarray:
    """One speaker's babble: phrases of syllables with intonation, formants and consonants."""
    n = n_samples(duration)
    f0_mean = draw(rng, 85, 260, split, log=True)
    tract = draw(rng, 0.85, 1.25, split)  # formant scale (vocal tract length)
    syl_rate = draw(rng, 3.0, 6.5, split)
    # Voicing and phrase structure at the frame rate.
    hop = _NPERSEG // 2
    frames = n // hop + 2
    ft = np.arange(frames) * hop / SR
    voiced = np.zeros(frames)
    formants = np.zeros((frames, 3))
    consonants = []
    t = rng.uniform(0, 0.2)
    while t < duration:
        phrase = rng.uniform(0.8, 3.0)
        end = min(duration, t + phrase)
        while t < end:
            syl = rng.uniform(0.6, 1.4) / syl_rate
            a, b = np.searchsorted(ft, [t, t + syl * 0.8])
            voiced[a:b] = 1
            v0, v1 = _VOWELS[rng.integers(len(_VOWELS), size=2)] * tract
            w = np.linspace(0, 1, max(b - a, 1))[:, None]
            formants[a:b] = (v0 * (1 - w) + v1 * w)[: b - a]
            if rng.random() < 0.6:
                consonants.append((t, rng.random() < 0.5))
            t += syl
        t = end + rng.uniform(0.15, 0.8)
    formants[voiced == 0] = _VOWELS[0] * tract
    voiced = np.convolve(voiced, np.ones(3) / 3, mode="same")
    # Intonation: declination over each phrase plus syllable accents and jitter.
    contour = (
        f0_mean * drift(rng, n, 0.15, syl_rate) * np.interp(np.arange(n), [0, n - 1], [1.1, 0.9])
    )
    src = _glottal(contour, n, rng)
    _, _, spec = signal.stft(src, SR, nperseg=_NPERSEG, noverlap=_NPERSEG - hop)
    freqs = np.fft.rfftfreq(_NPERSEG, 1 / SR)
    m = min(spec.shape[1], frames)
    env = _formant_envelope(freqs, formants[:m], tract)
    spec = spec[:, :m] * (env * voiced[:m, None]).T
    _, x = signal.istft(spec, SR, nperseg=_NPERSEG, noverlap=_NPERSEG - hop)
    out = np.zeros(n)
    out[: min(n, len(x))] = x[:n]
    out /= np.max(np.abs(out)) + 1e-12
    for t, fricative in consonants:
        if fricative:
            m_ = n_samples(rng.uniform(0.05, 0.15))
            c = rng.uniform(2500, 7000)
            burst = bandpass(rng.standard_normal(m_), c * 0.6, c * 1.6) * adsr(m_, 0.01, 0.02)
            place(out, 0.15 * burst, n_samples(t))
        else:
            m_ = n_samples(0.02)
            burst = bandpass(rng.standard_normal(m_), 500, 5000) * decay_env(m_, 0.005)
            place(out, 0.3 * burst, n_samples(t))
    return out


def cough(rng: np.random.Generator, split: str, duration: float) -> np.ndarray:
    """1-4 coughs: explosive formant-shaped noise burst with a decaying voiced tail."""
    n = n_samples(duration)
    out = np.zeros(n)
    tract = draw(rng, 0.8, 1.3, split)
    f0 = draw(rng, 90, 300, split, log=True)
    t = rng.uniform(0, 0.2)
    freqs = np.fft.rfftfreq(_NPERSEG, 1 / SR)
    while t < duration - 0.2:
        m = n_samples(draw(rng, 0.2, 0.5, split))
        vowel = _VOWELS[rng.integers(len(_VOWELS))] * tract
        env = _formant_envelope(freqs, vowel[None, :], tract * 2.5)[0]
        spec = np.fft.rfft(rng.standard_normal(_NPERSEG * 8))
        shape = np.interp(np.fft.rfftfreq(_NPERSEG * 8, 1 / SR), freqs, env)
        kernel = np.fft.irfft(spec * shape)[:2048] * np.hanning(4096)[2048:]
        noise = signal.fftconvolve(rng.standard_normal(m), kernel, mode="same")
        tt = np.arange(m) / SR
        env_t = np.minimum(tt / 0.008, 1.0) * np.exp(-tt / rng.uniform(0.05, 0.15))
        ph = np.cumsum(f0 * (1 - 0.3 * tt / tt[-1])) / SR
        voiced = np.diff(np.floor(ph), prepend=0.0)
        voiced = signal.fftconvolve(voiced, kernel, mode="same")
        tail = np.clip((tt - 0.05) / 0.05, 0, 1) * np.exp(-tt / 0.2)
        burst = (
            noise / (np.std(noise) + 1e-12) * env_t + 0.4 * voiced / (np.std(voiced) + 1e-12) * tail
        )
        place(out, burst * rng.uniform(0.6, 1.0), n_samples(t))
        t += m / SR + (rng.uniform(0.08, 0.3) if rng.random() < 0.6 else rng.uniform(0.6, 2.0))
        if rng.random() < 0.3:
            break
    return out
