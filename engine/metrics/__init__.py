"""Evaluation metrics (METRICS.md): SNR family, CA-SDRi, label accuracy, per-class counts."""

from engine.metrics.classification import (
    ClassCounts,
    ca_sdri,
    confusion_matrix,
    label_accuracy,
    label_set_correct,
)
from engine.metrics.separation import (
    sa_sdr,
    si_sdr,
    si_sdr_improvement,
    snr,
    snr_improvement,
)

__all__ = [
    "ClassCounts",
    "ca_sdri",
    "confusion_matrix",
    "label_accuracy",
    "label_set_correct",
    "sa_sdr",
    "si_sdr",
    "si_sdr_improvement",
    "snr",
    "snr_improvement",
]
