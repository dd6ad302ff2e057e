"""The DeFT-Mamba trunk shared by the USS and TSE separators (METHOD.md, report's variant).

Waveforms -> STFT real/imag channels -> encoder -> N_b x (F-hybrid block, T-hybrid block) ->
object separator (S object features) -> audio decoder per object -> iSTFT. The trunk works
channels-last (`[B, T, F, D]`): the F blocks see `[B*T, F, D]` sequences and the T blocks
`[B*F, T, D]`, so each block pair costs two layout copies and everything else is GEMMs.

Inferred choices (documented here, tested in tests/engine/models):
- object separator: a 1x1 `Conv2d(D -> D*S)` (as a Linear on channels-last features) + PReLU;
- audio decoder: one decoder shared by all objects (the separator already makes them differ),
  a 3x3 conv to 2 channels (real/imag of the reference channel), or with a frequency stride s a
  transposed conv of kernel (3, s), stride (1, s);
- lite variants: the encoder strides the 641 bins by s (kernel (3, s), stride (1, s)) to cut
  the sequence the F blocks see and the number of T sequences by s.
- level: inputs are divided by the mixture's RMS and outputs multiplied back, so the network
  sees unit-level signals whatever the recording level.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from engine.constants import N_FREQ
from engine.dsp import from_real_imag, istft, stft, to_real_imag
from engine.models.blocks import FeedForward, HybridBlock, MambaFeedForward, ResFiLM

MIN_SAMPLES = 641
"""Shortest input: the centred STFT reflects 640 samples at each end."""


@dataclass
class DeftMambaConfig:
    """Trunk hyper-parameters; defaults are the paper's (D 64, 6 blocks, full 641 bins)."""

    in_channels: int = 8
    dim: int = 64
    n_blocks: int = 6
    freq_stride: int = 1
    conv_kernel: int = 3
    attn_heads: int = 4
    attn_head_dim: int | None = 64  # "4 heads, head dim D"; None: D // heads
    ffn_mult: int = 4
    d_state: int = 16
    d_conv: int = 4
    expand: int = 4
    headdim: int = 16
    chunk_size: int = 32
    n_objects: int = 6
    film_dim: int = 0  # clue embedding size; 0 = no conditioning
    film_gain: bool = False
    block_tokens: int = 4096  # sequences go through a block in groups of <= this many steps


