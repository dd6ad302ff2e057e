"""Separation metrics of METRICS.md on numpy arrays (computed in float64).

`SNR(est, ref) = 10 log10((sum ref^2 + eps) / (sum (ref - est)^2 + eps))`, eps = float32 epsilon:
not scale-invariant and without mean removal, as the challenge scores it.
"""

from __future__ import annotations

import numpy as np

from engine.constants import FLOAT32_EPS


def _pair(est: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    est = np.asarray(est, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    if est.shape != ref.shape:
        raise ValueError(f"estimate shape {est.shape} differs from reference shape {ref.shape}")
    return est, ref


def snr(est: np.ndarray, ref: np.ndarray, eps: float = FLOAT32_EPS) -> np.ndarray:
    """Plain SNR in dB over the last axis (the challenge's "SDR")."""
    est, ref = _pair(est, ref)
    num = np.sum(ref**2, axis=-1) + eps
    den = np.sum((ref - est) ** 2, axis=-1) + eps
    return 10 * np.log10(num / den)


def si_sdr(
    est: np.ndarray, ref: np.ndarray, eps: float = FLOAT32_EPS, zero_mean: bool = True
) -> np.ndarray:
    """Scale-invariant SDR in dB over the last axis (signals mean-removed by default)."""
    est, ref = _pair(est, ref)
    if zero_mean:
        est = est - est.mean(axis=-1, keepdims=True)
        ref = ref - ref.mean(axis=-1, keepdims=True)
    alpha = np.sum(est * ref, axis=-1, keepdims=True) / (
        np.sum(ref**2, axis=-1, keepdims=True) + eps
    )
    target = alpha * ref
    return 10 * np.log10(
        (np.sum(target**2, axis=-1) + eps) / (np.sum((est - target) ** 2, axis=-1) + eps)
    )


def sa_sdr(est: np.ndarray, ref: np.ndarray, eps: float = FLOAT32_EPS) -> np.ndarray:
    """Source-aggregated SDR in dB: energies summed over sources before the ratio.

    Shape: `[..., M, N]` -> `[...]`.
    """
    est, ref = _pair(est, ref)
    num = np.sum(ref**2, axis=(-2, -1)) + eps
    den = np.sum((ref - est) ** 2, axis=(-2, -1)) + eps
    return 10 * np.log10(num / den)


def snr_improvement(est: np.ndarray, ref: np.ndarray, mixture: np.ndarray) -> np.ndarray:
    """SNR(est, ref) - SNR(mixture, ref): what the separation gained over doing nothing."""
    return snr(est, ref) - snr(np.broadcast_to(mixture, np.shape(ref)), ref)


def si_sdr_improvement(est: np.ndarray, ref: np.ndarray, mixture: np.ndarray) -> np.ndarray:
    """SI-SDR(est, ref) - SI-SDR(mixture, ref)."""
    return si_sdr(est, ref) - si_sdr(np.broadcast_to(mixture, np.shape(ref)), ref)
