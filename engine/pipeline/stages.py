"""What each stage of the pipeline produces for a batch of 10 s windows.

Stage names follow the report's Table 1: FSS 1 (USS waveforms) + CP 1 (USS class decoder),
CP 1-1 (M2D-SC on FSS 1), FSS r+1 (TSE round r) + CP r+1 (M2D-SC on it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from engine.constants import CLASSES, NUM_CLASSES, SILENCE
from engine.contract import PAPER_TSE_ROUNDS


@dataclass
class ClassPrediction:
    """Labels of the 3 slots of each window, with their confidence.

    Shape: `index [B, 3]` long (-1 = silence), `prob [B, 3]` (probability of the predicted class),
    `energy [B, 3]` (energy score; NaN where the stage has none).
    """

    index: torch.Tensor
    prob: torch.Tensor
    energy: torch.Tensor
    probs: torch.Tensor | None = None
    """All class probabilities `[B, 3, 18]` where the stage has them."""

    def labels(self, b: int) -> list[str]:
        """Slot labels of window `b` ("silence" for empty slots)."""
        return [CLASSES[i] if i >= 0 else SILENCE for i in self.index[b].tolist()]

    def clue(self) -> torch.Tensor:
        """Class clue for the TSE: one-hot rows, all-zero for silence. Shape `[B, 3, 18]`."""
        idx = self.index.clamp(min=0)
        onehot = torch.nn.functional.one_hot(idx, NUM_CLASSES).float()
        return onehot * (self.index >= 0).unsqueeze(-1).float()

    def dedupe(self) -> ClassPrediction:
        """Keep a class at most once per window (the more confident slot wins; others go silent)."""
        index = self.index.clone()
        b, k = index.shape
        order = torch.argsort(self.prob, dim=1, descending=True)
        for i in range(b):
            seen: set[int] = set()
            for slot in order[i].tolist():
                c = int(index[i, slot])
                if c >= 0 and c in seen:
                    index[i, slot] = -1
                seen.add(c)
        return ClassPrediction(index, self.prob, self.energy, self.probs)


@dataclass
class WindowStages:
    """Every stage of the pipeline for a batch of windows, kept so each can be scored or reused.

    `fss[0]` is the USS output (FSS 1), `fss[r]` the r-th TSE round (FSS r+1); `cp[0]` is CP 1-1
    (M2D-SC on FSS 1), `cp[r]` CP r+1; `cp_uss` is CP 1 (the USS class decoder). `clues[r]` is the
    class clue the r-th TSE round used (= `cp[r-1]` unless the user overrode a slot).
    Shape: each `fss[r]` is `[B, 3, L]`.
    """

    fss: list[torch.Tensor]
    cp: list[ClassPrediction]
    cp_uss: ClassPrediction
    clues: list[torch.Tensor] = field(default_factory=list)
    refined_fss: torch.Tensor | None = None
    """Final waveforms after user overrides (None: no override in this batch)."""
    refined_cp: ClassPrediction | None = None

    @property
    def final_waveforms(self) -> torch.Tensor:
        """Waveforms the user gets `[B, 3, L]`: the last stage, with user overrides applied."""
        return self.refined_fss if self.refined_fss is not None else self.fss[-1]

    @property
    def final_prediction(self) -> ClassPrediction:
        """Labels the user gets: the last stage's, with user overrides applied."""
        return self.refined_cp if self.refined_cp is not None else self.cp[-1]

    def table_rows(self) -> list[tuple[str, torch.Tensor, ClassPrediction]]:
        """(row name, waveforms, labels) for every configuration of the report's Table 1."""
        rows = [
            ("FSS 1 + CP 1", self.fss[0], self.cp_uss),
            (output_row(0), self.fss[0], self.cp[0]),
        ]
        for r in range(1, len(self.fss)):
            prev = "CP 1-1" if r == 1 else f"CP {r}"
            rows.append((f"FSS {r + 1} + {prev}", self.fss[r], self.cp[r - 1]))
            rows.append((output_row(r), self.fss[r], self.cp[r]))
        return rows


def output_row(tse_rounds: int) -> str:
    """The Table 1 row that is the pipeline's output with `tse_rounds` TSE rounds."""
    return "FSS 1 + CP 1-1" if tse_rounds == 0 else f"FSS {tse_rounds + 1} + CP {tse_rounds + 1}"


def best_rounds(rows: dict[str, dict[str, float]], most: int = PAPER_TSE_ROUNDS) -> int:
    """The TSE rounds (0 to `most`) whose output row of a Table 1 (`{row: {"ca_sdri": ...}}`)
    has the best CA-SDRi; fewer on a tie (they are faster)."""
    scores = [rows[output_row(k)]["ca_sdri"] for k in range(most + 1)]
    return max(range(len(scores)), key=lambda k: (scores[k], -k))
