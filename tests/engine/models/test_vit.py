"""The M2D ViT encoder: shapes, timm names, frequency-major order, length policy."""

import pytest
import torch

from engine.models.vit import VIT_SIZES, M2DEncoder


def _toy(**kw):
    torch.manual_seed(0)
    s = VIT_SIZES["toy"]
    return M2DEncoder(s.embed_dim, s.depth, s.num_heads, **kw).eval()


def test_parameter_names_are_timm_style():
    names = set(_toy().state_dict())
    for key in [
        "cls_token",
        "pos_embed",
        "patch_embed.proj.weight",
        "patch_embed.proj.bias",
        "blocks.1.norm1.weight",
        "blocks.1.attn.qkv.weight",
        "blocks.1.attn.qkv.bias",
        "blocks.1.attn.proj.weight",
        "blocks.1.norm2.bias",
        "blocks.1.mlp.fc1.weight",
        "blocks.1.mlp.fc2.bias",
        "norm.weight",
        "norm.bias",
    ]:
        assert key in names
    assert _toy().pos_embed.shape == (1, 1 + 5 * 62, 64)


@pytest.mark.parametrize("size,params_m", [("tiny", 5.45), ("small", 21.6), ("base", 85.5)])
def test_sizes_have_vit_parameter_counts(size, params_m):
    s = VIT_SIZES[size]
    with torch.device("meta"):
        enc = M2DEncoder(s.embed_dim, s.depth, s.num_heads)
    assert sum(p.numel() for p in enc.parameters()) / 1e6 == pytest.approx(params_m, abs=0.1)


def test_tokens_are_frequency_major():
    enc = _toy()
    spec = torch.zeros(1, 1, 80, 64)  # grid 5 x 4
    spec[0, 0, 16:32, 48:64] = 1.0  # frequency band 1, time step 3
    with torch.no_grad():
        enc.pos_embed.zero_()
        tokens = enc.embed_windows(spec)[0][0]
    base = tokens[0]
    changed = [k for k in range(20) if not torch.allclose(tokens[k], base)]
    assert changed == [1 * 4 + 3]


def test_shorter_input_crops_position_embeddings():
    enc = _toy()
    spec = torch.randn(2, 1, 80, 101)  # 6 time patches, 5 trailing frames dropped
    (win,) = enc.embed_windows(spec)
    assert win.shape == (2, 30, 64)
    grid = enc.pos_embed[0, 1:].reshape(5, 62, 64)
    tokens, _ = enc.patch_embed(spec)
    torch.testing.assert_close(win - tokens, grid[:, :6].reshape(1, 30, 64).expand(2, -1, -1))
    assert enc(spec).shape == (2, 64)


def test_longer_input_is_encoded_in_windows_and_averaged():
    enc = _toy(max_time_patches=4)
    spec = torch.randn(1, 1, 80, 16 * 6)  # 6 time patches -> windows of 4 and 2
    windows = enc.embed_windows(spec)
    assert [w.shape[1] for w in windows] == [20, 10]
    with torch.no_grad():
        a = enc.encode_tokens(windows[0])[:, 1:]
        b = enc.encode_tokens(windows[1])[:, 1:]
        expected = torch.cat([a, b], 1).mean(1)
        torch.testing.assert_close(enc(spec), expected)
    with pytest.raises(ValueError, match="exceed"):
        enc.patch_pos_embed(5)


def test_batch_items_are_independent_and_bad_shapes_rejected():
    enc = _toy()
    spec = torch.randn(3, 1, 80, 32)
    with torch.no_grad():
        full = enc(spec)
        one = enc(spec[1:2])
    torch.testing.assert_close(full[1:2], one, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="80"):
        enc(torch.randn(1, 1, 64, 32))
    with pytest.raises(ValueError, match="16 frames"):
        enc(torch.randn(1, 1, 80, 10))
