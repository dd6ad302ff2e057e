"""Separation training losses of METHOD.md (torch, differentiable, per-item outputs).

Every function returns one value per batch item; callers average. eps guards empty targets.
"""

from __future__ import annotations

import itertools

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


SNR_MAX_DB = 30.0
"""Soft threshold of `neg_sdr_soft`: past this SNR a reference's error stops mattering."""

ABSENT_FLOOR_DB = -40.0
"""Level, relative to the mixture, below which an output for an absent source costs nothing."""


def neg_sdr_soft(
    est: torch.Tensor,
    ref: torch.Tensor,
    mixture: torch.Tensor,
    snr_max_db: float = SNR_MAX_DB,
    floor_db: float = ABSENT_FLOOR_DB,
    dims: tuple[int, ...] = (-1,),
) -> torch.Tensor:
    """Negative SDR with soft thresholds (MixIT-style), safe for absent (all-zero) references.

    `10 log10(|r - e|^2 + tau |r|^2 + f) - 10 log10(|r|^2 + f)` with `tau = 10^(-snr_max/10)`
    and `f = 10^(floor/10) |mixture|^2`. For a present source this is -SNR capped at
    `snr_max_db`; for an absent one it is `10 log10(1 + |e|^2 / f)`: zero once the output is
    `floor_db` below the mixture, so it cannot reward (and blow up towards) exact silence the
    way SA-SDR / SI-SNR against zeros (`10 log10(|e|^2 / eps)`) does. With `dims` (-2, -1) the
    energies are summed over sources first (source-aggregated, as SA-SDR).

    Shape: est, ref `[B, ..., N]`, mixture `[B, N]` -> `[B, ...]` reduced over `dims`.
    """
    _check(est, ref)
    tau = 10 ** (-snr_max_db / 10)
    floor = 10 ** (floor_db / 10) * mixture.pow(2).sum(-1)
    ref_e = ref.pow(2).sum(dims)
    err = (ref - est).pow(2).sum(dims)
    floor = floor.view(floor.shape + (1,) * (ref_e.ndim - floor.ndim)) + EPS
    return 10 * (torch.log10(err + tau * ref_e + floor) - torch.log10(ref_e + floor))


def pit_order(
    est: torch.Tensor, ref: torch.Tensor, mixture: torch.Tensor | None = None
) -> torch.Tensor:
    """Per item, the permutation of estimate slots that best matches the reference slots.

    Without `mixture`: the order minimising `sum_k |ref_k - est_perm(k)|^2`, i.e. maximising
    SA-SDR (its numerator does not depend on the order). With `mixture` `[B, N]`: the order
    minimising the summed per-slot `neg_sdr_soft`, the assignment of a per-source SNR loss.
    Silent reference slots take the quietest estimates. No gradient flows through the choice.

    Shape: est, ref `[B, M, N]` -> `[B, M]` long: estimate index for each reference slot.
    """
    _check(est, ref)
    m = ref.shape[1]
    with torch.no_grad():
        e, r = est.detach().float(), ref.detach().float()
        # |r_i - e_j|^2 = |r_i|^2 - 2 r_i.e_j + |e_j|^2, without an [B, M, M, N] tensor
        ref_e = r.pow(2).sum(-1)[:, :, None]
        cost = (ref_e - 2 * r @ e.transpose(1, 2) + e.pow(2).sum(-1)[:, None]).clamp_min(0)
        if mixture is not None:
            floor = 10 ** (ABSENT_FLOOR_DB / 10) * mixture.float().pow(2).sum(-1)[:, None, None]
            tau = 10 ** (-SNR_MAX_DB / 10)
            cost = torch.log10(cost + tau * ref_e + floor + EPS) - torch.log10(ref_e + floor + EPS)
        perms = torch.tensor(list(itertools.permutations(range(m))), device=est.device)
        rows = torch.arange(m, device=est.device)
        totals = cost[:, rows[None, :], perms].sum(-1)  # [B, M!]
        return perms[totals.argmin(-1)]


def reorder(x: torch.Tensor, order: torch.Tensor) -> torch.Tensor:
    """Slots of `x` in `order` (from `pit_order`). Shape: `[B, M, ...]`, `[B, M]` -> `[B, M, ...]`."""
    index = order.view(*order.shape, *([1] * (x.ndim - 2))).expand(*order.shape, *x.shape[2:])
    return x.gather(1, index)
