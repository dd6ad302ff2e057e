"""Separation training losses of METHOD.md (torch, differentiable, per-item outputs).

Every function returns one value per batch item; callers average. eps guards empty targets.
"""

from __future__ import annotations

import torch

EPS = 1e-8


def _check(est: torch.Tensor, ref: torch.Tensor) -> None:
    if est.shape != ref.shape:
        raise ValueError(
            f"estimate shape {tuple(est.shape)} differs from reference {tuple(ref.shape)}"
        )


def snr_db(est: torch.Tensor, ref: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    """Plain SNR in dB over the last axis. Shape: `[..., N]` -> `[...]`."""
    _check(est, ref)
    num = ref.pow(2).sum(-1) + eps
    den = (ref - est).pow(2).sum(-1) + eps
    return 10 * torch.log10(num / den)


def neg_sa_sdr(est: torch.Tensor, ref: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    """Negative source-aggregated SDR, eq. (1). Shape: `[B, M, N]` -> `[B]`."""
    _check(est, ref)
    num = ref.pow(2).sum((-2, -1)) + eps
    den = (ref - est).pow(2).sum((-2, -1)) + eps
    return -10 * torch.log10(num / den)


def neg_si_snr(est: torch.Tensor, ref: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    """Negative scale-invariant SNR, eq. (2) (alpha = <est, ref> / |ref|^2). Shape `[..., N]` -> `[...]`."""
    _check(est, ref)
    alpha = (est * ref).sum(-1, keepdim=True) / (ref.pow(2).sum(-1, keepdim=True) + eps)
    target = alpha * ref
    return -10 * torch.log10((target.pow(2).sum(-1) + eps) / ((est - target).pow(2).sum(-1) + eps))


def masked_snr_loss(
    est: torch.Tensor, ref: torch.Tensor, mask: torch.Tensor, eps: float = EPS
) -> torch.Tensor:
    """Masked SNR of the TSE: `-(1/K) sum_k mask_k SNR(est_k, ref_k)` per item.

    Averaged over all K slots (active or not), so the batch mean is the report's
    `-(1/(B*K)) sum_b sum_k mask_bk SNR`.

    Shape: est, ref `[B, K, N]`, mask `[B, K]` (1 = slot active) -> `[B]`.
    """
    if mask.shape != est.shape[:2]:
        raise ValueError(f"mask shape {tuple(mask.shape)} must be {tuple(est.shape[:2])}")
    return -(mask.to(est.dtype) * snr_db(est, ref, eps)).mean(-1)
