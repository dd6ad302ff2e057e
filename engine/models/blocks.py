"""Building blocks of DeFT-Mamba, all on channels-last sequences `[N, L, D]`.

N batches the sequences (e.g. batch x time frames for a block along frequency), L is the axis
the block works along, D the channels. Every block is pre-norm and residual.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from engine.models.mamba2 import BiMamba2


class ResFiLM(nn.Module):
    """Res-FiLM: a clue embedding turned into a per-channel bias (and optional gain).

    Applied right after a normalisation: `n * (1 + gain) + bias`.

    Shape:
        n: `[N, L, D]`, embedding: `[N, E]` -> `[N, L, D]`.
    """

    def __init__(self, embed_dim: int, channels: int, gain: bool = False) -> None:
        super().__init__()
        self.gain = gain
        self.proj = nn.Linear(embed_dim, 2 * channels if gain else channels)
        # Start as the identity so an untrained conditioning path leaves the trunk unchanged.
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, n: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        film = self.proj(embedding).unsqueeze(1)
        if self.gain:
            gain, bias = film.chunk(2, -1)
            return torch.addcmul(n + bias, n, gain)
        return n + film


class GatedConv(nn.Module):
    """Gated convolution: norm, two `Conv1d(D -> D)` branches, `a * mish(b)`, residual.

    DeFTAN-II unfolds G = 4 neighbours and applies `Conv1d(G*D -> D)` then a transposed conv;
    the report removed the unfold. Here each branch is a plain `Conv1d(D -> D)` with an odd
    kernel (default 3) and 'same' padding: it sees the neighbouring steps directly and keeps
    the length, so no transposed conv is needed. FiLM (if given) acts after the norm.

    Shape:
        x: `[N, L, D]` (+ embedding `[N, E]`) -> `[N, L, D]`.
    """

    def __init__(self, dim: int, kernel_size: int = 3, film: ResFiLM | None = None) -> None:
        super().__init__()
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd ('same' padding), got {kernel_size}")
        self.norm = nn.LayerNorm(dim)
        self.conv_value = nn.Conv1d(dim, dim, kernel_size, padding=kernel_size // 2)
        self.conv_gate = nn.Conv1d(dim, dim, kernel_size, padding=kernel_size // 2)
        self.film = film

    def forward(self, x: torch.Tensor, embedding: torch.Tensor | None = None) -> torch.Tensor:
        n = self.norm(x)
        if self.film is not None and embedding is not None:
            n = self.film(n, embedding)
        # Both branches in one convolution: one pass over the input instead of two.
        weight = torch.cat([self.conv_value.weight, self.conv_gate.weight])
        bias = torch.cat([self.conv_value.bias, self.conv_gate.bias])
        out = F.conv1d(n.transpose(1, 2), weight, bias, padding=self.conv_value.padding)
        value, gate = out.transpose(1, 2).chunk(2, -1)
        return x + value * F.mish(gate)


class AxisAttention(nn.Module):
    """Multi-head self-attention along the sequence axis (scaled_dot_product_attention).

    Shape:
        x: `[N, L, D]` -> `[N, L, D]`.
    """

    def __init__(self, dim: int, heads: int = 4, head_dim: int | None = None) -> None:
        super().__init__()
        self.heads = heads
        self.head_dim = head_dim or dim // heads
        inner = heads * self.head_dim
        self.norm = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * inner)
        self.out = nn.Linear(inner, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, length, _ = x.shape
        qkv = self.qkv(self.norm(x)).view(n, length, 3, self.heads, self.head_dim)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # each [N, heads, L, head_dim]
        y = F.scaled_dot_product_attention(q, k, v)
        return x + self.out(y.transpose(1, 2).reshape(n, length, -1))


class FeedForward(nn.Module):
    """Plain feed-forward: norm, `Linear(D -> mult*D)`, Mish, `Linear(mult*D -> D)`, residual.

    Shape:
        x: `[N, L, D]` -> `[N, L, D]`.
    """

    def __init__(self, dim: int, mult: int = 4) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, mult * dim)
        self.fc2 = nn.Linear(mult * dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.fc2(F.mish(self.fc1(self.norm(x))))


class MambaFeedForward(nn.Module):
    """Mamba feed-forward: norm, bi-Mamba2 (2D), `Linear(2D -> 4D)`, Mish, `Linear(4D -> D)`.

    Shape:
        x: `[N, L, D]` -> `[N, L, D]`.
    """

    def __init__(self, dim: int, mult: int = 4, **mamba_kwargs) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.mamba = BiMamba2(dim, **mamba_kwargs)
        self.fc1 = nn.Linear(2 * dim, mult * dim)
        self.fc2 = nn.Linear(mult * dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.fc2(F.mish(self.fc1(self.mamba(self.norm(x)))))


class HybridBlock(nn.Module):
    """One DeFT-Mamba hybrid block along an axis: gated conv, attention, feed-forward.

    The F-hybrid block uses a plain feed-forward, the T-hybrid block the Mamba one (the
    report's modification). Class-clue FiLM, when configured, acts after the first norm.

    Shape:
        x: `[N, L, D]` (+ embedding `[N, E]`) -> `[N, L, D]`.
    """

    def __init__(
        self,
        dim: int,
        feed_forward: nn.Module,
        kernel_size: int = 3,
        heads: int = 4,
        head_dim: int | None = None,
        film: ResFiLM | None = None,
    ) -> None:
        super().__init__()
        self.conv = GatedConv(dim, kernel_size, film)
        self.attention = AxisAttention(dim, heads, head_dim)
        self.feed_forward = feed_forward

    def forward(self, x: torch.Tensor, embedding: torch.Tensor | None = None) -> torch.Tensor:
        return self.feed_forward(self.attention(self.conv(x, embedding)))
