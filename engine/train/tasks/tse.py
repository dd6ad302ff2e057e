"""DeFT-Mamba-TSE training: enrollment from a frozen USS, ground-truth class clues.

Batch function: the frozen USS (task.uss_checkpoint) separates the mixture and its foreground
outputs become the enrollment of the same slots, the references put in the USS's slot order
(`TSETraining.prepare_batch`); the class clues are the ground-truth one-hots
(zero rows for silent slots). Without a USS checkpoint the enrollment is the target plus the
scene's residual at a random level (a stand-in for a separator's leakage, for smoke runs and a
TSE trained before any USS exists).
Loss (METHOD.md): masked SNR on foreground slots + 0.01 (-SI-SNR) on interference and noise;
with `task.soft_snr_max_db` > 0 the latter are soft-thresholded SDRs, finite when the scene has
no interference or noise (see engine.train.tasks.uss).
Validation: SI-SDRi (selects the best checkpoint), SA-SDR, SNRi of active slots and CA-SDRi
with ground-truth clues.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from engine.constants import NUM_CLASSES
from engine.data.datasets import SLOT_KEYS
from engine.losses import masked_snr_loss, neg_sdr_soft, neg_si_snr, pit_order, reorder
from engine.models.checkpoint import load_checkpoint
from engine.train.tasks.base import Task
from engine.train.tasks.separation import SeparationScores


def class_clues(label_index: torch.Tensor) -> torch.Tensor:
    """One-hot clue rows, zero rows for silence. Shape: `[B, 3]` (-1 = silence) -> `[B, 3, 18]`."""
    clues = F.one_hot(label_index.clamp(min=0), NUM_CLASSES).float()
    return clues * (label_index >= 0)[..., None].float()


def oracle_enrollment(
    batch: dict[str, torch.Tensor], generator: torch.Generator, leak_db: tuple[float, float]
) -> torch.Tensor:
    """Targets plus the scene residual (mixture W minus all targets) at U(leak_db) dB re target.

    Silent slots get the residual alone, 20 dB lower. Shape: -> `[B, 3, N]`.
    """
    targets = batch["targets"]
    residual = batch["mixture"][:, :1] - targets.sum(1, keepdim=True)  # [B, 1, N]
    b, k, _ = targets.shape
    lo, hi = leak_db
    db = lo + (hi - lo) * torch.rand(b, k, generator=generator)
    t_pow = targets.pow(2).mean(-1)  # [B, 3]
    r_pow = residual.pow(2).mean(-1).expand(b, k) + 1e-12
    active = batch["active"].cpu()
    ref_pow = torch.where(active, t_pow.cpu(), r_pow.cpu() * 10 ** (-20 / 10))
    gain = torch.sqrt(ref_pow * 10 ** (db / 10) / r_pow.cpu()).to(targets)
    return targets + gain[..., None] * residual


def init_trunk_from_uss(tse: nn.Module, path: str) -> int:
    """Copy a USS checkpoint's trunk into a TSE of the same trunk size; returns tensors copied.

    The USS encoder's 8 mixture channels fill the first 8 of the TSE's 14; the enrollment
    channels are zeroed, and the FiLM projections start at zero anyway, so the TSE starts as
    the USS and learns from there to use its clues.
    """
    state, meta = load_checkpoint(path, "cpu")
    if meta["model"] != "deft_mamba_uss":
        raise ValueError(f"{path}: holds a {meta['model']} model, expected deft_mamba_uss")
    source = {
        k[len("trunk.") :]: v for k, v in state.state_dict().items() if k.startswith("trunk.")
    }
    target = tse.trunk.state_dict()
    copied = 0
    with torch.no_grad():
        for key, value in source.items():
            if key not in target:
                raise ValueError(f"{path}: USS trunk tensor {key} has no place in this TSE")
            dest = target[key]
            if dest.shape == value.shape:
                dest.copy_(value)
            elif dest.ndim == 4 and dest.shape[0] == value.shape[0] and key.endswith("weight"):
                dest.zero_()  # an encoder: mixture channels first, enrollment channels zero
                dest[:, : value.shape[1]].copy_(value)
            else:
                raise ValueError(
                    f"{path}: {key} is {tuple(value.shape)} in the USS but "
                    f"{tuple(dest.shape)} in this TSE; the trunk sizes differ"
                )
            copied += 1
    return copied


class TSETraining(Task):
    """The TSE module's batch function (enrollment + clues), loss and metric."""

    model_name = "deft_mamba_tse"
    metric = "si_sdri"

    def build_model(self) -> nn.Module:
        """The configured size, its trunk initialised from `task.init_from_uss` when given."""
        model = super().build_model()
        if self.config.task.init_from_uss:
            init_trunk_from_uss(model, self.config.task.init_from_uss)
        return model

    def setup(self, model: nn.Module) -> None:
        """Load the frozen USS that provides the enrollment, if one is configured."""
        self.uss: nn.Module | None = None
        path = self.config.task.uss_checkpoint
        if path:
            uss, meta = load_checkpoint(path, self.device)
            if meta["model"] != "deft_mamba_uss":
                raise ValueError(f"{path}: holds a {meta['model']} model, expected deft_mamba_uss")
            for p in uss.parameters():
                p.requires_grad_(False)
            self.uss = uss.eval()

    @torch.no_grad()
    def prepare_batch(self, batch: dict[str, torch.Tensor], generator: torch.Generator) -> dict:
        """Move to the device, add `enrollment` `[B, 3, N]` and `clues` `[B, 3, 18]`.

        With a frozen USS the enrollment is its foreground in its own slot order, and the
        references (targets, labels, activity) are put in that order: slot k then holds the
        USS's estimate of one source, that source's clue and its target, as in the pipeline
        (where slot k's clue is the label read from that estimate). A TSE whose trunk was
        copied from this USS so starts exactly right, as the USS.
        """
        batch = super().prepare_batch(batch, generator)
        if self.uss is None:
            leak_db = self.config.task.oracle_leak_db
            batch["enrollment"] = oracle_enrollment(batch, generator, leak_db)
        else:
            with self.autocast():
                separated = self.uss(batch["mixture"]).foreground.float()
            # pit_order gives the estimate of each reference; its inverse, the reference of
            # each estimate.
            slot_of = pit_order(separated, batch["targets"].float()).argsort(1)
            for key in SLOT_KEYS:
                batch[key] = reorder(batch[key], slot_of)
            batch["enrollment"] = separated
        batch["clues"] = class_clues(batch["label_index"])
        return batch

    def loss(
        self, model: nn.Module, batch: dict[str, Any]
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """See the module docstring."""
        out = model(batch["mixture"], batch["enrollment"], batch["clues"])
        l_fg = masked_snr_loss(out.foreground.float(), batch["targets"], batch["active"]).mean()
        cap = self.config.task.soft_snr_max_db
        if cap > 0:
            mix0 = batch["mixture"][:, 0].float()
            it, noise = out.interference.float(), out.noise.float()[:, 0]
            l_int = neg_sdr_soft(it, batch["interference"], mix0, cap, dims=(-2, -1)).mean()
            l_noise = neg_sdr_soft(noise, batch["noise"][:, 0], mix0, cap).mean()
        else:
            l_int = neg_si_snr(out.interference.float(), batch["interference"]).mean()
            l_noise = neg_si_snr(out.noise.float(), batch["noise"]).mean()
        loss = l_fg + self.config.task.other_weight * (l_int + l_noise)
        return loss, {
            "fg": float(l_fg.detach()),
            "interference": float(l_int.detach()),
            "noise": float(l_noise.detach()),
        }

    @torch.no_grad()
    def validate(self, model: nn.Module, loader) -> dict[str, float]:
        """SA-SDR, SNRi and CA-SDRi with ground-truth clues; the oracle enrollment is seeded."""
        scores = SeparationScores()
        for i, batch in enumerate(loader):
            batch = self.prepare_batch(batch, torch.Generator().manual_seed(10_007 + i))
            out = model(batch["mixture"], batch["enrollment"], batch["clues"])
            scores.add(out.foreground, batch)
        return scores.result(self.device)
