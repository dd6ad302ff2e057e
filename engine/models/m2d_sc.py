"""M2D-SC: single-label classifier of separated sources with energy-based silence detection.

Waveform -> M2D log-mel -> ViT encoder (mean of patch tokens) -> cosine classifier over the 18
classes. Training uses the cosines (ArcFace with `s = 32, m = 0.5` on active sources, KL to
uniform on silent ones, then `+ 0.001 * energy hinge`); inference uses `logits = s * cosine`,
the class is their argmax and a source is silent when its energy `-logsumexp(logits)` exceeds
the threshold of its predicted class (`thresholds`, a buffer, calibrated on validation data by
`calibrate_thresholds`).

Input lengths: any N >= 4800 samples (16 log-mel frames, 0.15 s); clips shorter than 10 s
crop the position embeddings, longer ones are encoded in 10 s windows whose features are averaged
(see `engine.models.vit`). All-zero input gives finite outputs (log(0 + eps)).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from engine.constants import NUM_CLASSES
from engine.losses import energy_score
from engine.models.logmel import M2D_HOP, LogMel
from engine.models.vit import MAX_TIME_PATCHES, PATCH, VIT_SIZES, M2DEncoder


@dataclass
class SCConfig:
    """M2D-SC hyper-parameters; defaults are the paper's (ViT-Base, ArcFace s = 32, m = 0.5)."""

    embed_dim: int = 768
    depth: int = 12
    num_heads: int = 12
    mlp_ratio: float = 4.0
    max_time_patches: int = MAX_TIME_PATCHES
    num_classes: int = NUM_CLASSES
    scale: float = 32.0
    margin: float = 0.5
    m_in: float = -6.0
    m_out: float = -1.0
    # Between m_in and m_out; replaced by calibrate_thresholds after training.
    default_threshold: float = -3.5
    norm_mean: float = 0.0
    norm_std: float = 1.0
    # Fields older checkpoints carry that are no longer the model's: how many blocks train is
    # the trainer's choice (`SCTask.finetune_blocks`), not a property of the network.
    retired_fields: ClassVar[frozenset[str]] = frozenset({"finetune_blocks"})


def _sized(size: str, **kw) -> SCConfig:
    s = VIT_SIZES[size]
    return SCConfig(embed_dim=s.embed_dim, depth=s.depth, num_heads=s.num_heads, **kw)


CONFIGS = {
    "paper": _sized("base"),
    "lite": _sized("tiny"),
    "toy": _sized("toy"),
}

MIN_SAMPLES = (PATCH - 1) * M2D_HOP  # 4800 samples = 16 frames = one patch column


@dataclass
class SCResult:
    """Classification of B sources: class index, probabilities, energy and silence flag."""

    index: torch.Tensor  # [B] long
    probs: torch.Tensor  # [B, C]
    energy: torch.Tensor  # [B]
    is_silence: torch.Tensor  # [B] bool


class CosineClassifier(nn.Module):
    """Cosine between the L2-normalised embedding and L2-normalised class weights.

    Shape: `[B, D]` -> `[B, C]` in [-1, 1].
    """

    def __init__(self, dim: int, num_classes: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(num_classes, dim))
        nn.init.normal_(self.weight, std=0.01)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(F.normalize(x, dim=-1, eps=1e-6), F.normalize(self.weight, dim=-1))


class M2DSC(nn.Module):
    """M2D encoder + cosine head; see the module docstring.

    Shape:
        wave: `[B, N]` (32 kHz mono, N >= 4800) -> logits `[B, 18]`.
    """

    model_name = "m2d_sc"
    config_class = SCConfig

    def __init__(self, config: SCConfig | None = None):
        super().__init__()
        self.config = config = config or SCConfig()
        self.frontend = LogMel(config.norm_mean, config.norm_std)
        self.encoder = M2DEncoder(
            config.embed_dim,
            config.depth,
            config.num_heads,
            config.mlp_ratio,
            config.max_time_patches,
        )
        self.head = CosineClassifier(config.embed_dim, config.num_classes)
        self.register_buffer(
            "thresholds", torch.full((config.num_classes,), float(config.default_threshold))
        )

    def _check(self, wave: torch.Tensor) -> None:
        if wave.ndim != 2:
            raise ValueError(f"M2DSC expects [B, N] waveforms, got shape {tuple(wave.shape)}")
        if wave.shape[1] < MIN_SAMPLES:
            raise ValueError(
                f"M2DSC needs at least {MIN_SAMPLES} samples (16 frames), got {wave.shape[1]}"
            )

    def embed(self, wave: torch.Tensor) -> torch.Tensor:
        """Encoder features (mean of patch tokens). Shape: `[B, N]` -> `[B, D]`."""
        self._check(wave)
        return self.encoder(self.frontend(wave))

    def cosine(self, wave: torch.Tensor) -> torch.Tensor:
        """Class cosines for `engine.losses.arcface_loss`. Shape: `[B, N]` -> `[B, C]`."""
        return self.head(self.embed(wave))

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        """Inference logits `s * cosine`. Shape: `[B, N]` -> `[B, C]`."""
        return self.config.scale * self.cosine(wave)

    @torch.no_grad()
    def classify(self, wave: torch.Tensor) -> SCResult:
        """Class, probabilities, energy and class-specific silence decision for each source."""
        logits = self(wave)
        energy = energy_score(logits)
        index = logits.argmax(-1)
        return SCResult(
            index=index,
            probs=logits.softmax(-1),
            energy=energy,
            is_silence=energy > self.thresholds[index],
        )

    def calibrate(
        self, energy: torch.Tensor, predicted: torch.Tensor, is_active: torch.Tensor, **kw
    ) -> torch.Tensor:
        """Set `thresholds` from validation results (see `calibrate_thresholds`); returns them."""
        thr = calibrate_thresholds(energy, predicted, is_active, self.config.num_classes, **kw)
        self.thresholds.copy_(thr.to(self.thresholds))
        return self.thresholds

    def freeze_except_last(self, k: int) -> None:
        """Train only the last `k` blocks, the final norm and the head (k < 0: train everything).

        The front end's statistics are buffers and never trained.
        """
        if k < 0:
            for p in self.parameters():
                p.requires_grad_(True)
            return
        enc = self.encoder
        for p in self.parameters():
            p.requires_grad_(False)
        for block in list(enc.blocks)[len(enc.blocks) - min(k, len(enc.blocks)) :]:
            for p in block.parameters():
                p.requires_grad_(True)
        for p in [*enc.norm.parameters(), *self.head.parameters()]:
            p.requires_grad_(True)


