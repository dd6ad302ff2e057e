"""Silence thresholds recalibrated on what the classifier sees inside the pipeline.

The SC run calibrates its class-specific energy thresholds on clean validation clips, but in
the pipeline the classifier labels separated waveforms, which while the separators are weak
are partly mixtures: a clean-clip threshold keeps leaked mixtures as a class (silence ->
Buzzer) and drops real but smeared sources. This runs a bundle's pipeline on calibration scenes
(a `valid`-split set, never the held-out test set) and sets each class's threshold so that a
slot is kept when the class it is given is one of the scene's sources: the balanced accuracy
of `calibrate_thresholds`, over the slots of every SC stage (CP 1-1 .. CP R+1 share the
thresholds). The thresholds before and after, and the data, go into the bundle's notes.

    scenesplit bundle recalibrate BUNDLE --data CALIBRATION_DIR [--limit N]
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from engine.constants import CLASS_INDEX
from engine.contract import DEFAULTS
from engine.durable import write_text_durable
from engine.eval.references import iter_reference_scenes, soundscape_dir
from engine.models.checkpoint import read_checkpoint, write_checkpoint_data
from engine.models.m2d_sc import calibrate_thresholds
from engine.pipeline.bundle import BUNDLE_FILE, read_bundle_meta
from engine.progress import CancelToken, ProgressCallback, ProgressReporter

THRESHOLDS_KEY = "thresholds"
"""The SC's state-dict buffer (`M2DSC.thresholds`)."""


@dataclass
class SlotItems:
    """Every SC decision of the calibration run. Shape: each field `[M]` (one per slot)."""

    energy: torch.Tensor
    predicted: torch.Tensor
    keep: torch.Tensor
    """The predicted class is one of the scene's sources (so the slot should be kept)."""

    def balanced_accuracy(self, thresholds: torch.Tensor) -> float:
        """How well `silent = energy > thresholds[predicted]` separates drop from keep."""
        silent = self.energy > thresholds.double()[self.predicted]
        drop = ~self.keep
        tpr = float((silent & drop).sum()) / max(int(drop.sum()), 1)
        tnr = float((~silent & self.keep).sum()) / max(int(self.keep.sum()), 1)
        return (tpr + tnr) / 2


def collect_items(
    separator,
    data_dir: str | os.PathLike,
    *,
    limit: int | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> SlotItems:
    """Run the pipeline on the scenes of `data_dir` and record each SC slot decision."""
    n_total = len(list(soundscape_dir(data_dir).glob("*.wav")))
    n_total = min(n_total, limit) if limit else n_total
    reporter = ProgressReporter("recalibrate", n_total, progress, cancel)
    energy, predicted, keep = [], [], []
    for i, scene in enumerate(iter_reference_scenes(data_dir)):
        if i >= n_total:
            break
        present = {CLASS_INDEX[label] for label in scene.targets}
        stages = separator.run(scene.mixture[None], cancel=cancel)
        for cp in stages.cp:
            # The class before the silence decision: what the threshold is compared against.
            cls = cp.probs[0].argmax(-1)
            energy.append(cp.energy[0].double())
            predicted.append(cls)
            keep.append(torch.tensor([int(c) in present for c in cls]))
        reporter.update(i + 1, scene.name)
    if not energy:
        raise ValueError(f"{data_dir}: no calibration scenes")
    return SlotItems(torch.cat(energy), torch.cat(predicted), torch.cat(keep))


def recalibrate_bundle(
    bundle_dir: str | os.PathLike,
    data_dir: str | os.PathLike,
    *,
    limit: int | None = None,
    tse_rounds: int = DEFAULTS.tse_rounds,
    device: str = "cpu",
    progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    """Recalibrate the SC thresholds of the bundle in `bundle_dir` in place; returns the notes."""
    from engine.pipeline.separator import Separator

    bundle_dir = Path(bundle_dir)
    meta = read_bundle_meta(bundle_dir)
    separator = Separator.from_path(bundle_dir, device, tse_rounds=tse_rounds)
    items = collect_items(separator, data_dir, limit=limit, progress=progress)
    before = separator.bundle.sc.thresholds.detach().cpu().float()
    after = calibrate_thresholds(items.energy, items.predicted, items.keep)
    notes = {
        "data": str(Path(data_dir).resolve()),
        "scenes": len(list(soundscape_dir(data_dir).glob("*.wav"))) if limit is None else limit,
        "slots": int(items.energy.numel()),
        "keep_share": round(float(items.keep.float().mean()), 4),
        "balanced_accuracy_before": round(items.balanced_accuracy(before), 4),
        "balanced_accuracy_after": round(items.balanced_accuracy(after), 4),
        "thresholds_before": [round(float(t), 4) for t in before],
    }
    sc_file = bundle_dir / meta["models"]["sc"]["file"]
    data = read_checkpoint(sc_file)
    data["state_dict"][THRESHOLDS_KEY] = after.clone()
    write_checkpoint_data(sc_file, data)
    meta["thresholds"] = after.tolist()
    meta.setdefault("notes", {})["recalibration"] = notes
    write_text_durable(bundle_dir / BUNDLE_FILE, json.dumps(meta, indent=2))
    return notes