class DeftMamba(nn.Module):
    """Trunk + object separator + audio decoder.

    Shape:
        spec: `[B, in_channels, T, 641]` real (STFT re/im channels), embedding `[B, film_dim]`
        -> waveforms `[B, S, length]`, objects `[B, S, T, F', D]` (F' = ceil(641 / stride)).
    """

    def __init__(self, config: DeftMambaConfig) -> None:
        super().__init__()
        self.config = c = config
        s, d = c.freq_stride, c.dim
        if s < 1:
            raise ValueError(f"freq_stride must be >= 1, got {s}")
        kernel, pad = ((3, 3), (1, 1)) if s == 1 else ((3, s), (1, 0))
        self.encoder = nn.Conv2d(c.in_channels, d, kernel, stride=(1, s), padding=pad)
        self.encoder_norm = nn.GroupNorm(1, d)
        mamba = dict(
            d_state=c.d_state,
            d_conv=c.d_conv,
            expand=c.expand,
            headdim=c.headdim,
            chunk_size=c.chunk_size,
        )

        def film() -> ResFiLM | None:
            return ResFiLM(c.film_dim, d, c.film_gain) if c.film_dim else None

        def block(ffn: nn.Module) -> HybridBlock:
            return HybridBlock(d, ffn, c.conv_kernel, c.attn_heads, c.attn_head_dim, film())

        self.freq_blocks = nn.ModuleList(
            block(FeedForward(d, c.ffn_mult)) for _ in range(c.n_blocks)
        )
        self.time_blocks = nn.ModuleList(
            block(MambaFeedForward(d, c.ffn_mult, **mamba)) for _ in range(c.n_blocks)
        )
        self.separator = nn.Linear(d, d * c.n_objects)
        self.separator_act = nn.PReLU()
        self.decoder = nn.ConvTranspose2d(d, 2, kernel, stride=(1, s), padding=pad)

    def forward(
        self, spec: torch.Tensor, length: int, embedding: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        c = self.config
        b, _, t, f = spec.shape
        pad_f = (-f) % c.freq_stride
        x = self.encoder(F.pad(spec, (0, pad_f)) if pad_f else spec)
        x = self.encoder_norm(x).permute(0, 2, 3, 1).contiguous()  # [B, T, F', D]
        for freq_block, time_block in zip(self.freq_blocks, self.time_blocks, strict=True):
            _, _, fp, d = x.shape
            x = self._run(freq_block, x.view(b * t, fp, d), embedding).view(b, t, fp, d)
            x = x.transpose(1, 2).contiguous()  # [B, F', T, D]
            x = self._run(time_block, x.view(b * fp, t, d), embedding).view(b, fp, t, d)
            x = x.transpose(1, 2).contiguous()
        _, _, fp, d = x.shape
        objects = self.separator_act(self.separator(x)).view(b, t, fp, c.n_objects, d)
        objects = objects.permute(0, 3, 1, 2, 4)  # [B, S, T, F', D]
        ri = self.decoder(objects.reshape(b * c.n_objects, t, fp, d).permute(0, 3, 1, 2))
        spec_out = from_real_imag(ri[..., :f])  # [B*S, 1, T, F]
        wave = istft(spec_out, length).view(b, c.n_objects, length)
        return wave.to(spec.dtype), objects

    def _run(
        self, block: nn.Module, x: torch.Tensor, embedding: torch.Tensor | None
    ) -> torch.Tensor:
        """Apply a block to `[B*S, L, D]` sequences in groups of about `block_tokens` steps.

        The sequences are independent, so grouping changes nothing but speed: a group's
        temporaries stay in cache and get reused by the allocator instead of being mapped
        and page-faulted afresh (on CPU that halves the cost of the Mamba feed-forward).
        CPU only; on a GPU the whole batch goes through at once.
        """
        n, length, _ = x.shape
        if embedding is not None:
            embedding = embedding.repeat_interleave(n // embedding.shape[0], 0)
        tokens = self.config.block_tokens if x.device.type == "cpu" else 0  # GPUs want it whole
        group = max(1, tokens // length) if tokens else n
        if group >= n:
            return block(x, embedding)
        outs = []
        for start in range(0, n, group):
            emb = embedding[start : start + group] if embedding is not None else None
            outs.append(block(x[start : start + group], emb))
        return torch.cat(outs)


def check_waveform(name: str, x: torch.Tensor, channels: int) -> None:
    """ValueError unless `x` is `[B, channels, N]` with N >= MIN_SAMPLES."""
    if x.ndim != 3 or x.shape[1] != channels or x.shape[-1] < MIN_SAMPLES:
        raise ValueError(
            f"{name} must be [B, {channels}, N] with N >= {MIN_SAMPLES}, got {tuple(x.shape)}"
        )


def level(mixture: torch.Tensor) -> torch.Tensor:
    """Per-item RMS over channels and samples. Shape: `[B, C, N]` -> `[B, 1, 1]`."""
    return mixture.pow(2).mean((1, 2), keepdim=True).sqrt() + 1e-8


def spectral_input(*waves: torch.Tensor) -> torch.Tensor:
    """STFT real/imag channels of waveforms, concatenated: `[B, C_i, N]`... -> `[B, 2*sum C_i, T, 641]`."""
    spec = torch.cat([to_real_imag(stft(w)) for w in waves], 1)
    assert spec.shape[-1] == N_FREQ
    return spec
