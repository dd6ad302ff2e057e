import numpy as np
import pytest
import torch

from engine.constants import N_FREQ
from engine.dsp import (
    WindowPlan,
    from_real_imag,
    istft,
    n_frames,
    overlap_add,
    segment,
    stft,
    to_real_imag,
)


def test_stft_shape_and_perfect_reconstruction():
    x = torch.randn(2, 4, 32_000 * 2 + 333)
    spec = stft(x)
    assert spec.shape == (2, 4, n_frames(x.shape[-1]), N_FREQ)
    assert (istft(spec, x.shape[-1]) - x).abs().max() < 1e-5


def test_stft_of_a_tone_peaks_at_its_bin():
    t = torch.arange(32_000) / 32_000
    x = torch.sin(2 * torch.pi * 1000 * t)[None, None]
    mag = stft(x).abs()[0, 0, 10]
    assert int(mag.argmax()) == 40  # 1000 Hz / (32000 / 1280) Hz per bin


def test_real_imag_round_trip_and_order():
    spec = torch.randn(1, 4, 5, 7, dtype=torch.complex64)
    ri = to_real_imag(spec)
    assert ri.shape == (1, 8, 5, 7)
    assert torch.equal(ri[:, 2], spec.real[:, 1]) and torch.equal(ri[:, 3], spec.imag[:, 1])
    assert torch.equal(from_real_imag(ri), spec)


@pytest.mark.parametrize(
    "length,size,hop",
    [(1000, 300, 150), (1000, 1000, 500), (50, 300, 100), (32_000 * 25 + 7, 320_000, 160_000)],
)
def test_segment_overlap_add_reconstructs(length, size, hop):
    x = torch.randn(3, length, dtype=torch.float64)
    frames = segment(x, size, hop)
    assert frames.shape[-2:] == (WindowPlan(length, size, hop).count, size)
    assert (overlap_add(frames, hop, length) - x).abs().max() < 1e-5


def test_overlap_add_blends_towards_the_nearer_window():
    frames = torch.stack([torch.zeros(100), torch.ones(100)])[None]
    y = overlap_add(frames, 50, 150)[0].numpy()
    assert y[0] == 0 and y[-1] == 1
    assert np.all(np.diff(y[50:100]) > 0)  # a crossfade, not a step


def test_window_plan_rejects_bad_hops():
    with pytest.raises(ValueError, match="hop"):
        WindowPlan(100, 10, 20)


def test_stft_window_cache_survives_inference_mode():
    with torch.inference_mode():
        stft(torch.zeros(1, 1, 2000, dtype=torch.float64))  # fills the window cache
    x = torch.randn(1, 1, 2000, dtype=torch.float64, requires_grad=True)
    stft(x).abs().sum().backward()  # the cached window must still work under autograd
    assert x.grad is not None
