"""The separator's STFT: 32 kHz, 40 ms Hann window (1280), 20 ms hop (640), 641 bins.

Tensors follow the network convention `[B, C, T, F]` (time frames before frequency bins).
"""

from __future__ import annotations

import torch

from engine.constants import HOP_LENGTH, N_FFT, WIN_LENGTH

_WINDOWS: dict[tuple[torch.device, torch.dtype], torch.Tensor] = {}


def _window(device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    key = (device, dtype)
    if key not in _WINDOWS:
        # A normal tensor even when first asked for under inference_mode: an inference tensor
        # in the cache would break every later autograd use ("cannot be saved for backward").
        with torch.inference_mode(False):
            _WINDOWS[key] = torch.hann_window(WIN_LENGTH, device=device, dtype=dtype)
    return _WINDOWS[key]


def n_frames(n_samples: int) -> int:
    """Number of STFT frames for a signal of `n_samples` (centred frames)."""
    return n_samples // HOP_LENGTH + 1


def stft(x: torch.Tensor) -> torch.Tensor:
    """Complex STFT of a multichannel batch.

    Shape:
        x: `[B, C, N]` real -> `[B, C, T, F]` complex, T = N // 640 + 1, F = 641.
    """
    if x.ndim != 3:
        raise ValueError(f"stft expects [B, C, N], got shape {tuple(x.shape)}")
    b, c, n = x.shape
    spec = torch.stft(
        x.reshape(b * c, n),
        N_FFT,
        HOP_LENGTH,
        WIN_LENGTH,
        _window(x.device, x.dtype),
        center=True,
        return_complex=True,
    )
    return spec.reshape(b, c, spec.shape[-2], spec.shape[-1]).transpose(-1, -2)


def istft(spec: torch.Tensor, length: int) -> torch.Tensor:
    """Inverse of `stft`.

    Shape:
        spec: `[B, C, T, F]` complex -> `[B, C, length]` real.
    """
    if spec.ndim != 4 or not spec.is_complex():
        raise ValueError(
            f"istft expects complex [B, C, T, F], got {tuple(spec.shape)} {spec.dtype}"
        )
    b, c, t, f = spec.shape
    real_dtype = spec.real.dtype
    wav = torch.istft(
        spec.transpose(-1, -2).reshape(b * c, f, t),
        N_FFT,
        HOP_LENGTH,
        WIN_LENGTH,
        _window(spec.device, real_dtype),
        center=True,
        length=length,
    )
    return wav.reshape(b, c, length)


def to_real_imag(spec: torch.Tensor) -> torch.Tensor:
    """Stack real and imaginary parts as channels, per channel (re0, im0, re1, im1, ...).

    Shape:
        spec: `[B, C, T, F]` complex -> `[B, 2C, T, F]` real.
    """
    b, c, t, f = spec.shape
    return torch.view_as_real(spec).permute(0, 1, 4, 2, 3).reshape(b, 2 * c, t, f)


def from_real_imag(x: torch.Tensor) -> torch.Tensor:
    """Inverse of `to_real_imag`: `[B, 2C, T, F]` real -> `[B, C, T, F]` complex."""
    b, c2, t, f = x.shape
    if c2 % 2:
        raise ValueError(f"expected an even channel count (re/im pairs), got {c2}")
    pairs = x.reshape(b, c2 // 2, 2, t, f).permute(0, 1, 3, 4, 2)
    if pairs.dtype not in (torch.float32, torch.float64):
        pairs = pairs.float()  # complex tensors exist only for float32/float64 here
    return torch.view_as_complex(pairs.contiguous())
