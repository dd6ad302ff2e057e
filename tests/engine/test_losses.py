import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from engine.losses import (
    arcface_logits,
    arcface_loss,
    energy_hinge_loss,
    energy_score,
    kl_to_uniform,
    masked_snr_loss,
    neg_sa_sdr,
    neg_si_snr,
    silence_bce,
)
from engine.metrics import sa_sdr


def test_neg_sa_sdr_equals_metric():
    g = torch.Generator().manual_seed(0)
    ref = torch.randn(2, 3, 100, generator=g, dtype=torch.float64)
    est = ref + 0.2 * torch.randn(2, 3, 100, generator=g, dtype=torch.float64)
    loss = neg_sa_sdr(est, ref)
    assert loss.shape == (2,)
    for b in range(2):
        assert -loss[b].item() == pytest.approx(
            float(sa_sdr(est[b].numpy(), ref[b].numpy())), abs=1e-5
        )


def test_neg_si_snr_is_scale_invariant_and_hand_value():
    ref = torch.sin(torch.arange(200.0))
    noise = torch.cos(torch.arange(200.0) * 3.3)
    noise = noise - (noise @ ref) / (ref @ ref) * ref  # orthogonal to ref
    est = ref + noise * (ref.norm() / noise.norm()) * math.sqrt(0.1)  # 10 dB
    assert neg_si_snr(est, ref).item() == pytest.approx(-10.0, abs=1e-3)
    assert neg_si_snr(5 * est, ref).item() == pytest.approx(-10.0, abs=1e-3)


def test_masked_snr_counts_active_slots_over_all_slots():
    ref = torch.randn(1, 3, 50)
    est = 0.5 * ref
    loss = masked_snr_loss(est, ref, torch.tensor([[1.0, 0.0, 0.0]]))
    assert loss.item() == pytest.approx(-20 * math.log10(2) / 3, abs=1e-4)


def test_arcface_without_margin_is_scaled_cosine_cross_entropy():
    cos = torch.rand(4, 18) * 2 - 1
    target = torch.tensor([0, 5, 17, 3])
    expected = F.cross_entropy(32 * cos, target, reduction="none")
    assert torch.allclose(arcface_loss(cos, target, s=32, m=0.0), expected, atol=1e-4)


def test_arcface_margin_lowers_only_the_target_logit():
    cos = torch.tensor([[0.8, 0.1, -0.2]])
    logits = arcface_logits(cos, torch.tensor([0]), s=1.0, m=0.5)
    assert logits[0, 0].item() == pytest.approx(math.cos(math.acos(0.8) + 0.5), abs=1e-6)
    assert torch.allclose(logits[0, 1:], cos[0, 1:])
    assert (
        arcface_loss(cos, torch.tensor([0])).item()
        > arcface_loss(cos, torch.tensor([0]), m=0).item()
    )


def test_kl_to_uniform_zero_for_uniform_positive_otherwise():
    assert kl_to_uniform(torch.full((2, 18), 3.0)).abs().max() < 1e-6
    assert (kl_to_uniform(torch.randn(5, 18) * 3) > 0).all()


def test_energy_score_and_hinge():
    logits = torch.zeros(1, 18)
    assert energy_score(logits).item() == pytest.approx(-math.log(18), abs=1e-6)
    inside = energy_hinge_loss(
        torch.tensor([-8.0, -7.0, 0.0, 3.0]), torch.tensor([True, True, False, False])
    )
    assert inside.item() == 0.0
    outside = energy_hinge_loss(torch.tensor([-5.0, -3.0]), torch.tensor([True, False]))
    assert outside.item() == pytest.approx(1.0 + 4.0)  # (-5 - -6)^2 + (-1 - -3)^2
    only_active = energy_hinge_loss(torch.tensor([-4.0]), torch.tensor([True]))
    assert only_active.item() == pytest.approx(4.0)


