"""What a module brings to the one training loop: a model, a batch function, a loss, a metric.

The loop (engine.train.loop) owns everything else: optimiser, schedule, precision, DDP,
checkpoints, logs, the time budget and cancellation.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from engine.models.registry import build_model
from engine.train.config import TrainConfig
from engine.train.distributed import DistInfo


def autocast_for(config: TrainConfig, device: torch.device):
    """bf16 autocast on CUDA ("auto") or when asked; a null context otherwise."""
    use = config.precision == "bf16" or (config.precision == "auto" and device.type == "cuda")
    if not use:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


class Task:
    """Base of the module-specific parts; subclasses set the class attributes and override.

    Attributes:
        model_name: registry name of the trained model.
        metric: key of `validate`'s result that selects the best checkpoint.
        higher_is_better: direction of `metric`.
    """

    model_name: str = ""
    metric: str = ""
    higher_is_better: bool = True

    def __init__(self, config: TrainConfig, dist: DistInfo) -> None:
        self.config = config
        self.dist = dist
        self.device = dist.device
        self.out_dir: Path | None = None  # set by the loop; where finish() may write files

    def build_model(self) -> nn.Module:
        """A fresh model of the configured size (subclasses add initialisation from files)."""
        return build_model(self.model_name, self.config.model)

    def autocast(self):
        """The run's precision context for forward passes (see `autocast_for`)."""
        return autocast_for(self.config, self.device)

    def setup(self, model: nn.Module) -> None:
        """Once, after the model is on its device: freezing, frozen helper models, statistics."""

    def start_fresh(self, model: nn.Module) -> list[str]:
        """On a run's first start only (a resumed run skips it): data-driven initialisation.

        Returns lines for the train log.
        """
        return []

    def prepare_batch(self, batch: dict[str, torch.Tensor], generator: torch.Generator) -> dict:
        """The batch function: a collated dataset batch -> the loss's inputs on the device.

        `generator` (CPU) is seeded by (seed, step, rank): use it for any randomness.
        """
        return {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}

    def loss(
        self, model: nn.Module, batch: dict[str, Any]
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """Scalar loss to minimise and named parts to log. `model` may be DDP-wrapped: call it."""
        raise NotImplementedError

    def after_step(self, model: nn.Module, step: int) -> None:
        """After each optimiser step (e.g. an EMA update); `model` is the unwrapped model."""

    @torch.no_grad()
    def validate(self, model: nn.Module, loader: DataLoader) -> dict[str, float]:
        """Validation metrics over this rank's share, reduced over ranks (model in eval mode)."""
        raise NotImplementedError

    def finish(self, model: nn.Module, loader: DataLoader) -> dict[str, float]:
        """After training, on the best model: e.g. calibration. Returns metrics to record."""
        return {}

    def better(self, value: float, best: float | None) -> bool:
        """Whether a validation value beats the best so far."""
        if best is None:
            return True
        return value > best if self.higher_is_better else value < best
