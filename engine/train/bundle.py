"""Trained checkpoints -> the app's model bundle (engine.pipeline.bundle.save_bundle)."""

from __future__ import annotations

import os
from pathlib import Path

from engine.models.checkpoint import CheckpointError, load_checkpoint
from engine.pipeline.bundle import ROLES, BundleError, save_bundle


def assemble_bundle(
    uss: str | os.PathLike,
    tse: str | os.PathLike,
    sc: str | os.PathLike,
    out: str | os.PathLike,
    name: str = "",
) -> Path:
    """Write a bundle folder from three run checkpoints, checking each holds the right model.

    The SC checkpoint's `thresholds` buffer (calibrated by the SC run) becomes the bundle's
    thresholds; each checkpoint's training step, task and validation metrics go into `notes`.
    """
    models, steps, notes = {}, {}, {"trained": True, "sources": {}}
    for role, path in (("uss", uss), ("tse", tse), ("sc", sc)):
        try:
            model, meta = load_checkpoint(path)
        except CheckpointError as exc:
            raise BundleError(str(exc)) from None
        if meta["model"] != ROLES[role]:
            raise BundleError(
                f"{path}: holds a {meta['model']} model, expected {ROLES[role]} for --{role}"
            )
        models[role] = model
        steps[role] = int(meta.get("step", 0))
        train = meta.get("extra", {}).get("train", {})
        notes["sources"][role] = {
            "checkpoint": str(path),
            "step": steps[role],
            "config": train.get("config", {}).get("model"),
            "metrics": train.get("metrics", {}),
        }
    return save_bundle(
        out, models["uss"], models["tse"], models["sc"], name=name, steps=steps, notes=notes
    )
