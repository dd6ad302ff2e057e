"""M2D self-supervised pre-training on synthesised foreground sources.

The objective is engine.models.m2d_pretrain's (online encoder on visible patches, EMA target
encoder on masked ones, predictor, normalised regression). Here it is wrapped with the M2D
log-mel front end into one module with a config dataclass, so the shared loop trains it, DDP
syncs it and its checkpoints are plain data; `M2DSC` runs start from it with
`task.init=RUN/best.pt` (the online encoder and the front end's statistics are copied).
Items: the active ground-truth targets of each scene (optionally cropped). Validation: the
objective on validation targets with fixed masks (lower is better).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from engine.models.logmel import LogMel
from engine.models.m2d_pretrain import M2DPretrainer, PretrainConfig
from engine.models.vit import MAX_TIME_PATCHES, VIT_SIZES, M2DEncoder
from engine.train import distributed
from engine.train.schedule import total_steps_of
from engine.train.tasks.base import Task
from engine.train.tasks.sc import crop_items, fit_norm_stats


@dataclass
class M2DPretrainModelConfig:
    """Encoder size (as M2D-SC's), predictor size and masking of the pre-training model."""

    embed_dim: int = 768
    depth: int = 12
    num_heads: int = 12
    mlp_ratio: float = 4.0
    max_time_patches: int = MAX_TIME_PATCHES
    mask_ratio: float = 0.7
    predictor_dim: int = 512
    predictor_depth: int = 8
    predictor_heads: int = 16
    ema_momentum: float = 0.99995
    norm_mean: float = 0.0
    norm_std: float = 1.0


def _sized(size: str, **kw) -> M2DPretrainModelConfig:
    s = VIT_SIZES[size]
    return M2DPretrainModelConfig(embed_dim=s.embed_dim, depth=s.depth, num_heads=s.num_heads, **kw)


CONFIGS = {
    "paper": _sized("base"),
    "lite": _sized("tiny", predictor_dim=192, predictor_depth=4, predictor_heads=4),
    "toy": _sized("toy", predictor_dim=32, predictor_depth=1, predictor_heads=2),
}


class M2DPretrainModel(nn.Module):
    """Log-mel front end + M2DPretrainer; `forward(wave)` is the pre-training loss.

    Shape: wave `[B, N]` (N <= 10 s) -> scalar.
    """

    model_name = "m2d_pretrain"
    config_class = M2DPretrainModelConfig

    def __init__(self, config: M2DPretrainModelConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or M2DPretrainModelConfig()
        self.frontend = LogMel(config.norm_mean, config.norm_std)
        encoder = M2DEncoder(
            config.embed_dim,
            config.depth,
            config.num_heads,
            config.mlp_ratio,
            config.max_time_patches,
        )
        objective = PretrainConfig(
            mask_ratio=config.mask_ratio,
            predictor_dim=config.predictor_dim,
            predictor_depth=config.predictor_depth,
            predictor_heads=config.predictor_heads,
            ema_momentum=config.ema_momentum,
        )
        self.pretrainer = M2DPretrainer(encoder, objective)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        return self.pretrainer(self.frontend(wave))


class M2DPretraining(Task):
    """The M2D pre-training batch function (source items), loss and validation loss."""

    model_name = "m2d_pretrain"
    metric = "loss"
    higher_is_better = False

    def build_model(self) -> nn.Module:
        """A pre-training model of the named size (CONFIGS of this module)."""
        if self.config.model not in CONFIGS:
            raise ValueError(
                f"m2d_pretrain has no config {self.config.model!r}; known: {', '.join(CONFIGS)}"
            )
        return M2DPretrainModel(CONFIGS[self.config.model])

    def setup(self, model: nn.Module) -> None:
        """Log-mel statistics from the first training mixtures (as for a fresh M2D-SC)."""
        fit_norm_stats(model, self.config.data, self.device)

    def prepare_batch(self, batch: dict[str, torch.Tensor], generator: torch.Generator) -> dict:
        """Scenes -> the active targets as items `wave [M, L]` (at least one item)."""
        batch = super().prepare_batch(batch, generator)
        wave = batch["targets"][batch["active"]]
        if wave.shape[0] == 0:  # a batch of silent scenes: use the mixtures' W channel
            wave = batch["mixture"][:, 0]
        crop = self.config.task.crop_seconds
        if crop > 0:
            wave = crop_items(wave, int(crop * 32_000), generator)
        return {"wave": wave}

    def loss(
        self, model: nn.Module, batch: dict[str, Any]
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """The M2D objective (masks from the global RNG, which checkpoints restore)."""
        loss = model(batch["wave"]).float()
        return loss, {}

    def after_step(self, model: nn.Module, step: int) -> None:
        """EMA update of the target encoder; momentum rises from ema_start to ema_end (cosine)."""
        opts = self.config.task
        total = total_steps_of(self.config, self.dist.world_size)
        ramp = (math.cos(math.pi * min(step / total, 1.0)) + 1) / 2
        model.pretrainer.update_target(opts.ema_end - (opts.ema_end - opts.ema_start) * ramp)

    @torch.no_grad()
    def validate(self, model: nn.Module, loader) -> dict[str, float]:
        """Mean objective over validation targets with fixed masks (global RNG untouched)."""
        total, count = 0.0, 0.0
        devices = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(12_345 + self.dist.rank)
            for batch in loader:
                batch = {k: v.to(self.device) for k, v in batch.items()}
                wave = batch["targets"][batch["active"]]
                if wave.shape[0]:
                    total += float(model(wave)) * wave.shape[0]
                    count += wave.shape[0]
        s = distributed.all_reduce_sum({"total": total, "count": count}, self.device)
        return {"loss": s["total"] / max(s["count"], 1.0)}
