"""DeFT-Mamba-TSE: target sound extraction guided by enrollment waveforms and class clues.

Enrollment (the previous stage's three foreground waveforms) enters as STFT real/imag channels
concatenated with the mixture's: 8 + 3 x 2 = 14 encoder channels. The class clue (three 18-dim
one-hots, an all-zero row = silent slot) is flattened to 54 values, embedded by a small MLP and
injected by Res-FiLM after the first norm of every hybrid block. Foreground slot k answers clue k.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from engine.constants import N_CHANNELS, N_FOREGROUND, N_INTERFERENCE, NUM_CLASSES
from engine.models.deft_mamba import (
    TRUNK_SIZES,
    DeftMambaConfig,
    check_waveform,
    level,
    spectral_input,
)
from engine.models.outputs import SeparatorOutput
from engine.models.unet import make_trunk

CLUE_DIM = N_FOREGROUND * NUM_CLASSES  # 54


@dataclass
class TSEConfig(DeftMambaConfig):
    """TSE: the trunk's config with 14 input channels and a clue embedding."""

    in_channels: int = 2 * N_CHANNELS + 2 * N_FOREGROUND
    film_dim: int = 128


class ClueEncoder(nn.Module):
    """Embeds the flattened class clue. Shape: `[B, 3, 18]` -> `[B, E]`."""

    def __init__(self, embed_dim: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(CLUE_DIM, embed_dim)
        self.fc2 = nn.Linear(embed_dim, embed_dim)

    def forward(self, clue: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.mish(self.fc1(clue.flatten(1))))


class DeftMambaTSE(nn.Module):
    """Target sound extraction of the three foreground slots.

    Shape:
        mixture `[B, 4, N]`, enrollment `[B, 3, N]`, class_clue `[B, 3, 18]` ->
        SeparatorOutput with `[B, 3|2|1, N]` waveforms (no logits).
    """

    model_name = "deft_mamba_tse"
    config_class = TSEConfig

    def __init__(self, config: TSEConfig | None = None) -> None:
        super().__init__()
        config = config or TSEConfig()
        if config.in_channels != 2 * (N_CHANNELS + N_FOREGROUND) or config.film_dim < 1:
            raise ValueError(
                f"TSE needs in_channels 14 and film_dim >= 1, got {config.in_channels}, "
                f"{config.film_dim}"
            )
        if config.n_objects != 6:
            raise ValueError(f"TSE needs n_objects 6, got {config.n_objects}")
        self.config = config
        self.clue_encoder = ClueEncoder(config.film_dim)
        self.trunk = make_trunk(config)

    def forward(
        self, mixture: torch.Tensor, enrollment: torch.Tensor, class_clue: torch.Tensor
    ) -> SeparatorOutput:
        check_waveform("mixture", mixture, N_CHANNELS)
        check_waveform("enrollment", enrollment, N_FOREGROUND)
        b, _, n = mixture.shape
        if enrollment.shape != (b, N_FOREGROUND, n):
            raise ValueError(
                f"enrollment must be {(b, N_FOREGROUND, n)}, got {tuple(enrollment.shape)}"
            )
        if class_clue.shape != (b, N_FOREGROUND, NUM_CLASSES):
            raise ValueError(
                f"class_clue must be {(b, N_FOREGROUND, NUM_CLASSES)}, got {tuple(class_clue.shape)}"
            )
        scale = level(mixture)  # enrollment keeps its level relative to the mixture
        spec = spectral_input(mixture / scale, enrollment / scale)
        embedding = self.clue_encoder(class_clue.to(mixture.dtype))
        waves, _ = self.trunk(spec, n, embedding)
        waves = waves * scale
        fg, it = N_FOREGROUND, N_FOREGROUND + N_INTERFERENCE
        return SeparatorOutput(waves[:, :fg], waves[:, fg:it], waves[:, it:])


CONFIGS = {
    "paper": TSEConfig(),
    "lite": TSEConfig(**TRUNK_SIZES["lite"], film_dim=64),
    "cpu": TSEConfig(**TRUNK_SIZES["cpu"], film_dim=64),
    "tiny": TSEConfig(**TRUNK_SIZES["tiny"], film_dim=16),
}
# The control (issue 13): the same clue FiLM on a convolutional U-Net trunk.
CONFIGS["cpu-unet"] = dataclasses.replace(CONFIGS["cpu"], trunk="unet")
