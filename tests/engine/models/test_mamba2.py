"""Mamba-2 mixer: the chunked SSD scan against the step-by-step recurrence, layout, dispatch."""

import pytest
import torch
import torch.nn.functional as F

from engine.models.mamba2 import BiMamba2, Mamba2, has_fused_kernel, naive_scan, ssd_scan


def scan_inputs(length, heads=4, p=3, n=5, groups=1, batch=2, dt_scale=0.5, seed=0):
    g = torch.Generator().manual_seed(seed)
    f64 = dict(dtype=torch.float64, generator=g)
    x = torch.randn(batch, length, heads, p, **f64)
    dt = torch.rand(batch, length, heads, **f64) * dt_scale
    A = -torch.rand(heads, **f64) * 4 - 0.1
    B = torch.randn(batch, length, groups, n, **f64)
    C = torch.randn(batch, length, groups, n, **f64)
    return x, dt, A, B, C


@pytest.mark.parametrize("length", [1, 7, 33, 101])
@pytest.mark.parametrize("chunk", [8, 32])
@pytest.mark.parametrize("groups", [1, 2])
def test_chunked_scan_equals_recurrence(length, chunk, groups):
    args = scan_inputs(length, groups=groups)
    ref = naive_scan(*args)
    torch.testing.assert_close(ssd_scan(*args, chunk_size=chunk), ref, atol=1e-6, rtol=1e-6)
    # the exact segment-sum path (used for sharply decaying chunks) agrees too
    exact = ssd_scan(*args, chunk_size=chunk, limit=0.0)
    torch.testing.assert_close(exact, ref, atol=1e-6, rtol=1e-6)


def test_sharp_decay_stays_finite_and_exact():
    # dt * A far beyond the factored path's range: within-chunk decay of hundreds of nepers
    x, dt, A, B, C = scan_inputs(70, dt_scale=40.0)
    y = ssd_scan(x.float(), dt.float(), A.float(), B.float(), C.float(), chunk_size=32)
    assert torch.isfinite(y).all()
    torch.testing.assert_close(y.double(), naive_scan(x, dt, A, B, C), atol=1e-4, rtol=1e-4)


def test_scan_gradients_match_finite_differences():
    args = [t.requires_grad_() for t in scan_inputs(11, heads=2, p=2, n=3, batch=1)]
    assert torch.autograd.gradcheck(lambda *a: ssd_scan(*a, chunk_size=4), args)


def reference_mixer(m: Mamba2, u: torch.Tensor) -> torch.Tensor:
    """Mamba2Simple's computation written plainly around the naive recurrence."""
    b, length, _ = u.shape
    z, xbc, dt = torch.split(m.in_proj(u), [m.d_inner, m.d_inner + 2 * m.d_state, m.nheads], -1)
    xbc = F.silu(m.conv1d(xbc.transpose(1, 2))[..., :length].transpose(1, 2))
    x, B, C = torch.split(xbc, [m.d_inner, m.d_state, m.d_state], -1)
    x = x.reshape(b, length, m.nheads, m.headdim)
    y = naive_scan(x, F.softplus(dt + m.dt_bias), -torch.exp(m.A_log), B[:, :, None], C[:, :, None])
    y = (y + x * m.D[:, None]).reshape(b, length, m.d_inner) * F.silu(z)
    y = y * torch.rsqrt(y.pow(2).mean(-1, keepdim=True) + 1e-5) * m.norm.weight
    return m.out_proj(y)


@pytest.mark.parametrize("length", [5, 40, 77])
def test_mixer_equals_naive_reference(length):
    torch.manual_seed(0)
    m = Mamba2(16, d_state=8, expand=4, headdim=16, chunk_size=16).double()
    with torch.no_grad():
        m.norm.weight.uniform_(0.5, 1.5)
        m.D.uniform_(-1, 1)
    u = torch.randn(2, length, 16, dtype=torch.float64)
    torch.testing.assert_close(m(u), reference_mixer(m, u), atol=1e-6, rtol=1e-6)


def test_state_dict_matches_mamba2simple_layout():
    m = Mamba2(64, d_state=16, d_conv=4, expand=4, headdim=16)
    shapes = {k: tuple(v.shape) for k, v in m.state_dict().items()}
    assert shapes == {
        "dt_bias": (16,),
        "A_log": (16,),
        "D": (16,),
        "in_proj.weight": (560, 64),
        "conv1d.weight": (288, 1, 4),
        "conv1d.bias": (288,),
        "norm.weight": (256,),
        "out_proj.weight": (64, 256),
    }
    dt = F.softplus(m.dt_bias)  # initialised as mamba-ssm: dt in [1e-3, 0.1], A in [1, 16]
    assert dt.min() >= 1e-4 and dt.max() <= 0.1 + 1e-6
    assert torch.exp(m.A_log).min() >= 1 and torch.exp(m.A_log).max() <= 16


def test_bidirectional_halves_are_causal_and_anticausal():
    torch.manual_seed(0)
    m = BiMamba2(8, d_state=4, expand=2, headdim=8, chunk_size=8).eval()
    u = torch.randn(1, 30, 8)
    v = u.clone()
    v[:, 20:] += 1.0  # change only the future of step 19
    with torch.no_grad():
        a, b = m(u), m(v)
    assert a.shape == (1, 30, 16)
    torch.testing.assert_close(a[:, :20, :8], b[:, :20, :8])  # forward half ignores the future
    assert not torch.allclose(a[:, :20, 8:], b[:, :20, 8:])  # backward half sees it
    w = u.clone()
    w[:, :5] += 1.0  # change only the past of step 5
    with torch.no_grad():
        c = m(w)
    torch.testing.assert_close(a[:, 5:, 8:], c[:, 5:, 8:])


def test_bad_input_shape_is_rejected():
    with pytest.raises(ValueError, match=r"\[B, L, 8\]"):
        Mamba2(8, expand=2, headdim=8)(torch.zeros(2, 5, 7))


@pytest.mark.gpu
@pytest.mark.skipif(
    not (torch.cuda.is_available() and has_fused_kernel()), reason="needs CUDA and mamba-ssm"
)
def test_fused_kernel_matches_pytorch_scan():
    torch.manual_seed(0)
    m = Mamba2(64, d_state=16, expand=4, headdim=16, chunk_size=64)
    u = torch.randn(3, 301, 64)
    with torch.no_grad():
        cpu = m(u)
        gpu = m.cuda()(u.cuda()).cpu()
    torch.testing.assert_close(gpu, cpu, atol=2e-3, rtol=2e-3)
