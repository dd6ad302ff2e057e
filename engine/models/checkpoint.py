"""Checkpoints as plain data: `{model, config, state_dict, step, versions, extra}`.

Written atomically (temp file + rename) and loadable with `torch.load(weights_only=True)`: no
pickled classes, so a checkpoint never executes code and survives refactors.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from engine import __version__
from engine.errors import ScenesplitError
from engine.models.registry import build_model

FORMAT_VERSION = 1


class CheckpointError(ScenesplitError):
    """A checkpoint file that cannot be used; the message names the file."""


def model_name(model: nn.Module) -> str:
    """Registry name of a model instance (its class attribute `model_name`)."""
    return type(model).model_name


def checkpoint_dict(
    model: nn.Module, step: int = 0, extra: dict | None = None, dtype: torch.dtype | None = None
) -> dict[str, Any]:
    """The plain-data checkpoint of `model` (weights on CPU; floats cast to `dtype` if given)."""

    def prepare(v: torch.Tensor) -> torch.Tensor:
        v = v.detach().cpu()
        # Small tensors (thresholds, normalisation statistics, norms) stay exact: halving them
        # saves nothing and would round calibrated values such as energy thresholds.
        if dtype is not None and v.is_floating_point() and v.numel() >= 4096:
            return v.to(dtype)
        return v

    return {
        "format": FORMAT_VERSION,
        "model": model_name(model),
        "config": dataclasses.asdict(model.config),
        "state_dict": {k: prepare(v) for k, v in model.state_dict().items()},
        "step": int(step),
        "versions": {
            "scenesplit": __version__,
            "torch": str(torch.__version__),
        },  # plain str: TorchVersion is not weights_only-safe
        "extra": extra or {},
    }


def save_checkpoint(
    path: str | os.PathLike,
    model: nn.Module,
    step: int = 0,
    extra: dict | None = None,
    dtype: torch.dtype | None = None,
) -> Path:
    """Write `model` to `path` atomically; `extra` holds plain data (thresholds, metrics, ...).

    `dtype=torch.float16` halves the file (for shipped weights); loading casts back to the
    model's own dtype.
    """
    return write_checkpoint_data(path, checkpoint_dict(model, step, extra, dtype))


def write_checkpoint_data(path: str | os.PathLike, data: dict[str, Any]) -> Path:
    """Write plain checkpoint data (as `checkpoint_dict` makes it) to `path` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        torch.save(data, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def read_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """The raw plain-data checkpoint; CheckpointError for missing or foreign files."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means "not ours"
        raise CheckpointError(
            f"{path}: not a readable checkpoint ({exc.__class__.__name__})"
        ) from None
    if not isinstance(data, dict) or "model" not in data or "state_dict" not in data:
        raise CheckpointError(f"{path}: not a Scenesplit checkpoint (no model/state_dict)")
    return data


def load_checkpoint(
    path: str | os.PathLike, device: str | torch.device = "cpu"
) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild the model saved at `path` in eval mode; returns (model, checkpoint metadata)."""
    data = read_checkpoint(path)
    try:
        model = build_model(data["model"], data["config"])
        model.load_state_dict(data["state_dict"])
    except (ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{path}: does not match its model ({exc})") from None
    meta = {k: v for k, v in data.items() if k != "state_dict"}
    return model.to(device).eval(), meta
