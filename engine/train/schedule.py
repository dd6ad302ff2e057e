"""The training schedule: how many optimizer steps a run takes and the learning rate at each."""

from __future__ import annotations

import math

from engine.train import data as train_data
from engine.train.config import OptimConfig, TrainConfig


def total_steps_of(config: TrainConfig, world_size: int) -> int:
    """`max_steps`, or epochs x steps per epoch."""
    if config.max_steps > 0:
        return config.max_steps
    return config.epochs * train_data.steps_per_epoch(config.data, world_size)


def lr_at(step: int, optim: OptimConfig, total_steps: int, time_fraction: float = 0.0) -> float:
    """Linear warmup over `warmup_steps`, then cosine decay to `min_lr_ratio * lr` at the end.

    Both count from `restart_step` once the run has reached it (a warm restart).

    The cosine's progress is the step share after warmup, or `time_fraction` (elapsed share of
    a time budget) when that is larger.
    """
    start = optim.restart_step if step >= optim.restart_step else 0
    local = step - start
    if local < optim.warmup_steps:
        return optim.lr * (local + 1) / optim.warmup_steps
    span = max(1, total_steps - start - optim.warmup_steps)
    progress = min(1.0, max((local - optim.warmup_steps) / span, time_fraction))
    floor = optim.lr * optim.min_lr_ratio
    return floor + 0.5 * (optim.lr - floor) * (1 + math.cos(math.pi * progress))
