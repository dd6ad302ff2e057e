"""DeFT-Mamba-USS: the universal separator (3 foreground + 2 interference + 1 noise objects).

The class decoder (layout not published; inferred): per foreground object, mean and max pooling
of its features over (T, F) -> `Linear(2D -> hidden)` -> Mish -> `Linear(hidden -> 18 + 1)`:
18 class logits and one activity logit (sigmoid >= 0.5 = a source is present; trained with BCE).
One decoder is shared by the three foreground slots.
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


@dataclass
class USSConfig(DeftMambaConfig):
    """USS: the trunk's config plus the class decoder's hidden size."""

    class_hidden: int = 128


class ClassDecoder(nn.Module):
    """Pooled object features -> class logits and an activity logit.

    Shape:
        objects: `[B, K, T, F, D]` -> class logits `[B, K, 18]`, activity logits `[B, K]`.
    """

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(2 * dim, hidden)
        self.fc2 = nn.Linear(hidden, NUM_CLASSES + 1)

    def forward(self, objects: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pooled = torch.cat([objects.mean((2, 3)), objects.amax((2, 3))], -1)
        out = self.fc2(F.mish(self.fc1(pooled)))
        return out[..., :NUM_CLASSES], out[..., NUM_CLASSES]


class DeftMambaUSS(nn.Module):
    """Universal sound separation of a 4-channel FOA mixture.

    Shape:
        mixture: `[B, 4, N]` (N >= 641) -> SeparatorOutput with `[B, 3|2|1, N]` waveforms,
        class logits `[B, 3, 18]` and activity logits `[B, 3]`.
    """

    model_name = "deft_mamba_uss"
    config_class = USSConfig

    def __init__(self, config: USSConfig | None = None) -> None:
        super().__init__()
        config = config or USSConfig()
        if config.in_channels != 2 * N_CHANNELS or config.n_objects != 6:
            raise ValueError(
                f"USS needs in_channels 8 and n_objects 6, got {config.in_channels}, "
                f"{config.n_objects}"
            )
        self.config = config
        self.trunk = make_trunk(config)
        self.class_decoder = ClassDecoder(config.dim, config.class_hidden)

    def forward(self, mixture: torch.Tensor) -> SeparatorOutput:
        check_waveform("mixture", mixture, N_CHANNELS)
        scale = level(mixture)
        waves, objects = self.trunk(spectral_input(mixture / scale), mixture.shape[-1])
        waves = waves * scale
        class_logits, activity_logits = self.class_decoder(objects[:, :N_FOREGROUND])
        fg, it = N_FOREGROUND, N_FOREGROUND + N_INTERFERENCE
        return SeparatorOutput(
            waves[:, :fg], waves[:, fg:it], waves[:, it:], class_logits, activity_logits
        )


CONFIGS = {
    "paper": USSConfig(),
    # 0.30 M parameters (1.1 MB), 8.5 GFLOP per second of audio; `bench models` has timings.
    "lite": USSConfig(**TRUNK_SIZES["lite"], class_hidden=64),
    "cpu": USSConfig(**TRUNK_SIZES["cpu"], class_hidden=64),
    "tiny": USSConfig(**TRUNK_SIZES["tiny"], class_hidden=16),
}


CPU_BANDS = ((0, 4), (48, 8), (176, 16), (400, 32))
"""Band-split regions of the CPU candidates: 25 Hz bins; 100 Hz tokens below 1.2 kHz,
200 Hz to 4.4 kHz, 400 Hz to 10 kHz, 800 Hz above (12 + 16 + 14 + 8 = 50 tokens)."""

CPU_CANDIDATES = {
    "cpu": CONFIGS["cpu"],
    "cpu-bands": dataclasses.replace(CONFIGS["cpu"], freq_stride=1, freq_bands=CPU_BANDS),
    "cpu-wide": dataclasses.replace(CONFIGS["cpu"], dim=48, n_blocks=3),
    "cpu-fine": dataclasses.replace(CONFIGS["cpu"], freq_stride=8),
    # The control: a convolutional U-Net of the DCASE baseline's family (engine.models.unet).
    "cpu-unet": dataclasses.replace(CONFIGS["cpu"], trunk="unet"),
}
"""USS configs compared for the CPU tier at equal CPU time (`scenesplit train uss --config
cpu model=<name>`); the winner is `cpu`."""
CONFIGS.update(CPU_CANDIDATES)
# The CPU tier's recipe at toy size: the test that a separator learns on real scenes.
CONFIGS["tiny-mask"] = dataclasses.replace(CONFIGS["tiny"], dim=16, freq_stride=16, output="mask")
