"""The M2D front end against an independent numpy reference (own STFT and mel filterbank)."""

import numpy as np
import pytest
import torch

from engine.models.logmel import LogMel, mel_filterbank, norm_stats


def _np_hz_to_mel(f):
    f = np.asarray(f, dtype=np.float64)
    mel = f / (200.0 / 3)
    return np.where(f >= 1000, 15.0 + np.log(np.maximum(f, 1e-9) / 1000) / (np.log(6.4) / 27), mel)


def _np_mel_to_hz(m):
    m = np.asarray(m, dtype=np.float64)
    return np.where(m >= 15.0, 1000 * np.exp((np.log(6.4) / 27) * (m - 15.0)), m * 200.0 / 3)


def _np_filterbank(sr=32000, n_fft=800, n_mels=80, fmin=50.0, fmax=16000.0):
    freqs = np.arange(n_fft // 2 + 1) * sr / n_fft
    hz = _np_mel_to_hz(np.linspace(_np_hz_to_mel(fmin), _np_hz_to_mel(fmax), n_mels + 2))
    fb = np.zeros((n_mels, freqs.size))
    for i in range(n_mels):
        lo, c, hi = hz[i], hz[i + 1], hz[i + 2]
        for j, f in enumerate(freqs):
            if lo < f < hi:
                fb[i, j] = (f - lo) / (c - lo) if f <= c else (hi - f) / (hi - c)
        fb[i] *= 2.0 / (hi - lo)
    return fb


def _np_logmel(x, n_fft=800, hop=320):
    pad = n_fft // 2
    xp = np.pad(x, pad, mode="reflect")
    n = np.arange(n_fft)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * n / n_fft)  # periodic Hann
    frames = 1 + (xp.size - n_fft) // hop
    spec = np.stack([np.fft.rfft(xp[t * hop : t * hop + n_fft] * window) for t in range(frames)])
    power = np.abs(spec) ** 2  # [T, F]
    mel = _np_filterbank() @ power.T
    return np.log(mel + np.finfo(np.float32).eps)


def _tone_signal(n):
    t = np.arange(n) / 32000
    rng = np.random.default_rng(3)
    return (
        0.5 * np.sin(2 * np.pi * 440 * t)
        + 0.2 * np.sin(2 * np.pi * 5000 * t)
        + 0.01 * rng.standard_normal(n)
    )


def test_filterbank_matches_numpy_and_has_unit_area_triangles():
    fb = mel_filterbank().numpy()
    ref = _np_filterbank()
    assert fb.shape == (80, 401)
    np.testing.assert_allclose(fb, ref, rtol=1e-9, atol=1e-12)
    assert (fb.sum(1) > 0).all()  # no empty band even at 50 Hz with 40 Hz bins


def test_logmel_matches_numpy_reference():
    x = _tone_signal(32000)
    ours = LogMel().log_mel(torch.from_numpy(x).float()[None])[0].double().numpy()
    ref = _np_logmel(x.astype(np.float32).astype(np.float64))
    assert ours.shape == ref.shape == (80, 101)
    # Relative error of the mel power (the quantity before the log), and of the log values.
    rel_power = np.abs(np.exp(ours) - np.exp(ref)) / np.exp(ref)
    assert np.median(rel_power) < 1e-4
    assert np.max(np.abs(ours - ref) / np.abs(ref)) < 1e-4


def test_ten_seconds_give_1001_frames_and_normalisation_uses_buffers():
    fe = LogMel(mean=-5.0, std=4.0)
    x = torch.from_numpy(_tone_signal(320000)).float()[None]
    out = fe(x)
    assert out.shape == (1, 1, 80, 1001)
    torch.testing.assert_close(out[0, 0], (fe.log_mel(x)[0] + 5.0) / 4.0)
    assert set(fe.state_dict()) == {"mean", "std"}
    fe.set_norm_stats(1.0, 2.0)
    assert fe.state_dict()["mean"].item() == 1.0 and fe.state_dict()["std"].item() == 2.0


def test_silence_is_finite_and_stats_are_measured():
    fe = LogMel()
    out = fe(torch.zeros(2, 8000))
    assert torch.isfinite(out).all()
    mean, std = norm_stats(fe, torch.from_numpy(_tone_signal(16000)).float()[None])
    assert std > 0 and np.isfinite(mean)


def test_bad_shapes_are_rejected():
    with pytest.raises(ValueError, match=r"\[B, N\]"):
        LogMel()(torch.zeros(1, 2, 1000))
    with pytest.raises(ValueError, match="samples"):
        LogMel()(torch.zeros(1, 100))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_logmel_on_gpu_matches_cpu():
    x = torch.from_numpy(_tone_signal(32000)).float()[None]
    fe = LogMel()
    torch.testing.assert_close(fe.cuda()(x.cuda()).cpu(), LogMel()(x), rtol=1e-4, atol=1e-4)
