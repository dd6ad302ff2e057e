"""M2D self-supervised pre-training ("Masked Modeling Duo"), from the paper's equations.

A log-mel batch is cut into patches; a random share `mask_ratio` (~0.7) of them is masked per
item. The online encoder sees only the visible patches; the target encoder (an exponential
moving average of the online one, no gradient) sees only the masked patches; a predictor
(a narrower transformer) takes the online outputs, puts a learned mask token at every masked
position, adds its own position embeddings and predicts the target encoder's output there.
Loss: the squared distance between L2-normalised prediction and target, averaged over masked
patches (`2 - 2 cos`). Both encoders get the same frequency-major position embeddings, so the
prediction is "what lies at these positions", and the asymmetry (predictor + EMA target with
no gradient) keeps the representation from collapsing, as in BYOL/data2vec.

Use: `M2DPretrainer(M2DEncoder(...))`, then per batch `loss = pre(spec)`, backprop, optimiser
step, `pre.update_target()`. The online encoder (`pre.online`) is the backbone to fine-tune;
the trainer runs that loop as the `m2d-pretrain` task (engine.train.tasks.m2d_pretrain).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from engine.models.vit import FREQ_PATCHES, Block, M2DEncoder


@dataclass
class PretrainConfig:
    """M2D pre-training hyper-parameters (paper: mask 0.7, predictor 512 x 8 layers, 16 heads)."""

    mask_ratio: float = 0.7
    predictor_dim: int = 512
    predictor_depth: int = 8
    predictor_heads: int = 16
    ema_momentum: float = 0.99995


class Predictor(nn.Module):
    """Online outputs at visible positions -> predictions at every position.

    Shape:
        visible `[B, Nv, D]`, visible_idx `[B, Nv]`, grid `(5, T')` -> `[B, 5 * T', D]`.
    """

    def __init__(self, embed_dim: int, config: PretrainConfig, max_time_patches: int):
        super().__init__()
        p = config.predictor_dim
        self.max_time_patches = max_time_patches
        self.embed = nn.Linear(embed_dim, p)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, p))
        self.pos_embed = nn.Parameter(torch.zeros(1, FREQ_PATCHES * max_time_patches, p))
        self.blocks = nn.ModuleList(
            Block(p, config.predictor_heads) for _ in range(config.predictor_depth)
        )
        self.norm = nn.LayerNorm(p, eps=1e-6)
        self.proj = nn.Linear(p, embed_dim)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.trunc_normal_(self.mask_token, std=0.02)

    def forward(
        self, visible: torch.Tensor, visible_idx: torch.Tensor, grid: tuple[int, int]
    ) -> torch.Tensor:
        fp, tp = grid
        b = visible.shape[0]
        x = self.mask_token.expand(b, fp * tp, -1).clone()
        idx = visible_idx[..., None].expand(-1, -1, x.shape[-1])
        x = x.scatter(1, idx, self.embed(visible))
        pos = self.pos_embed.reshape(1, fp, self.max_time_patches, -1)[:, :, :tp]
        x = x + pos.reshape(1, fp * tp, -1)
        for block in self.blocks:
            x = block(x)
        return self.proj(self.norm(x))


def random_split(
    b: int, n: int, mask_ratio: float, generator: torch.Generator | None = None, device=None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-item random visible and masked token indices (each sorted).

    Shape: -> visible `[B, Nv]`, masked `[B, N - Nv]`, Nv = round(N * (1 - mask_ratio)) >= 1.
    """
    if not 0.0 < mask_ratio < 1.0:
        raise ValueError(f"mask_ratio must lie in (0, 1), got {mask_ratio}")
    n_visible = min(n - 1, max(1, round(n * (1.0 - mask_ratio))))
    noise = torch.rand(b, n, generator=generator, device=device)
    order = noise.argsort(dim=1)
    visible = order[:, :n_visible].sort(dim=1).values
    masked = order[:, n_visible:].sort(dim=1).values
    return visible, masked


def _gather(tokens: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    return tokens.gather(1, idx[..., None].expand(-1, -1, tokens.shape[-1]))


class M2DPretrainer(nn.Module):
    """Online encoder + EMA target encoder + predictor; `forward` returns the M2D loss.

    Shape:
        spec: `[B, 1, 80, T]` with T // 16 <= the encoder's time patches -> scalar loss.
    """

    def __init__(self, encoder: M2DEncoder, config: PretrainConfig | None = None):
        super().__init__()
        self.config = config = config or PretrainConfig()
        self.online = encoder
        self.target = copy.deepcopy(encoder)
        for p in self.target.parameters():
            p.requires_grad_(False)
        self.predictor = Predictor(encoder.embed_dim, config, encoder.max_time_patches)

    def forward(self, spec: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        windows = self.online.embed_windows(spec)
        if len(windows) != 1:
            raise ValueError(
                f"pre-training crops must fit {self.online.max_time_patches} time patches, "
                f"got {spec.shape[-1] // 16}"
            )
        tokens = windows[0]
        b, n, _ = tokens.shape
        grid = (FREQ_PATCHES, n // FREQ_PATCHES)
        visible_idx, masked_idx = random_split(
            b, n, self.config.mask_ratio, generator, tokens.device
        )
        online = self.online.encode_tokens(_gather(tokens, visible_idx))[:, 1:]
        with torch.no_grad():
            target_tokens = self.target.embed_windows(spec)[0]
            target = self.target.encode_tokens(_gather(target_tokens, masked_idx))[:, 1:]
        pred = _gather(self.predictor(online, visible_idx, grid), masked_idx)
        return (F.normalize(pred, dim=-1) - F.normalize(target, dim=-1)).pow(2).sum(-1).mean()

    @torch.no_grad()
    def update_target(self, momentum: float | None = None) -> None:
        """EMA step: target <- m * target + (1 - m) * online."""
        m = self.config.ema_momentum if momentum is None else momentum
        for t, o in zip(self.target.parameters(), self.online.parameters(), strict=True):
            t.mul_(m).add_(o.detach(), alpha=1.0 - m)
