"""Classification losses of METHOD.md: ArcFace, KL to uniform, energy score and hinge, BCE silence."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def arcface_logits(
    cosine: torch.Tensor, target: torch.Tensor, s: float = 32.0, m: float = 0.5
) -> torch.Tensor:
    """Scaled logits with the additive angular margin on the target class, eq. (4).

    `s * cos(theta_y + m)` for the target, `s * cos(theta_j)` elsewhere. Where `theta_y + m`
    would pass pi (cos(theta + m) stops decreasing), the usual linear extension
    `cos(theta) - m sin(m)` keeps the logit monotonic in theta.

    Shape: cosine `[B, C]` in [-1, 1], target `[B]` (class index) -> `[B, C]`.
    """
    cos_t = cosine.clamp(-1 + 1e-7, 1 - 1e-7)
    target_cos = cos_t.gather(1, target[:, None])
    sin_t = torch.sqrt(1.0 - target_cos.pow(2))
    with_margin = target_cos * math.cos(m) - sin_t * math.sin(m)
    fallback = target_cos - math.sin(math.pi - m) * m
    with_margin = torch.where(target_cos > math.cos(math.pi - m), with_margin, fallback)
    logits = cos_t.scatter(1, target[:, None], with_margin)
    return s * logits


def arcface_loss(
    cosine: torch.Tensor, target: torch.Tensor, s: float = 32.0, m: float = 0.5
) -> torch.Tensor:
    """ArcFace cross-entropy per item. Shape: `[B, C]`, `[B]` -> `[B]`."""
    return F.cross_entropy(arcface_logits(cosine, target, s, m), target, reduction="none")


def kl_to_uniform(logits: torch.Tensor) -> torch.Tensor:
    """KL(uniform || softmax(logits)) per item: zero exactly when the prediction is uniform.

    The outlier-exposure loss for silent slots. Shape: `[B, C]` -> `[B]`.
    """
    c = logits.shape[-1]
    return -F.log_softmax(logits, dim=-1).mean(-1) - math.log(c)


def energy_score(logits: torch.Tensor) -> torch.Tensor:
    """Energy `E(x) = -logsumexp(logits)`, eq. (5); high for silence. Shape: `[B, C]` -> `[B]`."""
    return -torch.logsumexp(logits, dim=-1)


def energy_hinge_loss(
    energy: torch.Tensor, is_active: torch.Tensor, m_in: float = -6.0, m_out: float = -1.0
) -> torch.Tensor:
    """Squared-hinge energy loss, eq. (6): active above m_in and silent below m_out are penalised.

    Returns the sum of the two expectations (each a mean over its own items; an absent group
    contributes 0). Shape: energy `[B]`, is_active `[B]` bool -> scalar.
    """
    is_active = is_active.bool()
    zero = energy.new_zeros(())
    e_in = energy[is_active]
    e_out = energy[~is_active]
    loss_in = F.relu(e_in - m_in).pow(2).mean() if e_in.numel() else zero
    loss_out = F.relu(m_out - e_out).pow(2).mean() if e_out.numel() else zero
    return loss_in + loss_out


def silence_bce(activity_logit: torch.Tensor, is_active: torch.Tensor) -> torch.Tensor:
    """BCE of the activity logit (sigmoid >= 0.5 means a foreground source). `[B]` -> `[B]`."""
    return F.binary_cross_entropy_with_logits(
        activity_logit, is_active.to(activity_logit.dtype), reduction="none"
    )
