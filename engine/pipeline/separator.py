"""The one inference core: USS -> SC -> (TSE -> SC) x rounds on batches of 10 s windows.

The command line, the engine server and the editor all go through `Separator`; long
recordings (`engine.pipeline.recording`) and refinement (`engine.pipeline.refine`) call `run`.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

import numpy as np
import torch

from engine.constants import CLASS_INDEX, N_CHANNELS, N_FOREGROUND, SILENCE, class_index
from engine.contract import DEFAULTS
from engine.errors import ScenesplitError
from engine.pipeline.bundle import Bundle, load_bundle
from engine.pipeline.stages import ClassPrediction, WindowStages
from engine.progress import CancelToken


@dataclass(frozen=True)
class SlotOverride:
    """A user's correction of one slot of one window.

    `label` is a class name (re-extract with that class clue) or "silence" (remove the source).
    `enrollment` replaces the slot's enrollment clue: None keeps the previous stage's output,
    an array `[L]` (zeros = empty) gives a new one. `span` limits the new output to samples
    `[start, stop)` of the window (used when a class is added over a time range).
    """

    slot: int
    label: str
    enrollment: np.ndarray | None = None
    span: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.slot < N_FOREGROUND:
            raise ValueError(f"slot must be in 0..{N_FOREGROUND - 1}, got {self.slot}")
        if self.label != SILENCE:
            class_index(self.label)  # a clear error for an unknown name


def resolve_device(device: str = "auto") -> torch.device:
    """'auto' -> CUDA when present, else CPU; otherwise the named device (checked)."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ScenesplitError(f"device {device!r} requested but CUDA is not available")
    return dev


def _fade_mask(length: int, span: tuple[int, int], fade: int = 320) -> torch.Tensor:
    """1 inside `span`, 0 outside, with short linear fades so edits do not click."""
    t = torch.arange(length, dtype=torch.float32)
    start, stop = span
    rise = ((t - start) / fade + 1).clamp(0, 1) if start > 0 else torch.ones(length)
    fall = ((stop - t) / fade).clamp(0, 1) if stop < length else torch.ones(length)
    return rise * fall