def _best_threshold(energy: torch.Tensor, is_active: torch.Tensor) -> tuple[float, float]:
    """Threshold maximising the balanced accuracy of `silent = energy > thr`; (thr, score).

    Candidates are the midpoints between consecutive distinct energies (plus one below and one
    above all of them), scored in O(M log M) by cumulative counts over the sorted energies.
    Among equally good candidates the median one is taken. When the groups separate, the
    single best candidate is the midpoint between the highest active and the lowest silent
    energy.
    """
    e, order = energy.sort()
    silent = (~is_active)[order].long()
    m = e.numel()
    n_sil = max(int(silent.sum()), 1)
    n_act = max(m - int(silent.sum()), 1)
    zero = silent.new_zeros(1)
    sil_below = torch.cat([zero, silent.cumsum(0)])  # silent items among the i lowest
    act_below = torch.cat([zero, (1 - silent).cumsum(0)])
    # Cut i puts the i lowest energies below the threshold; only cuts between distinct values.
    cut = torch.arange(m + 1)
    valid = torch.ones(m + 1, dtype=torch.bool)
    valid[1:m] = e[1:] > e[:-1]
    cut = cut[valid]
    tpr = (int(silent.sum()) - sil_below[cut]).double() / n_sil
    tnr = act_below[cut].double() / n_act
    score = (tpr + tnr) / 2
    lower = torch.cat([e[:1] - 2.0, e])[cut]
    upper = torch.cat([e, e[-1:] + 2.0])[cut]
    cands = (lower + upper) / 2
    best = torch.nonzero(score >= score.max() - 1e-12).flatten()
    pick = best[len(best) // 2]
    return float(cands[pick]), float(score[pick])


def calibrate_thresholds(
    energy: torch.Tensor,
    predicted: torch.Tensor,
    is_active: torch.Tensor,
    num_classes: int = NUM_CLASSES,
    min_items: int = 10,
) -> torch.Tensor:
    """Class-specific energy thresholds for silence detection from validation items.

    For each predicted class, the threshold maximising the balanced accuracy of "silent when
    energy > threshold" over the validation items predicted as that class. Classes with fewer
    than `min_items` items, or without both active and silent items among them (no evidence
    where the boundary lies), use the global best threshold over all items.

    Shape: energy `[M]`, predicted `[M]` long, is_active `[M]` bool -> `[num_classes]`.
    """
    energy = torch.as_tensor(energy).detach().double().flatten().cpu()
    predicted = torch.as_tensor(predicted).flatten().long().cpu()
    is_active = torch.as_tensor(is_active).flatten().bool().cpu()
    if not (energy.numel() == predicted.numel() == is_active.numel()) or energy.numel() == 0:
        raise ValueError(
            "energy, predicted and is_active need the same non-zero length, got "
            f"{energy.numel()}, {predicted.numel()}, {is_active.numel()}"
        )
    if int(predicted.min()) < 0 or int(predicted.max()) >= num_classes:
        raise ValueError(f"predicted classes must lie in [0, {num_classes}), got {predicted}")
    global_thr, _ = _best_threshold(energy, is_active)
    out = torch.full((num_classes,), global_thr, dtype=torch.float32)
    for c in range(num_classes):
        sel = predicted == c
        act = is_active[sel]
        if int(sel.sum()) < min_items or bool(act.all()) or not bool(act.any()):
            continue
        out[c] = _best_threshold(energy[sel], act)[0]
    return out
