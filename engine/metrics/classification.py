"""Class-aware and labelling metrics of METRICS.md: CA-SDRi, label-set accuracy, per-class counts.

A scene's sources are given as `{label: waveform}` dictionaries; the label "silence" is ignored
on both sides, as the challenge does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from engine.constants import CLASSES, SILENCE
from engine.metrics.separation import snr


def _active(labels: Iterable[str]) -> set[str]:
    return {lab for lab in labels if lab != SILENCE}


def ca_sdri(
    estimates: Mapping[str, np.ndarray],
    references: Mapping[str, np.ndarray],
    mixture_ref_channel: np.ndarray,
) -> float:
    """Class-aware SDR improvement of one scene.

    TP = labels in both; for them `SNR(est, ref) - SNR(mixture, ref)`; FP and FN contribute 0;
    the sum is divided by |TP u FP u FN|. A scene with no labels on either side scores 0.

    Args:
        estimates: estimated label -> mono waveform `[N]`.
        references: reference label -> mono waveform `[N]` (channel-0 target).
        mixture_ref_channel: channel 0 of the mixture `[N]`.
    """
    est_labels = _active(estimates)
    ref_labels = _active(references)
    tp = est_labels & ref_labels
    union = est_labels | ref_labels
    if not union:
        return 0.0
    total = 0.0
    for label in tp:
        ref = references[label]
        total += float(snr(estimates[label], ref) - snr(mixture_ref_channel, ref))
    return total / len(union)


def label_set_correct(predicted: Iterable[str], reference: Iterable[str]) -> bool:
    """A scene's labels are correct only when the sets (silence removed) are equal."""
    return _active(predicted) == _active(reference)


def label_accuracy(predicted: Sequence[Iterable[str]], reference: Sequence[Iterable[str]]) -> float:
    """Share of scenes whose predicted label set equals the reference set exactly."""
    if len(predicted) != len(reference):
        raise ValueError(f"{len(predicted)} predictions for {len(reference)} scenes")
    if not reference:
        return 0.0
    return sum(label_set_correct(p, r) for p, r in zip(predicted, reference, strict=True)) / len(
        reference
    )


@dataclass
class ClassCounts:
    """Set-level true/false positives and misses per class, accumulated over scenes."""

    classes: tuple[str, ...] = CLASSES
    tp: dict[str, int] = field(default_factory=dict)
    fp: dict[str, int] = field(default_factory=dict)
    fn: dict[str, int] = field(default_factory=dict)

    def add(self, predicted: Iterable[str], reference: Iterable[str]) -> None:
        """Count one scene."""
        p, r = _active(predicted), _active(reference)
        for lab in p & r:
            self.tp[lab] = self.tp.get(lab, 0) + 1
        for lab in p - r:
            self.fp[lab] = self.fp.get(lab, 0) + 1
        for lab in r - p:
            self.fn[lab] = self.fn.get(lab, 0) + 1

    def precision(self, label: str) -> float | None:
        """TP / (TP + FP), None when the class was never predicted."""
        d = self.tp.get(label, 0) + self.fp.get(label, 0)
        return self.tp.get(label, 0) / d if d else None

    def recall(self, label: str) -> float | None:
        """TP / (TP + FN), None when the class never occurred."""
        d = self.tp.get(label, 0) + self.fn.get(label, 0)
        return self.tp.get(label, 0) / d if d else None

    def table(self) -> dict[str, dict]:
        """Per-class precision, recall and counts."""
        return {
            c: {
                "precision": self.precision(c),
                "recall": self.recall(c),
                "tp": self.tp.get(c, 0),
                "fp": self.fp.get(c, 0),
                "fn": self.fn.get(c, 0),
            }
            for c in self.classes
        }


def confusion_matrix(
    reference: Sequence[str], predicted: Sequence[str], labels: Sequence[str] = (*CLASSES, SILENCE)
) -> np.ndarray:
    """Counts of (reference label, predicted label) over aligned slots; rows are references."""
    index = {lab: i for i, lab in enumerate(labels)}
    m = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for r, p in zip(reference, predicted, strict=True):
        m[index[r], index[p]] += 1
    return m
