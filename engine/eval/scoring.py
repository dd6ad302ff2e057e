"""Scoring one scene's estimates against its references (METRICS.md), and averaging over scenes.

SNRi and SI-SDRi align estimates with references by the assignment of estimate slots to
reference sources that maximises the summed SNR (labels ignored), one rule for every row, so a
wrong label does not hide a good separation. CA-SDRi and accuracy use the labels.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from engine.constants import SILENCE
from engine.metrics import (
    ClassCounts,
    ca_sdri,
    label_set_correct,
    si_sdr_improvement,
    snr,
    snr_improvement,
)


def align_slots(waves: np.ndarray, refs: list[np.ndarray]) -> list[int]:
    """For each reference, the estimate slot assigned to it (max summed SNR, one-to-one)."""
    k = waves.shape[0]
    if not refs:
        return []
    scores = np.array([[float(snr(waves[s], r)) for s in range(k)] for r in refs])
    best, best_perm = -np.inf, None
    for perm in itertools.permutations(range(k), len(refs)):
        total = sum(scores[i, s] for i, s in enumerate(perm))
        if total > best:
            best, best_perm = total, perm
    return list(best_perm)


@dataclass
class RowScores:
    """Running averages of one configuration (one row of the report's Table 1)."""

    snri: list[float] = field(default_factory=list)
    si_sdri: list[float] = field(default_factory=list)
    ca_sdri: list[float] = field(default_factory=list)
    correct: list[bool] = field(default_factory=list)

    def add_slots(
        self, waves: np.ndarray, labels: list[str], targets: dict[str, np.ndarray], y0: np.ndarray
    ) -> list[tuple[str, str]]:
        """Score slot outputs `[K, N]` with `labels`; returns aligned (reference, estimate) labels."""
        ref_labels = list(targets)
        refs = [targets[lab] for lab in ref_labels]
        assign = align_slots(waves, refs)
        if refs:
            self.snri.append(
                float(
                    np.mean(
                        [
                            snr_improvement(waves[s], r, y0)
                            for s, r in zip(assign, refs, strict=True)
                        ]
                    )
                )
            )
            self.si_sdri.append(
                float(
                    np.mean(
                        [
                            si_sdr_improvement(waves[s], r, y0)
                            for s, r in zip(assign, refs, strict=True)
                        ]
                    )
                )
            )
        estimates = {}
        for slot, lab in enumerate(labels):
            if lab != SILENCE and lab not in estimates:
                estimates[lab] = waves[slot]
        self.ca_sdri.append(ca_sdri(estimates, targets, y0))
        self.correct.append(label_set_correct(labels, ref_labels))
        pairs = [(r, labels[s]) for r, s in zip(ref_labels, assign, strict=True)]
        pairs += [
            (SILENCE, labels[s])
            for s in range(len(labels))
            if s not in assign and labels[s] != SILENCE
        ]
        return pairs

    def add_labelled(
        self, estimates: dict[str, np.ndarray], targets: dict[str, np.ndarray], y0
    ) -> None:
        """Score estimates known only by label (an estimates folder): SNRi over true positives."""
        tp = [lab for lab in estimates if lab in targets]
        if tp:
            self.snri.append(
                float(np.mean([snr_improvement(estimates[lab], targets[lab], y0) for lab in tp]))
            )
            self.si_sdri.append(
                float(np.mean([si_sdr_improvement(estimates[lab], targets[lab], y0) for lab in tp]))
            )
        self.ca_sdri.append(ca_sdri(estimates, targets, y0))
        self.correct.append(label_set_correct(estimates, targets))

    def summary(self) -> dict[str, float | int | None]:
        """Mean SNRi, SI-SDRi, CA-SDRi (dB) and label accuracy (%) over scenes."""

        def mean(v):
            return float(np.mean(v)) if v else None

        return {
            "snri": mean(self.snri),
            "si_sdri": mean(self.si_sdri),
            "accuracy": 100 * mean(self.correct) if self.correct else None,
            "ca_sdri": mean(self.ca_sdri),
            "scenes": len(self.correct),
        }


@dataclass
class LabelTally:
    """Per-class precision/recall and the confusion of aligned slots, for one row."""

    counts: ClassCounts = field(default_factory=ClassCounts)
    pairs: list[tuple[str, str]] = field(default_factory=list)