class Separator:
    """Runs the self-guided pipeline of a model bundle.

    Args:
        bundle: loaded models.
        device: 'auto', 'cpu', 'cuda', 'cuda:1', ...
        tse_rounds: TSE iterations after the USS (None: the bundle's choice; paper: 2).
        batch_windows: windows per forward pass.
    """

    def __init__(
        self,
        bundle: Bundle,
        device: str = "auto",
        tse_rounds: int | None = DEFAULTS.tse_rounds,
        batch_windows: int = DEFAULTS.batch_windows,
    ):
        if tse_rounds is not None and tse_rounds < 0:
            raise ScenesplitError(f"tse_rounds must be >= 0, got {tse_rounds}")
        self.device = resolve_device(device)
        self.bundle = bundle.to(self.device)
        self.tse_rounds = bundle.tse_rounds if tse_rounds is None else tse_rounds
        self.batch_windows = max(1, batch_windows)

    @classmethod
    def from_path(cls, path: str | os.PathLike, device: str = "auto", **kw) -> Separator:
        """Load the bundle at `path` and wrap it."""
        dev = resolve_device(device)
        return cls(load_bundle(path, dev), str(dev), **kw)

    def _autocast(self):
        if self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    # -- stages ---------------------------------------------------------------------------

    def classify(self, waves: torch.Tensor) -> ClassPrediction:
        """M2D-SC on every slot. Shape: `[B, 3, L]` -> prediction with `[B, 3]` fields."""
        b, k, n = waves.shape
        with self._autocast():
            res = self.bundle.sc.classify(waves.reshape(b * k, n))
        index = torch.where(res.is_silence, -1, res.index).reshape(b, k)
        probs = res.probs.float().reshape(b, k, -1)
        prob = probs.max(dim=-1).values
        return ClassPrediction(index, prob, res.energy.float().reshape(b, k), probs).dedupe()

    @staticmethod
    def uss_prediction(
        class_logits: torch.Tensor, activity_logits: torch.Tensor
    ) -> ClassPrediction:
        """CP 1: the USS class decoder's labels (silence where the activity sigmoid < 0.5)."""
        logits = class_logits.float()
        prob, index = logits.softmax(-1).max(-1)
        index = torch.where(activity_logits.float().sigmoid() >= 0.5, index, -1)
        return ClassPrediction(index, prob, -torch.logsumexp(logits, -1)).dedupe()

    def tse(
        self, mixture: torch.Tensor, enrollment: torch.Tensor, clue: torch.Tensor
    ) -> torch.Tensor:
        """One TSE pass. Shape: `[B,4,L]`, `[B,3,L]`, `[B,3,18]` -> `[B,3,L]`."""
        with self._autocast():
            out = self.bundle.tse(mixture, enrollment, clue)
        return out.foreground.float()

    @torch.no_grad()
    def run(
        self,
        mixture: torch.Tensor | np.ndarray,
        overrides: list[list[SlotOverride]] | None = None,
        cancel: CancelToken | None = None,
    ) -> WindowStages:
        """All stages for a batch of windows, then the user's overrides if any.

        Args:
            mixture: `[B, 4, L]` FOA windows at 32 kHz.
            overrides: per window, the slot corrections to apply (see `SlotOverride`).
            cancel: checked between the models (a batch can take many seconds on a CPU).

        Returns:
            WindowStages with FSS/CP of every stage; `final_*` include the overrides.
        """
        mix = torch.as_tensor(mixture, dtype=torch.float32)
        if mix.ndim != 3 or mix.shape[1] != N_CHANNELS:
            raise ValueError(f"mixture must be [B, {N_CHANNELS}, L], got {tuple(mix.shape)}")
        mix = mix.to(self.device)
        check = cancel.check if cancel is not None else lambda: None
        with self._autocast():
            uss = self.bundle.uss(mix)
        fss = [uss.foreground.float()]
        cp_uss = self.uss_prediction(uss.class_logits, uss.activity_logits)
        check()
        cp = [self.classify(fss[0])]
        clues: list[torch.Tensor] = []
        for _ in range(self.tse_rounds):
            check()
            clue = cp[-1].clue().to(self.device)
            clues.append(clue)
            fss.append(self.tse(mix, fss[-1], clue))
            cp.append(self.classify(fss[-1]))
        stages = WindowStages([f.cpu() for f in fss], cp, cp_uss, [c.cpu() for c in clues])
        if overrides and any(overrides):
            stages.refined_fss, stages.refined_cp = self.apply_overrides(mix, stages, overrides)
        return stages

    @torch.no_grad()
    def apply_overrides(
        self,
        mixture: torch.Tensor,
        stages: WindowStages,
        overrides: list[list[SlotOverride]],
    ) -> tuple[torch.Tensor, ClassPrediction]:
        """Final waveforms and labels after re-running the last TSE round with corrected clues.

        Only windows with overrides run the TSE again; the slots not overridden keep the last
        stage's output, and the enrollment clue of an overridden slot stays the previous stage's
        output unless the override gives a new one.
        Shape: mixture `[B, 4, L]` -> (`[B, 3, L]`, prediction with `[B, 3]` fields).
        """
        mix = torch.as_tensor(mixture, dtype=torch.float32).to(self.device)
        if not any(overrides):
            return stages.fss[-1], stages.cp[-1]
        if len(overrides) != mix.shape[0]:
            raise ValueError(f"{len(overrides)} override lists for {mix.shape[0]} windows")
        rows = [b for b, ovs in enumerate(overrides) if ovs]
        last = len(stages.fss) - 1
        enroll = stages.fss[max(last - 1, 0)][rows].clone()
        clue = (stages.clues[-1] if stages.clues else stages.cp[0].clue())[rows].clone()
        for i, b in enumerate(rows):
            for ov in overrides[b]:
                clue[i, ov.slot] = 0
                if ov.label != SILENCE:
                    clue[i, ov.slot, CLASS_INDEX[ov.label]] = 1
                if ov.enrollment is not None:
                    enroll[i, ov.slot] = torch.as_tensor(ov.enrollment, dtype=torch.float32)
        new = self.tse(mix[rows], enroll.to(self.device), clue.to(self.device)).cpu()
        new_cp = self.classify(new)
        final = stages.fss[-1].clone()
        pred = stages.cp[-1]
        index, prob, energy = pred.index.clone(), pred.prob.clone(), pred.energy.clone()
        length = final.shape[-1]
        for i, b in enumerate(rows):
            for ov in overrides[b]:
                wave = new[i, ov.slot]
                if ov.span is not None:
                    wave = wave * _fade_mask(length, ov.span)
                if ov.label == SILENCE:
                    final[b, ov.slot] = 0
                    index[b, ov.slot] = -1
                else:
                    final[b, ov.slot] = wave
                    index[b, ov.slot] = CLASS_INDEX[ov.label]
                if ov.label != SILENCE and new_cp.probs is not None:
                    # Confidence in the user's class, not in whatever the classifier prefers.
                    prob[b, ov.slot] = new_cp.probs[i, ov.slot, CLASS_INDEX[ov.label]]
                else:
                    prob[b, ov.slot] = new_cp.prob[i, ov.slot]
                energy[b, ov.slot] = new_cp.energy[i, ov.slot]
        return final, ClassPrediction(index, prob, energy)
