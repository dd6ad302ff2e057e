"""DeFT-Mamba-USS training: separation losses on the six object slots + class decoder losses.

Loss (METHOD.md): `-SA-SDR(foreground) + 0.01 (-SA-SDR(interference) - SI-SNR(noise))`, slots in
the reference order (labels by onset, padded with silence), plus the class decoder's
cross-entropy on active slots, KL to uniform on silent slots and BCE on the activity logit
(their weight is not published: `task.class_weight`, default 1).
With `task.soft_snr_max_db` > 0 the three separation terms are soft-thresholded SDRs
(`neg_sdr_soft`): equal to -SA-SDR / -SNR for present sources up to the cap, and finite for the
absent interference and noise of 30 % of training scenes, whose zero references otherwise make
the loss `10 log10(|est|^2 / eps)` and teach the separator to output silence.
With `task.pit` the foreground and interference slots are matched to the references by the
best permutation (`pit_order`) in training and validation alike. `task.fg_loss` "snr" averages
per-slot soft SNRs instead of aggregating energies. Measured on the CPU run (issue 13): SA-SDR
lets loud sources dominate (validation SA-SDR rose while the per-source SI-SDRi fell), but 25
steps of the per-slot SNR made SI-SDRi far worse (-2.9 -> -6.0 dB): an SNR loss lets a slot
it cannot separate shrink towards silence, which SI-SDR punishes. SA-SDR stays the default.
Validation: SI-SDRi of active foreground slots (selects the best checkpoint), SA-SDR, CA-SDRi
with the class decoder's labels, label accuracy.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from engine.constants import CLASSES, SILENCE
from engine.losses import (
    kl_to_uniform,
    neg_sa_sdr,
    neg_sdr_soft,
    neg_si_snr,
    pit_order,
    reorder,
    silence_bce,
)
from engine.train.tasks.base import Task
from engine.train.tasks.separation import SeparationScores


def class_decoder_loss(
    class_logits: torch.Tensor,
    activity_logits: torch.Tensor,
    label_index: torch.Tensor,
    active: torch.Tensor,
) -> tuple[torch.Tensor, dict[str, float]]:
    """CE on active slots + KL to uniform on silent slots + BCE activity, each a slot mean.

    Shape: class_logits `[B, 3, C]`, activity_logits `[B, 3]`, label_index `[B, 3]` (-1 for
    silence), active `[B, 3]` bool -> scalar.
    """
    active = active.bool()
    zero = class_logits.new_zeros(())
    ce = F.cross_entropy(class_logits[active], label_index[active]) if bool(active.any()) else zero
    kl = kl_to_uniform(class_logits[~active]).mean() if bool((~active).any()) else zero
    bce = silence_bce(activity_logits.flatten(), active.flatten()).mean()
    return ce + kl + bce, {
        "ce": float(ce.detach()),
        "kl": float(kl.detach()),
        "bce": float(bce.detach()),
    }


def predicted_labels(class_logits: torch.Tensor, activity_logits: torch.Tensor) -> list[list[str]]:
    """Slot labels from the class decoder: argmax class where the slot is active, else silence."""
    index = class_logits.argmax(-1).tolist()
    active = (torch.sigmoid(activity_logits.float()) >= 0.5).tolist()
    return [
        [CLASSES[i] if a else SILENCE for i, a in zip(row_i, row_a, strict=True)]
        for row_i, row_a in zip(index, active, strict=True)
    ]


class USSTraining(Task):
    """The USS module's batch function, loss and metric."""

    model_name = "deft_mamba_uss"
    metric = "si_sdri"

    def loss(
        self, model: nn.Module, batch: dict[str, Any]
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """See the module docstring."""
        opts = self.config.task
        out = model(batch["mixture"])
        fg, it, noise = out.foreground.float(), out.interference.float(), out.noise.float()
        class_logits, activity_logits = out.class_logits.float(), out.activity_logits.float()
        mix0 = batch["mixture"][:, 0].float()
        per_slot = opts.fg_loss == "snr"
        if opts.fg_loss not in ("sa_sdr", "snr"):
            raise ValueError(f"task.fg_loss must be 'sa_sdr' or 'snr', got {opts.fg_loss!r}")
        if opts.pit:
            order = pit_order(fg, batch["targets"], mix0 if per_slot else None)
            fg, class_logits = reorder(fg, order), reorder(class_logits, order)
            activity_logits = reorder(activity_logits, order)
            it = reorder(it, pit_order(it, batch["interference"]))
        if opts.soft_snr_max_db > 0:
            cap = opts.soft_snr_max_db
            fg_dims = (-1,) if per_slot else (-2, -1)
            l_fg = neg_sdr_soft(fg, batch["targets"], mix0, cap, dims=fg_dims).mean()
            l_int = neg_sdr_soft(it, batch["interference"], mix0, cap, dims=(-2, -1)).mean()
            l_noise = neg_sdr_soft(noise[:, 0], batch["noise"][:, 0], mix0, cap).mean()
        else:
            l_fg = neg_sa_sdr(fg, batch["targets"]).mean()
            l_int = neg_sa_sdr(it, batch["interference"]).mean()
            l_noise = neg_si_snr(noise[:, 0], batch["noise"][:, 0]).mean()
        l_cls, parts = class_decoder_loss(
            class_logits,
            activity_logits,
            batch["label_index"],
            batch["active"],
        )
        loss = (
            l_fg
            + opts.interference_weight * l_int
            + opts.noise_weight * l_noise
            + opts.class_weight * l_cls
        )
        return loss, {
            "fg": float(l_fg.detach()),
            "interference": float(l_int.detach()),
            "noise": float(l_noise.detach()),
            "class": float(l_cls.detach()),
            **parts,
        }

    @torch.no_grad()
    def validate(self, model: nn.Module, loader) -> dict[str, float]:
        """SA-SDR, CA-SDRi (class decoder labels), label accuracy, SNRi of active slots."""
        scores = SeparationScores()
        for batch in loader:
            batch = {k: v.to(self.device) for k, v in batch.items()}
            out = model(batch["mixture"])
            fg, logits, activity = out.foreground, out.class_logits, out.activity_logits
            if self.config.task.pit:
                mix0 = batch["mixture"][:, 0].float() if self.config.task.fg_loss == "snr" else None
                order = pit_order(fg, batch["targets"], mix0)
                fg, logits, activity = (reorder(t, order) for t in (fg, logits, activity))
            scores.add(fg, batch, predicted_labels(logits, activity))
        return scores.result(self.device)
