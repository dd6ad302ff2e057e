"""Training losses of the method (METHOD.md); each returns per-item values unless stated."""

from engine.losses.classification import (
    arcface_logits,
    arcface_loss,
    energy_hinge_loss,
    energy_score,
    kl_to_uniform,
    silence_bce,
)
from engine.losses.separation import (
    masked_snr_loss,
    neg_sa_sdr,
    neg_sdr_soft,
    neg_si_snr,
    pit_order,
    reorder,
    snr_db,
)

__all__ = [
    "arcface_logits",
    "arcface_loss",
    "energy_hinge_loss",
    "energy_score",
    "kl_to_uniform",
    "masked_snr_loss",
    "neg_sa_sdr",
    "neg_sdr_soft",
    "neg_si_snr",
    "pit_order",
    "reorder",
    "silence_bce",
    "snr_db",
]
