"""SI-SDRi by number of sources: a perfect separator scores high, the mixture scores 0 dB, and
slots are matched to references by permutation before scoring."""

import torch
from torch import nn

from engine.models.outputs import SeparatorOutput
from engine.train.by_sources import si_sdri_by_sources


class Oracle(nn.Module):
    """Returns the batch's targets in reversed slot order (PIT must undo it), or the mixture."""

    def __init__(self, targets: torch.Tensor | None):
        super().__init__()
        self.targets = targets

    def forward(self, mixture):
        b, _, n = mixture.shape
        fg = self.targets.flip(1) if self.targets is not None else mixture[:, :1].repeat(1, 3, 1)
        return SeparatorOutput(fg, torch.zeros(b, 2, n), torch.zeros(b, 1, n))


def test_scores_are_grouped_by_how_many_sources_a_scene_holds():
    g = torch.Generator().manual_seed(0)
    targets = torch.randn(2, 3, 4000, generator=g)
    targets[0, 1:] = 0  # scene 0: one source; scene 1: three
    mixture = targets.sum(1, keepdim=True).repeat(1, 4, 1) + 0.1 * torch.randn(
        2, 4, 4000, generator=g
    )
    labels = torch.tensor([[3, -1, -1], [1, 5, 7]])
    batch = {"mixture": mixture, "targets": targets, "label_index": labels}
    perfect = si_sdri_by_sources(Oracle(targets), [batch])
    assert set(perfect) == {1, 3} and perfect[1][1] == 1 and perfect[3][1] == 3
    assert perfect[3][0] > 30  # the three separated sources, found whatever the slot order
    assert perfect[1][0] > 15  # the lone source, without the added noise
    nothing = si_sdri_by_sources(Oracle(None), [batch])
    assert abs(nothing[1][0]) < 1e-6 and abs(nothing[3][0]) < 1e-6
