"""Module-specific training parts: one `Task` per trainable module (see tasks.base)."""

from __future__ import annotations

import importlib

from engine.train.config import TrainConfig
from engine.train.distributed import DistInfo
from engine.train.tasks.base import Task

TASK_CLASSES = {
    "uss": "engine.train.tasks.uss:USSTraining",
    "sc": "engine.train.tasks.sc:SCTraining",
    "tse": "engine.train.tasks.tse:TSETraining",
    "m2d-pretrain": "engine.train.tasks.m2d_pretrain:M2DPretraining",
}


def make_task(config: TrainConfig, dist: DistInfo) -> Task:
    """The Task object of `config.name`."""
    module, _, cls = TASK_CLASSES[config.name].partition(":")
    return getattr(importlib.import_module(module), cls)(config, dist)
