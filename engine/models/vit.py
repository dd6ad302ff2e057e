"""The M2D encoder: a ViT over 16x16 patches of the [80 mel x T] log-mel spectrogram.

Token order is **frequency-major**: the patch grid `[F', T']` (F' = 80 / 16 = 5 frequency bands,
T' = T // 16 time steps) is flattened with the frequency index outer and the time index inner,
token `k = f * T' + t` (row-major over `[F', T']`, exactly `Conv2d(...).flatten(2)` on
`[B, D, F', T']`). The first T' tokens are therefore the lowest band at every time step, then
the next band, and so on. Official M2D checkpoints use this order, so their `pos_embed`
(`[1, 1 + 5 * 62, D]`, the first position belonging to the cls token) reshapes to `[5, 62]`.

Lengths: the position embeddings cover `max_time_patches` (62 = 10 s at 32 kHz). A shorter input
uses the first T' columns of the `[5, 62]` grid (a crop, no interpolation). A longer input is
split along time into consecutive windows of at most 62 patches; each window is encoded on its
own with the cropped embeddings, and the features average all patch tokens of all windows
(the encoder never sees positions it was not trained on, and no audio is dropped). Frames that
do not fill a whole 16-frame patch at the end are dropped.

Parameter names are timm's (`cls_token`, `pos_embed`, `patch_embed.proj.*`,
`blocks.N.{norm1,attn.qkv,attn.proj,norm2,mlp.fc1,mlp.fc2}.*`, `norm.*`), so official weights
load 1:1 (see `engine.models.m2d_loader`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

PATCH = 16
N_MELS = 80
FREQ_PATCHES = N_MELS // PATCH  # 5
MAX_TIME_PATCHES = 62  # 1001 frames (10 s) // 16


@dataclass(frozen=True)
class ViTSize:
    """Width, depth and heads of one ViT size."""

    embed_dim: int
    depth: int
    num_heads: int


VIT_SIZES = {
    "toy": ViTSize(64, 2, 2),
    "tiny": ViTSize(192, 12, 3),
    "small": ViTSize(384, 12, 6),
    "base": ViTSize(768, 12, 12),
}


class PatchEmbed(nn.Module):
    """Non-overlapping 16x16 patches -> tokens, frequency-major.

    Shape: `[B, 1, F, T]` -> `[B, F'*T', D]` and the grid `(F', T')`.
    """

    def __init__(self, embed_dim: int, patch: int = PATCH):
        super().__init__()
        self.patch = patch
        self.proj = nn.Conv2d(1, embed_dim, patch, stride=patch)

    def forward(self, spec: torch.Tensor) -> tuple[torch.Tensor, tuple[int, int]]:
        x = self.proj(spec)  # [B, D, F', T']
        grid = (x.shape[2], x.shape[3])
        return x.flatten(2).transpose(1, 2), grid


class Attention(nn.Module):
    """Multi-head self-attention with a fused qkv projection (timm layout).

    Shape: `[B, N, D]` -> `[B, N, D]`.
    """

    def __init__(self, dim: int, num_heads: int):
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"embed dim {dim} is not divisible by {num_heads} heads")
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.num_heads, d // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # each [B, H, N, hd]
        out = F.scaled_dot_product_attention(q, k, v)
        return self.proj(out.transpose(1, 2).reshape(b, n, d))


class Mlp(nn.Module):
    """Two-layer GELU feed-forward. Shape: `[..., D]` -> `[..., D]`."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):
    """Pre-norm transformer block. Shape: `[B, N, D]` -> `[B, N, D]`."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float = 4.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class M2DEncoder(nn.Module):
    """The M2D ViT encoder: log-mel patches -> token embeddings -> mean of patch tokens.

    Shape:
        spec: `[B, 1, 80, T]` (T >= 16) -> features `[B, D]`.
    """

    def __init__(
        self,
        embed_dim: int = 768,
        depth: int = 12,
        num_heads: int = 12,
        mlp_ratio: float = 4.0,
        max_time_patches: int = MAX_TIME_PATCHES,
    ):
        super().__init__()
        self.embed_dim = embed_dim
        self.max_time_patches = max_time_patches
        self.patch_embed = PatchEmbed(embed_dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(
            torch.zeros(1, 1 + FREQ_PATCHES * max_time_patches, embed_dim)
        )
        self.blocks = nn.ModuleList(Block(embed_dim, num_heads, mlp_ratio) for _ in range(depth))
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        self.apply(_init_weights)

    def patch_pos_embed(self, time_patches: int) -> torch.Tensor:
        """Position embeddings of the patch tokens for T' <= max time patches, frequency-major.

        Shape: -> `[1, 5 * T', D]`.
        """
        if time_patches > self.max_time_patches:
            raise ValueError(
                f"{time_patches} time patches exceed the {self.max_time_patches} "
                "position embeddings; split the input first"
            )
        grid = self.pos_embed[:, 1:].reshape(1, FREQ_PATCHES, self.max_time_patches, -1)
        return grid[:, :, :time_patches].reshape(1, FREQ_PATCHES * time_patches, -1)

    def check_spec(self, spec: torch.Tensor) -> None:
        """ValueError unless `spec` is `[B, 1, 80, T >= 16]`."""
        if spec.ndim != 4 or spec.shape[1] != 1 or spec.shape[2] != N_MELS:
            raise ValueError(f"expected a [B, 1, {N_MELS}, T] spectrogram, got {tuple(spec.shape)}")
        if spec.shape[3] < PATCH:
            raise ValueError(f"spectrogram needs at least {PATCH} frames, got {spec.shape[3]}")

    def embed_windows(self, spec: torch.Tensor) -> list[torch.Tensor]:
        """Patch tokens with position embeddings, one tensor per window of <= 62 time patches.

        Shape: `[B, 1, 80, T]` -> list of `[B, 5 * T'_w, D]`.
        """
        self.check_spec(spec)
        tokens, (fp, tp) = self.patch_embed(spec)
        grid = tokens.reshape(tokens.shape[0], fp, tp, -1)
        windows = []
        for start in range(0, tp, self.max_time_patches):
            part = grid[:, :, start : start + self.max_time_patches]
            width = part.shape[2]
            part = part.reshape(part.shape[0], fp * width, -1)
            windows.append(part + self.patch_pos_embed(width))
        return windows

    def encode_tokens(self, tokens: torch.Tensor) -> torch.Tensor:
        """Prepend the cls token, run the blocks and the final norm.

        Shape: `[B, N, D]` (position embeddings already added) -> `[B, 1 + N, D]`.
        """
        cls = (self.cls_token + self.pos_embed[:, :1]).expand(tokens.shape[0], -1, -1)
        x = torch.cat([cls, tokens], dim=1)
        for block in self.blocks:
            x = block(x)
        return self.norm(x)

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        total = None
        count = 0
        for window in self.embed_windows(spec):
            out = self.encode_tokens(window)[:, 1:]
            total = out.sum(1) if total is None else total + out.sum(1)
            count += out.shape[1]
        return total / count


def _init_weights(module: nn.Module) -> None:
    if isinstance(module, nn.Linear):
        nn.init.xavier_uniform_(module.weight)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)
    elif isinstance(module, nn.Conv2d):
        w = module.weight.data
        nn.init.xavier_uniform_(w.view(w.shape[0], -1))
