"""Validation shared by the separators (USS, TSE): SI-SDRi and SNRi of active slots, SA-SDR, CA-SDRi.

SI-SDRi is the guide: plain SNRi rewards near-silent outputs (the SNR of a zero estimate is
0 dB, the mixture's is negative), so an untrained separator scores about +5 dB SNRi.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from engine.constants import CLASSES, SILENCE
from engine.metrics import ca_sdri, label_set_correct, sa_sdr, si_sdr, snr
from engine.train import distributed


def slot_labels(label_index: torch.Tensor) -> list[list[str]]:
    """`[B, 3]` class indices (-1 = silence) -> label names per scene."""
    return [[CLASSES[i] if i >= 0 else SILENCE for i in row] for row in label_index.tolist()]


class SeparationScores:
    """Sums of per-scene separation metrics on one rank; `result()` reduces over ranks."""

    def __init__(self) -> None:
        self.sums: dict[str, float] = {
            "scenes": 0.0,
            "sa_sdr": 0.0,
            "ca_sdri": 0.0,
            "label_correct": 0.0,
            "active_slots": 0.0,
            "snri": 0.0,
            "si_sdri": 0.0,
        }

    def add(
        self,
        estimates: torch.Tensor,
        batch: dict[str, torch.Tensor],
        predicted: Sequence[Sequence[str]] | None = None,
    ) -> None:
        """Score a batch of foreground estimates `[B, 3, N]` against the batch's targets.

        `predicted` are the labels the model gives its slots (USS class decoder); without them
        the reference labels are used (TSE guided by ground-truth clues), so CA-SDRi then
        measures separation of correctly labelled sources only.
        """
        est = estimates.detach().float().cpu().numpy().astype(np.float64)
        ref = batch["targets"].float().cpu().numpy().astype(np.float64)
        mix0 = batch["mixture"][:, 0].float().cpu().numpy().astype(np.float64)
        references = slot_labels(batch["label_index"])
        predicted = predicted or references
        for b in range(est.shape[0]):
            self.sums["scenes"] += 1
            self.sums["sa_sdr"] += float(sa_sdr(est[b], ref[b]))
            refs = {lab: ref[b, k] for k, lab in enumerate(references[b]) if lab != SILENCE}
            ests = {}
            for k, lab in enumerate(predicted[b]):
                if lab != SILENCE and lab not in ests:
                    ests[lab] = est[b, k]
            self.sums["ca_sdri"] += ca_sdri(ests, refs, mix0[b])
            self.sums["label_correct"] += float(label_set_correct(predicted[b], references[b]))
            for k, lab in enumerate(references[b]):
                if lab != SILENCE:
                    self.sums["active_slots"] += 1
                    self.sums["snri"] += float(snr(est[b, k], ref[b, k]) - snr(mix0[b], ref[b, k]))
                    self.sums["si_sdri"] += float(
                        si_sdr(est[b, k], ref[b, k]) - si_sdr(mix0[b], ref[b, k])
                    )

    def result(self, device: torch.device) -> dict[str, float]:
        """Means over all ranks' scenes: sa_sdr, ca_sdri, label_accuracy; snri, si_sdri (active slots)."""
        s = distributed.all_reduce_sum(self.sums, device)
        n = max(s["scenes"], 1.0)
        return {
            "sa_sdr": s["sa_sdr"] / n,
            "ca_sdri": s["ca_sdri"] / n,
            "label_accuracy": s["label_correct"] / n,
            "snri": s["snri"] / max(s["active_slots"], 1.0),
            "si_sdri": s["si_sdri"] / max(s["active_slots"], 1.0),
        }
