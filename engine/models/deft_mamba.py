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
- band-split variants (`freq_bands`, the CPU tier): frequency regions with their own stride,
  fine at low frequencies and coarse at high ones, as band-split separators do;
- level: inputs are divided by the mixture's RMS and outputs multiplied back, so the network
  sees unit-level signals whatever the recording level;
- output "mask" (the CPU tier): the decoder's two channels are a complex mask on the reference
  channel's spectrum (the input's first re/im pair), offset by 1/S so that an untrained model
  returns mixture / S per object. Training then starts at the mixture's SDR instead of from
  silence: a direct output learned almost nothing in 150 CPU steps, the mask did (issue 13).
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
    # Band-split frequency encoder: ((first bin, stride), ...) regions in increasing order; the
    # last region runs to bin 640. Empty = one uniform region of `freq_stride`.
    freq_bands: tuple[tuple[int, int], ...] = ()
    output: str = "direct"  # "direct" (re/im of the target) or "mask" (complex mask, see above)
    trunk: str = "deft"  # "deft", or "unet": the convolutional control (engine.models.unet)


TRUNK_SIZES: dict[str, dict] = {
    # Real DeFT-Mamba at CPU cost: D 32, 4 block pairs, 641 bins strided by 4 (161 steps),
    # Mamba as in the paper (d_state 16, expand 4, headdim 16), attention 4 heads of D / 4.
    "lite": {"dim": 32, "n_blocks": 4, "freq_stride": 4, "attn_head_dim": None},
    # CPU tier (issue 13): trains and runs on two CPU cores. Frequency tokens cut from 161 to
    # 41 (641 bins / 16), output as a complex mask on the mixture so training starts at the
    # mixture's SDR. Chosen among the CPU candidates by learning curves (packaging/cpu/README.md).
    "cpu": {
        "dim": 32,
        "n_blocks": 4,
        "freq_stride": 16,
        "attn_head_dim": None,
        "chunk_size": 16,
        "output": "mask",
    },
    # Toy size for tests of other modules: a forward over 1 s in well under a second.
    "tiny": {
        "dim": 8,
        "n_blocks": 1,
        "freq_stride": 8,
        "attn_heads": 2,
        "attn_head_dim": None,
        "d_state": 8,
        "expand": 2,
        "headdim": 8,
        "chunk_size": 16,
    },
}
"""Named trunk sizes shared by the USS and the TSE (the TSE starts from a USS of its size:
`task.init_from_uss` copies the trunk), each model adding its own head sizes."""


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
        if c.output not in ("direct", "mask"):
            raise ValueError(f"output must be 'direct' or 'mask', got {c.output!r}")
        kernel, pad = ((3, 3), (1, 1)) if s == 1 else ((3, s), (1, 0))
        if c.freq_bands:
            self.bands = BandSplit(c.freq_bands, c.in_channels, d)
        else:
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
        if not c.freq_bands:
            self.decoder = nn.ConvTranspose2d(d, 2, kernel, stride=(1, s), padding=pad)
        if c.output == "mask":
            # Zero mask deltas at the start: every object begins as mixture / S.
            decoder = self.bands.decoders if c.freq_bands else [self.decoder]
            for layer in decoder:
                nn.init.zeros_(layer.weight)
                nn.init.zeros_(layer.bias)

    def forward(
        self, spec: torch.Tensor, length: int, embedding: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        b, _, t, _ = spec.shape
        x = self._encode(spec)
        for freq_block, time_block in zip(self.freq_blocks, self.time_blocks, strict=True):
            _, _, fp, d = x.shape
            x = self._run(freq_block, x.view(b * t, fp, d), embedding).view(b, t, fp, d)
            x = x.transpose(1, 2).contiguous()  # [B, F', T, D]
            x = self._run(time_block, x.view(b * fp, t, d), embedding).view(b, fp, t, d)
            x = x.transpose(1, 2).contiguous()
        return self._decode(x, spec, length)

    def _encode(self, spec: torch.Tensor) -> torch.Tensor:
        """Spectral channels `[B, C, T, 641]` -> frequency tokens `[B, T, F', D]`."""
        c = self.config
        f = spec.shape[-1]
        if c.freq_bands:
            x = self.bands.encode(spec)
        else:
            pad_f = (-f) % c.freq_stride
            x = self.encoder(F.pad(spec, (0, pad_f)) if pad_f else spec)
        return self.encoder_norm(x).permute(0, 2, 3, 1).contiguous()

    def _decode(
        self, x: torch.Tensor, spec: torch.Tensor, length: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Trunk features `[B, T, F', D]` -> (waveforms `[B, S, length]`, objects): object
        separator, audio decoder, mask on the reference channel when asked, iSTFT."""
        c = self.config
        b, t, fp, d = x.shape
        f = spec.shape[-1]
        objects = self.separator_act(self.separator(x)).view(b, t, fp, c.n_objects, d)
        objects = objects.permute(0, 3, 1, 2, 4)  # [B, S, T, F', D]
        features = objects.reshape(b * c.n_objects, t, fp, d).permute(0, 3, 1, 2)
        if c.freq_bands:
            ri = self.bands.decode(features, f)
        else:
            ri = self.decoder(features)[..., :f]
        spec_out = from_real_imag(ri)  # [B*S, 1, T, F]
        if c.output == "mask":
            ref = from_real_imag(spec[:, :2]).repeat_interleave(c.n_objects, 0)
            spec_out = (spec_out + 1.0 / c.n_objects) * ref
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


class BandSplit(nn.Module):
    """Non-uniform frequency encoder/decoder: each region of bins has its own stride.

    Region r covers bins [start_r, start_{r+1}) (the last one up to the top bin) and becomes
    ceil(width / stride) tokens through a `Conv2d(C -> D, (3, stride), stride (1, stride))`; the
    decoder mirrors it with a transposed conv per region, cropped back to the region's width.

    Shape:
        encode: `[B, C, T, 641]` -> `[B, D, T, F']`; decode: `[B, D, T, F']` -> `[B, 2, T, 641]`.
    """

    def __init__(self, bands: tuple[tuple[int, int], ...], in_channels: int, dim: int) -> None:
        super().__init__()
        starts = [int(b[0]) for b in bands]
        if not bands or starts[0] != 0 or starts != sorted(set(starts)) or starts[-1] >= N_FREQ:
            raise ValueError(
                f"freq_bands must start at bin 0 and increase below {N_FREQ}, got {bands}"
            )
        if any(int(b[1]) < 1 for b in bands):
            raise ValueError(f"freq_bands strides must be >= 1, got {bands}")
        ends = starts[1:] + [N_FREQ]
        self.regions = [(a, e, int(s)) for (a, s), e in zip(bands, ends, strict=True)]
        self.tokens = [-(-(e - a) // s) for a, e, s in self.regions]
        self.encoders = nn.ModuleList(
            nn.Conv2d(in_channels, dim, (3, s), stride=(1, s), padding=(1, 0))
            for _, _, s in self.regions
        )
        self.decoders = nn.ModuleList(
            nn.ConvTranspose2d(dim, 2, (3, s), stride=(1, s), padding=(1, 0))
            for _, _, s in self.regions
        )

    @property
    def n_tokens(self) -> int:
        """F': frequency tokens the trunk sees."""
        return sum(self.tokens)

    def encode(self, spec: torch.Tensor) -> torch.Tensor:
        """Spectral channels -> frequency tokens (see the class docstring)."""
        out = []
        for (a, e, s), conv in zip(self.regions, self.encoders, strict=True):
            region = spec[..., a:e]
            pad = (-(e - a)) % s
            out.append(conv(F.pad(region, (0, pad)) if pad else region))
        return torch.cat(out, -1)

    def decode(self, x: torch.Tensor, n_freq: int) -> torch.Tensor:
        """Frequency tokens -> re/im channels over `n_freq` bins."""
        out, first = [], 0
        for (a, e, _), n, deconv in zip(self.regions, self.tokens, self.decoders, strict=True):
            out.append(deconv(x[..., first : first + n])[..., : e - a])
            first += n
        return torch.cat(out, -1)[..., :n_freq]


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
