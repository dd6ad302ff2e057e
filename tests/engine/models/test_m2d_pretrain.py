"""M2D pre-training objective: masking, visibility of the two encoders, EMA, and an overfit run."""

import math

import pytest
import torch
import torch.nn.functional as F

from engine.models.m2d_pretrain import M2DPretrainer, PretrainConfig, random_split
from engine.models.vit import VIT_SIZES, M2DEncoder

SMALL_PREDICTOR = PretrainConfig(predictor_dim=64, predictor_depth=2, predictor_heads=2)


def _encoder(size="toy"):
    torch.manual_seed(0)
    s = VIT_SIZES[size]
    return M2DEncoder(s.embed_dim, s.depth, s.num_heads)


def _specs(n=4, frames=64):
    """Log-mel-like inputs with distinct harmonic patterns per item."""
    t = torch.arange(frames)
    f = torch.arange(80)[:, None]
    items = []
    for k in range(n):
        pattern = torch.sin(2 * math.pi * (f * (k + 1) / 40 + t / (8 + 4 * k)))
        items.append(pattern[None])
    return torch.stack(items)  # [n, 1, 80, frames]


def test_random_split_partitions_tokens_at_the_mask_ratio():
    visible, masked = random_split(3, 20, 0.7, torch.Generator().manual_seed(0))
    assert visible.shape == (3, 6) and masked.shape == (3, 14)
    for v, m in zip(visible, masked, strict=True):
        assert sorted(torch.cat([v, m]).tolist()) == list(range(20))
    with pytest.raises(ValueError, match="mask_ratio"):
        random_split(1, 10, 1.0)


def test_online_sees_only_visible_and_target_only_masked_patches():
    pre = M2DPretrainer(_encoder(), SMALL_PREDICTOR)
    spec = _specs(1)
    gen_seed = 5
    visible, masked = random_split(1, 20, 0.7, torch.Generator().manual_seed(gen_seed))
    seen = {}
    pre.online.encode_tokens = _spy(pre.online.encode_tokens, seen, "online")
    pre.target.encode_tokens = _spy(pre.target.encode_tokens, seen, "target")
    pre(spec, generator=torch.Generator().manual_seed(gen_seed))
    tokens = pre.online.embed_windows(spec)[0]
    torch.testing.assert_close(seen["online"], tokens[:, visible[0]])
    torch.testing.assert_close(seen["target"], pre.target.embed_windows(spec)[0][:, masked[0]])


def _spy(fn, store, name):
    def wrapped(tokens):
        store[name] = tokens.detach()
        return fn(tokens)

    return wrapped


def test_target_gets_no_gradient_and_follows_the_online_encoder_by_ema():
    pre = M2DPretrainer(_encoder(), SMALL_PREDICTOR)
    pre(_specs(2)).backward()
    assert all(p.grad is None for p in pre.target.parameters())
    assert pre.online.blocks[0].attn.qkv.weight.grad is not None
    with torch.no_grad():
        pre.online.norm.weight.fill_(3.0)
    pre.update_target(0.9)
    torch.testing.assert_close(pre.target.norm.weight, torch.full_like(pre.target.norm.weight, 1.2))


def test_loss_is_normalised_regression():
    pre = M2DPretrainer(_encoder(), SMALL_PREDICTOR)
    loss = pre(_specs(2))
    assert 0.0 <= loss.item() <= 4.0  # 2 - 2 cos over unit vectors


def test_tiny_size_overfit_run_lowers_the_loss(one_thread):
    pre = M2DPretrainer(_encoder("tiny"), SMALL_PREDICTOR)
    pre.config.ema_momentum = 0.99
    spec = _specs(4)
    torch.manual_seed(1)
    # The objective alone (the trainer, engine.train.loop, runs it as the m2d-pretrain task).
    opt = torch.optim.AdamW(pre.parameters(), lr=5e-4, weight_decay=0.05)
    pre.train()
    losses = []
    for _ in range(40):
        loss = pre(spec)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        pre.update_target()
        losses.append(loss.item())
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    assert last < 0.5 * first
    # Not a collapse to one constant vector: the four inputs keep distinct features.
    with torch.no_grad():
        feats = F.normalize(pre.online.eval()(spec), dim=-1)
    off_diagonal = (feats @ feats.T)[~torch.eye(4, dtype=torch.bool)]
    assert off_diagonal.min() < 0.999


def test_pretraining_rejects_long_crops():
    pre = M2DPretrainer(_encoder(), SMALL_PREDICTOR)
    with pytest.raises(ValueError, match="fit 62 time patches"):
        pre(torch.zeros(1, 1, 80, 16 * 63))
