"""M2D-SC training: single-label classification of separated sources with silence detection.

Batch function: every active slot of a scene gives an item (its ground-truth target, and its
frozen-USS output when `task.uss_checkpoint` is set); silent items are added so they are about
`task.p_silent_items` (5 %) of the items: zeros, or the scene's residual (mixture W minus the
targets) far below its own level - the near-silent leakage a separator leaves in an empty slot.
USS outputs are matched to the reference slots by the best permutation (`separated_items`: a
USS trained with `task.pit` has no fixed slot order); those matched to silent slots are silent
items as they are.
Loss (METHOD.md): stage 1 ArcFace (s 32, m 0.5) on active items + KL to uniform on silent ones;
stage 2 adds `0.001 * energy hinge (m_in -6, m_out -1)`.
Validation on ground-truth sources: accuracy on active items and silence-detection F1 (silent
is the positive class) with class-specific thresholds calibrated on the other half of the set.
With a USS, the same two figures on its outputs (`*_separated`) are the score: the pipeline
classifies separated waveforms, not clean ones.
`finish` calibrates the thresholds on the whole validation set, stores them in the model's
`thresholds` buffer (so in best.pt) and writes the energies to `energies.npz`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.losses import (
    arcface_loss,
    energy_hinge_loss,
    energy_score,
    kl_to_uniform,
    pit_order,
    reorder,
)
from engine.models.checkpoint import CheckpointError, load_checkpoint, read_checkpoint
from engine.models.registry import build_model
from engine.train import distributed
from engine.train.config import DataConfig
from engine.train.tasks.base import Task

ENERGIES_FILE = "energies.npz"
N_STAT_SCENES = 16
N_CENTRE_SCENES = 128  # ~7 clean items per class for `recentre_head`


def silent_items(
    mixture_w: torch.Tensor,
    targets: torch.Tensor,
    n: int,
    generator: torch.Generator,
    p_zero: float,
    residual_db: tuple[float, float],
) -> torch.Tensor:
    """`n` silent inputs: zeros or a random scene's residual at U(residual_db) dB of its level.

    Shape: mixture_w `[B, N]`, targets `[B, 3, N]` -> `[n, N]`.
    """
    residual = mixture_w - targets.sum(1)
    out = torch.zeros(n, residual.shape[-1], dtype=residual.dtype, device=residual.device)
    for i in range(n):
        if float(torch.rand((), generator=generator)) < p_zero:
            continue
        b = int(torch.randint(residual.shape[0], (), generator=generator))
        lo, hi = residual_db
        db = lo + (hi - lo) * float(torch.rand((), generator=generator))
        out[i] = residual[b] * 10 ** (db / 20)
    return out


def crop_items(waves: torch.Tensor, length: int, generator: torch.Generator) -> torch.Tensor:
    """Random crops of `length` samples that keep each item's loudest sample inside.

    Shape: `[M, N]` -> `[M, length]` (unchanged when length >= N).
    """
    m, n = waves.shape
    if length >= n:
        return waves
    peaks = waves.abs().argmax(-1).cpu()
    out = []
    for i in range(m):
        lo = max(0, int(peaks[i]) - length + 1)
        hi = min(n - length, int(peaks[i]))
        start = lo + int(torch.randint(hi - lo + 1, (), generator=generator))
        out.append(waves[i, start : start + length])
    return torch.stack(out)


@torch.no_grad()
def separated_items(uss: nn.Module, batch: dict[str, torch.Tensor], autocast) -> tuple:
    """A frozen USS's foreground outputs, each labelled with the reference slot it matches.

    Shape: batch mixture `[B, C, N]`, targets `[B, 3, N]`, label_index `[B, 3]` ->
    (waves `[3B, N]`, labels `[3B]`, -1 where the matched reference is silent).
    """
    with autocast():
        separated = uss(batch["mixture"]).foreground.float()
    separated = reorder(separated, pit_order(separated, batch["targets"].float()))
    labels = torch.where(batch["active"], batch["label_index"], -1)
    return separated.flatten(0, 1), labels.flatten()


def silence_f1(energy: torch.Tensor, thresholds: torch.Tensor, pred: torch.Tensor, active) -> float:
    """F1 of detecting silent items (energy above the predicted class's threshold)."""
    said_silent = energy > thresholds[pred]
    silent = ~active
    tp = float((said_silent & silent).sum())
    fp = float((said_silent & ~silent).sum())
    fn = float((~said_silent & silent).sum())
    return 2 * tp / max(2 * tp + fp + fn, 1.0)


class SCTraining(Task):
    """The M2D-SC module's batch function, losses, metrics and threshold calibration."""

    model_name = "m2d_sc"
    metric = "score"

    def build_model(self) -> nn.Module:
        """The configured size, initialised from `task.init` when given."""
        model = build_model(self.model_name, self.config.model)
        init = self.config.task.init
        if init:
            load_initial_weights(model, init)
        return model

    def setup(self, model: nn.Module) -> None:
        """Freeze all but the last K blocks; frozen USS; log-mel statistics for a fresh model."""
        opts = self.config.task
        if opts.finetune_blocks >= 0:
            model.freeze_except_last(opts.finetune_blocks)
        self.uss = None
        if opts.uss_checkpoint:
            uss, meta = load_checkpoint(opts.uss_checkpoint, self.device)
            if meta["model"] != "deft_mamba_uss":
                raise ValueError(
                    f"{opts.uss_checkpoint}: holds a {meta['model']} model, expected deft_mamba_uss"
                )
            for p in uss.parameters():
                p.requires_grad_(False)
            self.uss = uss.eval()
        if not opts.init:
            fit_norm_stats(model, self.config.data, self.device)

    def start_fresh(self, model: nn.Module) -> list[str]:
        """`task.recentre_head`: see `recentre_head`."""
        if not self.config.task.recentre_head:
            return []
        r = recentre_head(model, self.config.data, self.device)
        return [
            f"recentred the classifier head on {r['items']:.0f} clean training items "
            f"({r['classes']:.0f} classes): accuracy on them {r['accuracy_before']:.2f} -> "
            f"{r['accuracy_after']:.2f}, mean pairwise embedding cosine "
            f"{r['cosine_before']:.2f} -> {r['cosine_after']:.2f}"
        ]

    def items(self, batch: dict[str, torch.Tensor], generator: torch.Generator) -> dict:
        """Training items of a batch of scenes: `wave [M, L]`, `label [M]`, `active [M]`."""
        opts = self.config.task
        targets, active, labels = batch["targets"], batch["active"], batch["label_index"]
        waves = [targets[active]]
        item_labels = [labels[active]]
        if self.uss is not None:
            separated, separated_labels = separated_items(self.uss, batch, self.autocast)
            waves.append(separated)
            item_labels.append(separated_labels)
        n_items = sum(len(w) for w in waves)
        # Silent items at rate p among all items: expected n_items * p / (1 - p), drawn so that
        # the fraction holds on average even when it is below one item per batch.
        want = n_items * opts.p_silent_items / (1 - opts.p_silent_items)
        n_sil = int(math.floor(want + float(torch.rand((), generator=generator))))
        if n_items == 0:
            n_sil = max(n_sil, 1)
        if n_sil:
            waves.append(
                silent_items(
                    batch["mixture"][:, 0],
                    targets,
                    n_sil,
                    generator,
                    opts.p_zero_silence,
                    opts.residual_db,
                )
            )
            item_labels.append(torch.full((n_sil,), -1, dtype=labels.dtype, device=labels.device))
        wave = torch.cat(waves)
        label = torch.cat(item_labels)
        if opts.crop_seconds > 0:
            wave = crop_items(wave, int(opts.crop_seconds * 32_000), generator)
        return {"wave": wave, "label": label, "active": label >= 0}

    def prepare_batch(self, batch: dict[str, torch.Tensor], generator: torch.Generator) -> dict:
        """Scenes -> source items (see `items`)."""
        return self.items(super().prepare_batch(batch, generator), generator)

    def loss(
        self, model: nn.Module, batch: dict[str, Any]
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """ArcFace on active + KL on silent (+ 0.001 energy hinge in stage 2)."""
        cfg = model_config(model)
        opts = self.config.task
        # forward() gives s * cosine; calling it (not .cosine) keeps DDP's gradient hooks.
        logits = model(batch["wave"]).float()
        cosine = logits / cfg.scale
        margin = cfg.margin if opts.margin < 0 else opts.margin
        active = batch["active"]
        zero = logits.new_zeros(())
        l_arc = (
            arcface_loss(cosine[active], batch["label"][active], cfg.scale, margin).mean()
            if bool(active.any())
            else zero
        )
        l_kl = kl_to_uniform(logits[~active]).mean() if bool((~active).any()) else zero
        loss = l_arc + l_kl
        parts = {"arcface": float(l_arc.detach()), "kl": float(l_kl.detach())}
        if opts.stage >= 2:
            l_e = energy_hinge_loss(energy_score(logits), active, cfg.m_in, cfg.m_out)
            loss = loss + opts.energy_weight * l_e
            parts["energy"] = float(l_e.detach())
        return loss, parts

    @torch.no_grad()
    def collect(self, model: nn.Module, loader) -> dict[str, torch.Tensor]:
        """Energy, predicted class, label, activity and origin (USS output or not) of every
        validation item, all ranks."""
        keys = ("energy", "pred", "label", "active", "separated")
        out: dict[str, list[torch.Tensor]] = {k: [] for k in keys}

        def add(wave: torch.Tensor, label: torch.Tensor, separated: bool) -> None:
            logits = model(wave).float()
            out["energy"].append(energy_score(logits))
            out["pred"].append(logits.argmax(-1))
            out["label"].append(label)
            out["active"].append(label >= 0)
            out["separated"].append(torch.full_like(label, int(separated)))

        for i, batch in enumerate(loader):
            # Silent items are seeded by batch so every validation sees the same ones.
            gen = torch.Generator().manual_seed(7919 + 1000 * self.dist.rank + i)
            batch = {k: v.to(self.device) for k, v in batch.items()}
            targets, active = batch["targets"], batch["active"]
            n_sil = int((~active).sum())
            sil = silent_items(
                batch["mixture"][:, 0],
                targets,
                n_sil,
                gen,
                self.config.task.p_zero_silence,
                self.config.task.residual_db,
            )
            wave = torch.cat([targets[active], sil])
            label = torch.cat([batch["label_index"][active], batch["label_index"][~active]])
            add(wave, label, separated=False)
            if self.uss is not None:
                add(*separated_items(self.uss, batch, self.autocast), separated=True)
        gathered = {}
        for key, parts in out.items():
            t = torch.cat(parts) if parts else torch.zeros(0, device=self.device)
            gathered[key] = distributed.all_gather_tensor(t.to(self.device).double()).cpu()
        gathered["pred"] = gathered["pred"].long()
        gathered["label"] = gathered["label"].long()
        gathered["active"] = gathered["active"].bool()
        gathered["separated"] = gathered["separated"].bool()
        return gathered

    def scores(self, model: nn.Module, c: dict[str, torch.Tensor]) -> dict[str, float]:
        """Accuracy, silence F1 (held-out and current thresholds), energies, combined score;
        with USS outputs among the items, their accuracy and F1 make the score."""
        n_cls = model_config(model).num_classes
        clean = ~c["separated"]
        act = c["active"]
        accuracy, f1 = accuracy_and_f1({k: v[clean] for k, v in c.items()}, n_cls)
        current = silence_f1(c["energy"], model.thresholds.double().cpu(), c["pred"], act)
        result = {
            "accuracy": accuracy,
            "silence_f1": f1,
            "silence_f1_current": current,
            "energy_active": float(c["energy"][act].mean()) if act.any() else 0.0,
            "energy_silent": float(c["energy"][~act].mean()) if (~act).any() else 0.0,
            "score": (accuracy + f1) / 2,
        }
        if c["separated"].any():
            sep = {k: v[c["separated"]] for k, v in c.items()}
            accuracy, f1 = accuracy_and_f1(sep, n_cls)
            result |= {
                "accuracy_separated": accuracy,
                "silence_f1_separated": f1,
                "score": (accuracy + f1) / 2,
            }
        return result

    @torch.no_grad()
    def validate(self, model: nn.Module, loader) -> dict[str, float]:
        """See `scores`."""
        return self.scores(model, self.collect(model, loader))

    @torch.no_grad()
    def finish(self, model: nn.Module, loader) -> dict[str, float]:
        """Calibrate the class-specific thresholds on the whole validation set; save energies."""
        c = self.collect(model, loader)
        held_out = self.scores(model, c)
        thresholds = model.calibrate(c["energy"], c["pred"], c["active"])
        calibrated = silence_f1(c["energy"], thresholds.double().cpu(), c["pred"], c["active"])
        if self.dist.is_main and self.out_dir is not None:
            np.savez(
                Path(self.out_dir) / ENERGIES_FILE,
                energy=c["energy"].numpy(),
                pred=c["pred"].numpy(),
                label=c["label"].numpy(),
                active=c["active"].numpy(),
                separated=c["separated"].numpy(),
                thresholds=thresholds.cpu().numpy(),
            )
        separated = {f"final_{k}": v for k, v in held_out.items() if k.endswith("_separated")}
        return {
            **separated,
            "final_accuracy": held_out["accuracy"],
            "final_silence_f1_heldout": held_out["silence_f1"],
            "final_silence_f1_calibrated": calibrated,
            "final_energy_active": held_out["energy_active"],
            "final_energy_silent": held_out["energy_silent"],
        }


def accuracy_and_f1(c: dict[str, torch.Tensor], n_classes: int) -> tuple[float, float]:
    """Accuracy on the active items of `collect`'s output, and silence F1 of one half of the
    items with class thresholds calibrated on the other half."""
    from engine.models.m2d_sc import calibrate_thresholds

    act = c["active"]
    accuracy = float((c["pred"][act] == c["label"][act]).double().mean()) if act.any() else 0.0
    half = torch.arange(len(act)) % 2 == 0
    if not (act[half].any() and (~act[half]).any()):
        return accuracy, 0.0
    thr = calibrate_thresholds(c["energy"][half], c["pred"][half], act[half], n_classes)
    return accuracy, silence_f1(c["energy"][~half], thr.double(), c["pred"][~half], act[~half])


@torch.no_grad()
def fit_norm_stats(model: nn.Module, data: DataConfig, device: torch.device) -> None:
    """Set the log-mel mean/std from the W channel of the first training mixtures.

    M2D normalises with dataset statistics; mixtures (not targets, which are mostly digital
    zeros outside their event) give the level range real inputs have.
    """
    from engine.train.data import train_dataset

    dataset = train_dataset(data)
    n = min(N_STAT_SCENES, len(dataset))
    waves = torch.stack([dataset[i]["mixture"][0] for i in range(n)]).to(device)
    x = model.frontend.log_mel(waves)
    mean, std = float(x.mean()), float(x.std())
    model.frontend.set_norm_stats(mean, std)
    model.config.norm_mean, model.config.norm_std = mean, std


@torch.no_grad()
def recentre_head(
    model: nn.Module, data: DataConfig, device: torch.device, n_scenes: int = N_CENTRE_SCENES
) -> dict[str, float]:
    """Centre the embedding on clean training items and aim each class weight at its class mean.

    A collapsed classifier (every embedding and class weight near one shared direction, energies
    alike for all inputs) keeps what tells classes apart only in small deviations from that
    direction, which ArcFace's cosines barely see. The embedding is the mean of final-norm
    tokens, so subtracting the items' mean embedding from that norm's bias centres it exactly;
    each class weight then points at the mean of its centred, normalised items (row norms are
    kept, so the optimiser's step sizes do not change). Classes without items keep their weights.
    Returns the items' accuracy and mean pairwise embedding cosine before and after.
    """
    from engine.train.data import train_dataset

    dataset = train_dataset(data)
    waves, labels = [], []
    for i in range(min(n_scenes, len(dataset))):
        scene = dataset[i]
        waves.append(scene["targets"][scene["active"]])
        labels.append(scene["label_index"][scene["active"]])
    wave, label = torch.cat(waves).to(device), torch.cat(labels).to(device)
    if len(label) == 0:
        raise ValueError("recentre_head: the training scenes hold no active foreground item")
    was_training = model.training
    model.eval()

    def embed() -> torch.Tensor:
        return torch.cat([model.embed(w).float() for w in wave.split(16)])

    def figures(emb: torch.Tensor) -> tuple[float, float]:
        unit = F.normalize(emb, dim=-1)
        cos = unit @ unit.T
        off = cos[~torch.eye(len(unit), dtype=torch.bool, device=cos.device)]
        pred = model.head(emb).argmax(-1)
        return float((pred == label).float().mean()), float(off.mean()) if len(off) else 1.0

    emb = embed()
    accuracy_before, cosine_before = figures(emb)
    model.encoder.norm.bias.sub_(emb.mean(0).to(model.encoder.norm.bias.dtype))
    centred = F.normalize(embed(), dim=-1)
    weight = model.head.weight
    norms = weight.norm(dim=-1)
    classes = label.unique()
    for k in classes.tolist():
        mean = F.normalize(centred[label == k].mean(0), dim=-1)
        weight[k] = (mean * norms[k]).to(weight.dtype)
    accuracy_after, cosine_after = figures(centred)
    model.train(was_training)
    return {
        "items": float(len(label)),
        "classes": float(len(classes)),
        "accuracy_before": accuracy_before,
        "accuracy_after": accuracy_after,
        "cosine_before": cosine_before,
        "cosine_after": cosine_after,
    }


def model_config(model: nn.Module):
    """The SCConfig of a possibly DDP- or compile-wrapped M2DSC."""
    while not hasattr(model, "config"):
        model = getattr(model, "module", None) or model._orig_mod
    return model.config


def load_initial_weights(model: nn.Module, path: str) -> None:
    """Initialise an M2DSC from our checkpoint (SC or M2D pre-train) or an official M2D file."""
    try:
        data = read_checkpoint(path)
    except CheckpointError:
        from engine.models.m2d_loader import load_official_m2d

        load_official_m2d(model, path)
        return
    state = data["state_dict"]
    if data["model"] == "m2d_sc":
        model.load_state_dict(state)
        # The log-mel stats travel as buffers; the config (saved with every result) follows them.
        model.config.norm_mean = float(model.frontend.mean)
        model.config.norm_std = float(model.frontend.std)
        return
    # A pre-trained M2D (engine.train.tasks.m2d_pretrain): copy its online encoder and stats.
    prefix = "pretrainer.online."
    encoder = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
    frontend = {k[len("frontend.") :]: v for k, v in state.items() if k.startswith("frontend.")}
    if not encoder:
        raise CheckpointError(f"{path}: holds a {data['model']} model, not an M2D encoder")
    model.encoder.load_state_dict(encoder)
    if frontend:
        model.frontend.load_state_dict(frontend)
        model.config.norm_mean = float(frontend["mean"])
        model.config.norm_std = float(frontend["std"])
