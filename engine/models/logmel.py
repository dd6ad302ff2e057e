"""M2D's 32 kHz log-mel front end in plain PyTorch (no torchaudio): waveform -> normalised log-mel.

Parameters (METHOD.md): n_fft = window = 800 (25 ms), hop 320 (10 ms), periodic Hann window,
centred frames with reflect padding (so 10 s = 320,000 samples -> 1001 frames), power spectrum,
80 mel bands over 50-16000 Hz on the Slaney mel scale with Slaney area normalisation (the
librosa default), `log(x + eps)` with the float32 epsilon, then `(x - mean) / std` with dataset
statistics kept as buffers (so they travel with the state_dict and an official checkpoint's
`norm_stats` can set them).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from engine.constants import FLOAT32_EPS, SAMPLE_RATE

M2D_N_FFT = 800
M2D_HOP = 320
M2D_N_MELS = 80
M2D_F_MIN = 50.0
M2D_F_MAX = 16000.0


def hz_to_mel_slaney(hz: torch.Tensor) -> torch.Tensor:
    """Slaney mel scale: linear below 1 kHz (3 mel per 200 Hz), logarithmic above."""
    f_sp = 200.0 / 3
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = math.log(6.4) / 27.0
    linear = hz / f_sp
    log = min_log_mel + torch.log(torch.clamp(hz, min=min_log_hz) / min_log_hz) / logstep
    return torch.where(hz >= min_log_hz, log, linear)


def mel_to_hz_slaney(mel: torch.Tensor) -> torch.Tensor:
    """Inverse of `hz_to_mel_slaney`."""
    f_sp = 200.0 / 3
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = math.log(6.4) / 27.0
    linear = f_sp * mel
    log = min_log_hz * torch.exp(logstep * (mel - min_log_mel))
    return torch.where(mel >= min_log_mel, log, linear)


def mel_filterbank(
    sample_rate: int = SAMPLE_RATE,
    n_fft: int = M2D_N_FFT,
    n_mels: int = M2D_N_MELS,
    f_min: float = M2D_F_MIN,
    f_max: float = M2D_F_MAX,
) -> torch.Tensor:
    """Slaney-normalised triangular mel filters (float64).

    Shape: -> `[n_mels, n_fft // 2 + 1]`.
    """
    fft_freqs = torch.linspace(0, sample_rate / 2, n_fft // 2 + 1, dtype=torch.float64)
    mel_pts = torch.linspace(
        float(hz_to_mel_slaney(torch.tensor(f_min, dtype=torch.float64))),
        float(hz_to_mel_slaney(torch.tensor(f_max, dtype=torch.float64))),
        n_mels + 2,
        dtype=torch.float64,
    )
    hz_pts = mel_to_hz_slaney(mel_pts)
    lower, centre, upper = hz_pts[:-2, None], hz_pts[1:-1, None], hz_pts[2:, None]
    rising = (fft_freqs[None] - lower) / (centre - lower)
    falling = (upper - fft_freqs[None]) / (upper - centre)
    weights = torch.clamp(torch.minimum(rising, falling), min=0.0)
    # Slaney normalisation: every filter has unit area in Hz (2 / bandwidth).
    return weights * (2.0 / (upper - lower))


class LogMel(nn.Module):
    """Waveform -> normalised log-mel spectrogram, the M2D input.

    Shape:
        wave: `[B, N]` float -> `[B, 1, n_mels, T]`, T = N // hop + 1 (1001 for 10 s).
    """

    def __init__(
        self,
        mean: float = 0.0,
        std: float = 1.0,
        sample_rate: int = SAMPLE_RATE,
        n_fft: int = M2D_N_FFT,
        hop: int = M2D_HOP,
        n_mels: int = M2D_N_MELS,
        f_min: float = M2D_F_MIN,
        f_max: float = M2D_F_MAX,
        eps: float = FLOAT32_EPS,
    ):
        super().__init__()
        if std <= 0:
            raise ValueError(f"std must be positive, got {std}")
        self.n_fft = n_fft
        self.hop = hop
        self.n_mels = n_mels
        self.eps = eps
        # Window and filters derive from the parameters: not persistent, so state_dicts hold
        # only what is learned or measured (the normalisation statistics).
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        self.register_buffer(
            "mel_fb",
            mel_filterbank(sample_rate, n_fft, n_mels, f_min, f_max).float(),
            persistent=False,
        )
        self.register_buffer("mean", torch.tensor(float(mean)))
        self.register_buffer("std", torch.tensor(float(std)))

    def set_norm_stats(self, mean: float, std: float) -> None:
        """Replace the dataset statistics (e.g. from an official checkpoint's `norm_stats`)."""
        if std <= 0:
            raise ValueError(f"std must be positive, got {std}")
        self.mean.fill_(float(mean))
        self.std.fill_(float(std))

    def log_mel(self, wave: torch.Tensor) -> torch.Tensor:
        """Un-normalised `log(mel power + eps)`. Shape: `[B, N]` -> `[B, n_mels, T]`."""
        if wave.ndim != 2:
            raise ValueError(f"LogMel expects [B, N] waveforms, got shape {tuple(wave.shape)}")
        if wave.shape[-1] <= self.n_fft // 2:
            raise ValueError(
                f"LogMel needs more than {self.n_fft // 2} samples, got {wave.shape[-1]}"
            )
        spec = torch.stft(
            wave.float(),
            self.n_fft,
            self.hop,
            self.n_fft,
            self.window,
            center=True,
            pad_mode="reflect",
            return_complex=True,
        )
        power = spec.real.pow(2) + spec.imag.pow(2)  # [B, F, T]
        mel = torch.matmul(self.mel_fb, power)
        return torch.log(mel + self.eps)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        """Normalised log-mel with a channel axis. Shape: `[B, N]` -> `[B, 1, n_mels, T]`."""
        return ((self.log_mel(wave) - self.mean) / self.std).unsqueeze(1)


@torch.no_grad()
def norm_stats(frontend: LogMel, waves: torch.Tensor) -> tuple[float, float]:
    """Mean and std of the log-mel values over a batch of training waveforms `[B, N]`."""
    x = frontend.log_mel(waves)
    return float(x.mean()), float(x.std())
