"""What the separators return: waveforms per object slot, plus the USS class decoder's logits."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class SeparatorOutput:
    """Separated objects of a mixture, mono at the reference channel.

    Shape:
        foreground `[B, 3, N]`, interference `[B, 2, N]`, noise `[B, 1, N]`;
        class_logits `[B, 3, 18]` and activity_logits `[B, 3]` (USS only; a foreground slot
        holds a source when sigmoid(activity) >= 0.5), None for the TSE.
    """

    foreground: torch.Tensor
    interference: torch.Tensor
    noise: torch.Tensor
    class_logits: torch.Tensor | None = None
    activity_logits: torch.Tensor | None = None

    def active(self) -> torch.Tensor | None:
        """Boolean `[B, 3]`: which foreground slots the class decoder calls active."""
        if self.activity_logits is None:
            return None
        return torch.sigmoid(self.activity_logits) >= 0.5
