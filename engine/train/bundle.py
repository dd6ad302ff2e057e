"""Trained checkpoints -> the app's model bundle (engine.pipeline.bundle.save_bundle)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from engine.durable import write_text_durable
from engine.models.checkpoint import CheckpointError, load_checkpoint
from engine.pipeline.bundle import (
    BUNDLE_FILE,
    ROLES,
    BundleError,
    copy_bundle,
    read_bundle_meta,
    save_bundle,
)


def assemble_bundle(
    uss: str | os.PathLike,
    tse: str | os.PathLike,
    sc: str | os.PathLike,
    out: str | os.PathLike,
    name: str = "",
    half: bool = False,
) -> Path:
    """Write a bundle folder from three run checkpoints, checking each holds the right model.

    The SC checkpoint's `thresholds` buffer (calibrated by the SC run) becomes the bundle's
    thresholds; each checkpoint's training step, task and validation metrics go into `notes`,
    with `notes.trained[role]` true for every model that saw training steps and the CPU-hours
    and scenes each was trained for (as its trainer counted them).
    """
    models, steps, notes = {}, {}, {"trained": {}, "sources": {}}
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
        metrics = train.get("metrics", {})
        notes["trained"][role] = steps[role] > 0
        notes["sources"][role] = {
            "checkpoint": str(path),
            "step": steps[role],
            "config": train.get("config", {}).get("model"),
            "metrics": metrics,
            "cpu_hours": metrics.get("cpu_hours"),
            "scenes": metrics.get("scenes"),
        }
        if not train and (carried := _bundled_notes(Path(path), role, steps[role])):
            notes["sources"][role] = carried["sources"][role]
            if role in carried:  # the prose of how it was made (`notes.sc`)
                notes[role] = carried[role]
    return save_bundle(
        out,
        models["uss"],
        models["tse"],
        models["sc"],
        name=name,
        steps=steps,
        notes=notes,
        half=half,
    )


def _bundled_notes(path: Path, role: str, step: int) -> dict | None:
    """The notes of the bundle `path` is `role`'s model file of, when they describe it.

    A bundle's model files keep weights and step but not their run's training record, which
    lives in the bundle's `notes`: a bundle assembled from another bundle's classifier (the
    campaign's sessions that do not fine-tune it) carries that record on instead of nulls.
    """
    try:
        meta = read_bundle_meta(path.parent)
    except BundleError:
        return None
    described = meta.get("models", {}).get(role, {})
    notes = meta.get("notes", {})
    if described.get("file") != path.name or described.get("step") != step:
        return None
    return notes if role in notes.get("sources", {}) else None


def add_heldout_notes(bundle: str | os.PathLike, point: dict) -> None:
    """Record a held-out evaluation (a campaign point) in a bundle's `notes.heldout`."""
    path = Path(bundle) / BUNDLE_FILE
    meta = json.loads(path.read_text())
    meta.setdefault("notes", {})["heldout"] = point
    write_text_durable(path, json.dumps(meta, indent=2))


def set_tse_rounds(bundle: str | os.PathLike, rounds: int) -> None:
    """Make `rounds` the TSE rounds a bundle runs by default (`pipeline.tse_rounds`)."""
    path = Path(bundle) / BUNDLE_FILE
    meta = json.loads(path.read_text())
    meta.setdefault("pipeline", {})["tse_rounds"] = int(rounds)
    write_text_durable(path, json.dumps(meta, indent=2))


def ship_bundle(bundle: str | os.PathLike, shipped: str | os.PathLike) -> Path:
    """Replace the shipped bundle's files with `bundle`'s, carrying the classifier's notes on.

    The prose of how the shipped classifier was made (`notes.sc`) comes along as it was when
    the classifier is unchanged, and with a sentence on the further fine-tune when it changed.
    """
    old = read_bundle_meta(shipped).get("notes", {})
    new_meta_path = Path(bundle) / BUNDLE_FILE
    meta = json.loads(new_meta_path.read_text())
    notes = meta.setdefault("notes", {})
    if "sc" in old and "sc" not in notes:
        same = (Path(bundle) / "sc.pt").read_bytes() == (Path(shipped) / "sc.pt").read_bytes()
        notes["sc"] = old["sc"] if same else f"{old['sc']}; {_finetune_sentence(notes)}"
    new_meta_path.write_text(json.dumps(meta, indent=2))
    return copy_bundle(bundle, shipped)


def _finetune_sentence(notes: dict) -> str:
    """How a changed classifier came about, from its source checkpoint's notes."""
    source = notes.get("sources", {}).get("sc", {})
    metrics = source.get("metrics", {})
    when = notes.get("heldout", {}).get("date", "")
    text = (
        f"then fine-tuned further{f' ({when})' if when else ''} to step {source.get('step', '?')}"
    )
    if "accuracy" in metrics and "accuracy_separated" in metrics:
        text += (
            f": {100 * metrics['accuracy']:.1f} % validation accuracy on ground-truth sources,"
            f" {100 * metrics['accuracy_separated']:.1f} % on separated ones"
        )
    return text
