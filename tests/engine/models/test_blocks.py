"""Shared DeFT-Mamba blocks: shapes, residual identities, FiLM, attention along the axis."""

import pytest
import torch

from engine.models.blocks import (
    AxisAttention,
    FeedForward,
    GatedConv,
    HybridBlock,
    MambaFeedForward,
    ResFiLM,
)


@pytest.mark.parametrize(
    "block",
    [
        lambda: GatedConv(8),
        lambda: AxisAttention(8, heads=4),
        lambda: AxisAttention(8, heads=4, head_dim=8),
        lambda: FeedForward(8),
        lambda: MambaFeedForward(8, d_state=4, expand=2, headdim=8, chunk_size=8),
    ],
)
def test_blocks_keep_shape(block):
    x = torch.randn(3, 13, 8)
    assert block()(x).shape == x.shape


def test_attention_is_permutation_equivariant_along_the_axis():
    torch.manual_seed(0)
    a = AxisAttention(8, heads=4).eval()
    x = torch.randn(2, 9, 8)
    perm = torch.randperm(9)
    torch.testing.assert_close(a(x)[:, perm], a(x[:, perm]), atol=1e-5, rtol=1e-5)


def test_gated_conv_is_local():
    torch.manual_seed(0)
    g = GatedConv(4, kernel_size=3).eval()
    x = torch.randn(1, 20, 4)
    y = x.clone()
    y[:, 10] += torch.randn(4)  # not a constant shift: the norm would remove that
    changed = (g(x) - g(y)).abs().sum(-1)[0] > 0
    assert changed.nonzero().flatten().tolist() == [9, 10, 11]


def test_even_kernel_rejected():
    with pytest.raises(ValueError, match="odd"):
        GatedConv(4, kernel_size=4)


@pytest.mark.parametrize("gain", [False, True])
def test_res_film_starts_as_identity_and_then_conditions(gain):
    film = ResFiLM(5, 8, gain=gain)
    n, e = torch.randn(2, 7, 8), torch.randn(2, 5)
    torch.testing.assert_close(film(n, e), n)
    torch.nn.init.normal_(film.proj.weight)
    out = film(n, e)
    assert not torch.allclose(out, n)
    if not gain:  # a pure bias: the same shift at every step
        shift = out - n
        torch.testing.assert_close(shift, shift[:, :1].expand_as(shift))


def test_hybrid_block_applies_film_per_sequence():
    torch.manual_seed(0)
    block = HybridBlock(8, FeedForward(8), heads=2, film=ResFiLM(3, 8)).eval()
    torch.nn.init.normal_(block.conv.film.proj.weight)
    x = torch.randn(2, 6, 8)
    emb = torch.randn(2, 3)
    out = block(x, emb)
    assert out.shape == x.shape
    assert not torch.allclose(out, block(x, torch.zeros_like(emb)))
