"""Long signals as overlapping windows, and weighted overlap-add back.

Windows of `size` samples start every `hop` samples; the signal is zero-padded at the end so
the last window is complete. Overlap-add blends with a triangular weight (never zero inside a
window) and divides by the summed weights, so `overlap_add(segment(x)) == x` exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class WindowPlan:
    """Where the windows of a signal of `length` samples lie."""

    length: int
    size: int
    hop: int

    def __post_init__(self) -> None:
        if not 0 < self.hop <= self.size:
            raise ValueError(f"need 0 < hop <= size, got hop={self.hop}, size={self.size}")
        if self.length <= 0:
            raise ValueError(f"length must be positive, got {self.length}")

    @property
    def count(self) -> int:
        """Number of windows."""
        if self.length <= self.size:
            return 1
        return 1 + math.ceil((self.length - self.size) / self.hop)

    def starts(self) -> list[int]:
        """Start sample of every window."""
        return [i * self.hop for i in range(self.count)]

    @property
    def padded_length(self) -> int:
        """Length covered by all windows."""
        return (self.count - 1) * self.hop + self.size


def blend_weight(size: int, hop: int, dtype=np.float32) -> np.ndarray:
    """Triangular weight of one window, flat where no other window overlaps it."""
    overlap = size - hop
    w = np.ones(size, dtype=dtype)
    if overlap > 0:
        ramp = (np.arange(overlap, dtype=np.float64) + 0.5) / overlap
        w[:overlap] = ramp
        w[size - overlap :] = ramp[::-1]
    return w


def segment(x: torch.Tensor, size: int, hop: int) -> torch.Tensor:
    """Cut the last axis into overlapping windows.

    Shape:
        x: `[..., N]` -> `[..., K, size]` with K = WindowPlan(N, size, hop).count.
    """
    plan = WindowPlan(x.shape[-1], size, hop)
    pad = plan.padded_length - x.shape[-1]
    if pad:
        x = torch.nn.functional.pad(x, (0, pad))
    return x.unfold(-1, size, hop)


def overlap_add(frames: torch.Tensor, hop: int, length: int) -> torch.Tensor:
    """Blend windows back into one signal with the triangular weight, normalised.

    Shape:
        frames: `[..., K, size]` -> `[..., length]`.
    """
    *lead, k, size = frames.shape
    w = torch.as_tensor(blend_weight(size, hop), dtype=frames.dtype, device=frames.device)
    total = (k - 1) * hop + size
    flat = frames.reshape(-1, k, size)
    out = torch.zeros(flat.shape[0], total, dtype=frames.dtype, device=frames.device)
    norm = torch.zeros(total, dtype=frames.dtype, device=frames.device)
    for i in range(k):
        s = i * hop
        out[:, s : s + size] += flat[:, i] * w
        norm[s : s + size] += w
    out = out / norm
    return out[:, :length].reshape(*lead, length)
