"""Run checkpoints: plain-data model checkpoints (engine.models.checkpoint) plus trainer state.

`last.pt` carries `extra["trainer"]` (optimizer state, step, RNG states, best metric) so a run
resumes exactly; `best.pt` carries only the model, the run's config and its metrics, so it can go
into a bundle as it is. Both load with `torch.load(weights_only=True)`. The config is also written
as `config.json` beside them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from engine.models.checkpoint import CheckpointError, read_checkpoint, save_checkpoint
from engine.train.config import TrainConfig

LAST = "last.pt"
BEST = "best.pt"
CONFIG_JSON = "config.json"


def rng_state() -> dict[str, Any]:
    """Torch CPU and CUDA generator states as tensors (plain data)."""
    state: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what `rng_state` saved (CUDA states only when the device count matches)."""
    torch.set_rng_state(state["torch"])
    cuda = state.get("cuda")
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)


def write_config(out_dir: Path, config: TrainConfig) -> Path:
    """`out_dir/config.json`, written atomically."""
    path = Path(out_dir) / CONFIG_JSON
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    tmp.write_text(config.to_json())
    os.replace(tmp, path)
    return path


def save_run_checkpoint(
    path: Path,
    model: nn.Module,
    config: TrainConfig,
    step: int,
    metrics: dict[str, float] | None = None,
    trainer: dict[str, Any] | None = None,
) -> Path:
    """A model checkpoint whose `extra` holds the run config, metrics and (optionally) trainer."""
    extra: dict[str, Any] = {
        "train": {
            "task": config.name,
            "config": config.to_dict(),
            "step": int(step),
            "metrics": {k: float(v) for k, v in (metrics or {}).items()},
        }
    }
    if trainer is not None:
        extra["trainer"] = trainer
    write_config(Path(path).parent, config)
    return save_checkpoint(path, model, step=step, extra=extra)


def load_trainer_state(path: Path) -> dict[str, Any]:
    """The raw checkpoint at `path`, checked to hold trainer state (for resuming)."""
    data = read_checkpoint(path)
    if "trainer" not in data.get("extra", {}):
        raise CheckpointError(f"{path}: holds no trainer state; cannot resume from it")
    return data


def export_weights(src: str | os.PathLike, dst: str | os.PathLike, half: bool = False) -> Path:
    """Copy a checkpoint without trainer state (optionally fp16 floats, to halve its size).

    An fp16 checkpoint still loads with `load_checkpoint`: `load_state_dict` casts to the
    model's dtype.
    """
    data = read_checkpoint(src)
    extra = {k: v for k, v in data.get("extra", {}).items() if k != "trainer"}
    state = {
        k: (v.half() if half and v.is_floating_point() else v)
        for k, v in data["state_dict"].items()
    }
    out = {**data, "state_dict": state, "extra": extra}
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.part")
    try:
        torch.save(out, tmp)
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)
    return dst


def checkpoint_summary(path: str | os.PathLike) -> dict[str, Any]:
    """Model name, step, task and metrics of a run checkpoint (JSON-friendly)."""
    data = read_checkpoint(path)
    train = data.get("extra", {}).get("train", {})
    return {
        "path": str(path),
        "model": data["model"],
        "step": data.get("step", 0),
        "task": train.get("task"),
        "metrics": train.get("metrics", {}),
        "has_trainer": "trainer" in data.get("extra", {}),
        "size_mb": round(Path(path).stat().st_size / 2**20, 2),
    }


def format_summary(summary: dict[str, Any]) -> str:
    """One readable line of `checkpoint_summary`."""
    metrics = ", ".join(f"{k} {v:.4g}" for k, v in summary["metrics"].items())
    return (
        f"{summary['path']}: {summary['model']} step {summary['step']} "
        f"({summary['size_mb']} MB){': ' + metrics if metrics else ''}"
    )