def test_silence_bce():
    loss = silence_bce(torch.tensor([0.0, 10.0]), torch.tensor([True, True]))
    assert loss[0].item() == pytest.approx(math.log(2), abs=1e-6)
    assert loss[1].item() < 1e-4
    assert np.isfinite(silence_bce(torch.tensor([-50.0]), torch.tensor([True])).item())


def test_soft_sdr_is_minus_snr_for_a_present_source_below_the_cap():
    from engine.losses import neg_sdr_soft, snr_db

    g = torch.Generator().manual_seed(0)
    ref = torch.randn(3, 2000, generator=g)
    est = ref + 0.3 * torch.randn(3, 2000, generator=g)  # ~10 dB
    mix = torch.randn(3, 2000, generator=g)
    soft = neg_sdr_soft(est, ref, mix)
    # the cap (30 dB) and the floor (-40 dB re mixture) move a 10 dB SNR by ~0.05 dB
    assert torch.allclose(soft, -snr_db(est, ref), atol=0.1)
    assert (soft > -snr_db(est, ref)).all()  # both thresholds only ever lower the SNR


def test_soft_sdr_caps_the_reward_of_a_perfect_estimate():
    from engine.losses import neg_sdr_soft

    ref = torch.randn(1, 1000)
    loss = neg_sdr_soft(ref.clone(), ref, torch.zeros(1, 1000), snr_max_db=30.0)
    assert math.isclose(float(loss), -30.0, abs_tol=1e-3)


def test_soft_sdr_of_an_absent_source_is_finite_and_zero_for_silence():
    """Against an all-zero reference SA-SDR is 10 log10(|est|^2 / eps): unbounded below for
    exact silence, which taught the separator to output silence. The soft loss is >= 0 and
    reaches 0 once the output is 40 dB below the mixture."""
    from engine.losses import neg_sdr_soft

    mix = torch.randn(2, 4000)
    zero = torch.zeros(2, 3, 4000)
    silent = neg_sdr_soft(zero, zero, mix, dims=(-2, -1))
    assert torch.allclose(silent, torch.zeros(2), atol=1e-6)
    quiet = neg_sdr_soft(3e-4 * torch.randn(2, 3, 4000), zero, mix, dims=(-2, -1))
    loud = neg_sdr_soft(torch.randn(2, 3, 4000), zero, mix, dims=(-2, -1))
    assert (quiet >= 0).all() and (quiet < 0.1).all() and (loud > 30).all()
    assert torch.isfinite(neg_sa_sdr(zero, zero)).all()  # plain SA-SDR: 0/0 with eps...
    assert float(neg_sa_sdr(1e-3 * torch.ones(1, 3, 4000), zero[:1])) > 30  # ...but huge here


def test_soft_sdr_aggregates_over_sources_like_sa_sdr():
    from engine.losses import neg_sdr_soft

    g = torch.Generator().manual_seed(1)
    ref = torch.randn(2, 3, 1000, generator=g)
    ref[:, 2] = 0  # one silent slot, as in scenes with two foreground events
    est = ref + 0.3 * torch.randn(2, 3, 1000, generator=g)
    soft = neg_sdr_soft(est, ref, torch.randn(2, 1000, generator=g), dims=(-2, -1))
    assert torch.allclose(soft, neg_sa_sdr(est, ref), atol=0.05)


@pytest.mark.parametrize("with_mixture", [False, True])
def test_pit_order_recovers_a_shuffled_slot_order(with_mixture):
    from engine.losses import pit_order, reorder

    g = torch.Generator().manual_seed(2)
    ref = torch.randn(4, 3, 500, generator=g)
    ref[1, 2] = 0  # a silent reference slot takes the quietest estimate
    perm = torch.tensor([[2, 0, 1], [1, 2, 0], [0, 1, 2], [2, 1, 0]])
    est = reorder(ref, perm.argsort(1)) + 0.05 * torch.randn(4, 3, 500, generator=g)
    mix = torch.randn(4, 500, generator=g) if with_mixture else None
    order = pit_order(est, ref, mix)
    assert torch.allclose(reorder(est, order), ref, atol=0.3)
    assert not torch.allclose(est, ref, atol=0.3)  # the identity order would not do
