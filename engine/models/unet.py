"""The control of the CPU tier: a class-queried convolutional U-Net trunk (issue 13).

The DCASE baseline's separators are convolutional U-Nets on the spectrogram, conditioned on the
target class; this trunk is one of that family, written for a fair comparison with DeFT-Mamba
at equal CPU time. It keeps everything around the trunk the same (the frequency-token
encoder, the object separator, the audio decoder and the mask output, from `DeftMamba`) and
replaces the F/T hybrid blocks by a U-Net over (time, frequency tokens):

    tokens [B, D, T, F'] -> n_blocks levels of (residual conv block, 3x3 stride-2 conv that
    halves T and F' and doubles the channels once) -> a bottleneck block -> the same levels back up
    (stride-2 transposed conv, skip concatenated, 1x1 merge, residual conv block).

The clue embedding (TSE) adds a per-channel bias after the first norm of every block (FiLM
without gain, zero at the start like `ResFiLM`). Chosen by `DeftMambaConfig.trunk = "unet"`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from engine.models.deft_mamba import DeftMamba, DeftMambaConfig


class ConvBlock(nn.Module):
    """Two 3x3 convolutions with GroupNorm and GELU around a residual, clue bias after the first.

    Shape: x `[B, C, T, F]`, embedding `[B, E]` or None -> `[B, C, T, F]`.
    """

    def __init__(self, channels: int, film_dim: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.norm1 = nn.GroupNorm(1, channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.norm2 = nn.GroupNorm(1, channels)
        self.film = nn.Linear(film_dim, channels) if film_dim else None
        if self.film is not None:  # the untrained clue path changes nothing
            nn.init.zeros_(self.film.weight)
            nn.init.zeros_(self.film.bias)

    def forward(self, x: torch.Tensor, embedding: torch.Tensor | None) -> torch.Tensor:
        h = self.norm1(self.conv1(x))
        if self.film is not None and embedding is not None:
            h = h + self.film(embedding)[:, :, None, None]
        h = self.norm2(self.conv2(F.gelu(h)))
        return F.gelu(x + h)


class UNetTrunk(DeftMamba):
    """DeftMamba's encoder and decoders around a convolutional U-Net (see the module docstring).

    Shape: as `DeftMamba` (spec `[B, C, T, 641]`, embedding `[B, film_dim]` -> waveforms
    `[B, S, length]`, objects `[B, S, T, F', D]`).
    """

    def __init__(self, config: DeftMambaConfig) -> None:
        super().__init__(config)
        c = config
        # The hybrid blocks are replaced, not used.
        self.freq_blocks = nn.ModuleList()
        self.time_blocks = nn.ModuleList()
        # Channels double once, then stay: the control keeps about the DeFT tier's size.
        widths = [c.dim * 2 ** min(level, 1) for level in range(c.n_blocks + 1)]
        self.down_blocks = nn.ModuleList(ConvBlock(w, c.film_dim) for w in widths[:-1])
        self.downs = nn.ModuleList(
            nn.Conv2d(a, b, 3, stride=2, padding=1)
            for a, b in zip(widths[:-1], widths[1:], strict=True)
        )
        self.bottleneck = ConvBlock(widths[-1], c.film_dim)
        self.ups = nn.ModuleList(
            nn.ConvTranspose2d(b, a, 2, stride=2)
            for a, b in zip(widths[:-1], widths[1:], strict=True)
        )
        self.merges = nn.ModuleList(nn.Conv2d(2 * w, w, 1) for w in widths[:-1])
        self.up_blocks = nn.ModuleList(ConvBlock(w, c.film_dim) for w in widths[:-1])

    def forward(
        self, spec: torch.Tensor, length: int, embedding: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        x = self._encode(spec).permute(0, 3, 1, 2)  # [B, D, T, F']
        skips = []
        for block, down in zip(self.down_blocks, self.downs, strict=True):
            x = block(x, embedding)
            skips.append(x)
            x = down(x)
        x = self.bottleneck(x, embedding)
        for level in reversed(range(len(skips))):
            skip = skips[level]
            x = self.ups[level](x)[..., : skip.shape[-2], : skip.shape[-1]]
            x = self.merges[level](torch.cat([x, skip], 1))
            x = self.up_blocks[level](x, embedding)
        return self._decode(x.permute(0, 2, 3, 1).contiguous(), spec, length)


def make_trunk(config: DeftMambaConfig) -> DeftMamba:
    """The trunk `config.trunk` names: "deft" (DeFT-Mamba) or "unet" (the control)."""
    if config.trunk == "deft":
        return DeftMamba(config)
    if config.trunk == "unet":
        return UNetTrunk(config)
    raise ValueError(f"trunk must be 'deft' or 'unet', got {config.trunk!r}")
