"""Stems as a project needs them: the recording's rate, a chosen format, optionally spatial.

The engine separates at 32 kHz and keeps mono float working stems (the reference channel W);
delivery turns one into the file a DAW project wants, streaming block by block (memory does
not grow with duration):

- **rate**: resampled back to the recording's own rate by default (soxr stream), or to any
  rate asked for;
- **format**: WAV float / 24-bit / 16-bit or FLAC 24 / 16-bit (`StemFormat`);
- **spatial**: a stem with the recording's channels that keeps its spatial image (FOA stems
  from FOA, stereo from stereo). The working stem S and the recording's reference signal X
  (W, or (L+R)/2 for stereo: the channel the engine separated) give a Wiener gain per
  time-frequency bin, |S|^2 / (|S|^2 + |X - S|^2), applied to every channel of the recording.
  The gain is computed in hop-aligned chunks with a context of one FFT length on each side,
  so the result equals a whole-file computation (tested) while memory stays bounded.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from engine.audio.writer import SUBTYPES, StemWriter
from engine.constants import SAMPLE_RATE
from engine.errors import ScenesplitError

CONTAINERS = ("wav", "flac")
BLOCK_FRAMES = 1 << 17
SPATIAL_FFT_S = 0.064
"""Analysis window of the spatial gain (64 ms: 2048 samples at 32 kHz, as the separators' 40 ms
window gives too coarse a frequency grid for a gain at 48 kHz and above)."""

_SUBTYPE_WORDS = {"FLOAT": "32-bit float", "PCM_24": "24-bit", "PCM_16": "16-bit"}


@dataclass(frozen=True)
class StemFormat:
    """How delivered stems are written (defaults: the recording's rate, WAV float, mono)."""

    sample_rate: int | None = None  # None: the recording's own rate
    container: str = "wav"
    subtype: str = "FLOAT"
    spatial: bool = False  # the recording's channels instead of mono W

    def __post_init__(self) -> None:
        if self.container not in CONTAINERS:
            raise ScenesplitError(
                f"stem format must be one of {CONTAINERS}, got {self.container!r}"
            )
        if self.subtype not in SUBTYPES or (self.container == "flac" and self.subtype == "FLOAT"):
            allowed = [s for s in SUBTYPES if self.container == "wav" or s != "FLOAT"]
            raise ScenesplitError(
                f"{self.container} stems take {', '.join(allowed)}, not {self.subtype!r}"
            )
        if self.sample_rate is not None and not 8_000 <= self.sample_rate <= 384_000:
            raise ScenesplitError(f"stem rate must be 8000-384000 Hz, got {self.sample_rate}")

    @property
    def suffix(self) -> str:
        """File suffix ('.wav' or '.flac')."""
        return f".{self.container}"

    def rate_for(self, recording: dict) -> int:
        """The rate stems of `recording` (a manifest's recording facts) are written at."""
        return int(self.sample_rate or recording.get("source_sample_rate") or SAMPLE_RATE)

    def describe(self, recording: dict) -> str:
        """A phrase a user reads, e.g. '48 kHz 24-bit WAV, 4 channels (FOA)'."""
        rate = self.rate_for(recording) / 1000
        words = f"{rate:g} kHz {_SUBTYPE_WORDS[self.subtype]} {self.container.upper()}"
        if not self.spatial:
            return f"{words}, mono"
        n = len(_recording_channels(recording))
        return f"{words}, {n} channel{'s' * (n != 1)} ({recording.get('layout', '?').upper()})"

    def to_dict(self) -> dict:
        """Plain data (saved beside delivered stems and in settings)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> StemFormat:
        """Rebuild from plain data, ignoring unknown keys from newer versions."""
        known = {
            k: data[k] for k in ("sample_rate", "container", "subtype", "spatial") if k in data
        }
        return cls(**known)


def deliver_stem(
    stem: str | os.PathLike,
    dest: str | os.PathLike,
    recording: dict,
    fmt: StemFormat | None = None,
    *,
    start_s: float = 0.0,
    end_s: float | None = None,
    description: str = "",
) -> Path:
    """Write the working stem `stem` (32 kHz mono) as `fmt` to `dest`, atomically.

    `recording` is the manifest's recording facts (path, rate, channels, layout, start, time
    reference); `start_s`/`end_s` cut a clip out of the stem (seconds from the stem's start).
    WAV files carry a BWF time reference so a DAW places them at their time.
    """
    fmt = fmt or StemFormat()
    stem, dest = Path(stem), Path(dest)
    if dest.suffix.lower() != fmt.suffix:
        raise ScenesplitError(f"{dest}: a {fmt.container.upper()} stem needs a {fmt.suffix} name")
    with sf.SoundFile(str(stem)) as f:
        stem_rate, stem_frames = f.samplerate, f.frames
    rate = fmt.rate_for(recording)
    a = max(0, min(stem_frames, round(start_s * stem_rate)))
    b = stem_frames if end_s is None else max(a, min(stem_frames, round(end_s * stem_rate)))
    n_out = round((b - a) * rate / stem_rate)
    tref = None
    if fmt.container == "wav":
        tref_32k = int(recording.get("time_reference", 0) or 0) + a * SAMPLE_RATE // stem_rate
        tref = round(tref_32k * rate / SAMPLE_RATE)
    mono = _resampled(stem, stem_rate, rate, a, b, n_out)
    if fmt.spatial:
        mix = _recording_blocks(recording, rate, a / stem_rate, n_out)
        channels = len(_recording_channels(recording))
        blocks = spatial_blocks(mono, mix, reference_weights(recording), rate)
    else:
        blocks, channels = mono, 1
    with StemWriter(dest, channels, rate, fmt.subtype, tref, description) as writer:
        for block in blocks:
            # Integer formats wrap around beyond full scale; clip instead.
            writer.write(block if fmt.subtype == "FLOAT" else np.clip(block, -1.0, 1.0))
    return writer.path


def _read_resampled(
    f: sf.SoundFile, channels: list[int], first: int, n_in: int, rate_out: int, n_out: int
) -> Iterator[np.ndarray]:
    """`[C, n]` blocks of `channels` from frame `first` (`n_in` frames) of an open file,
    resampled to `rate_out`: exactly `n_out` samples in all (silence pads a short file)."""
    rate_in = f.samplerate
    stream = (
        None
        if rate_in == rate_out
        else soxr.ResampleStream(rate_in, rate_out, len(channels), "float32")
    )
    f.seek(min(first, f.frames))
    left, done = n_in, 0
    while True:
        x = f.read(min(BLOCK_FRAMES, max(left, 0)), dtype="float32", always_2d=True)
        x = x[:, channels]
        left -= len(x)
        last = left <= 0 or len(x) == 0
        y = x if stream is None else stream.resample_chunk(x, last=last)
        y = y[: n_out - done]
        done += len(y)
        if len(y):
            yield np.ascontiguousarray(y.T)
        if last:
            break
    if done < n_out:  # the resampler's rounding, or a file shorter than asked
        yield np.zeros((len(channels), n_out - done), np.float32)


def _resampled(
    path: Path, rate_in: int, rate_out: int, a: int, b: int, n_out: int
) -> Iterator[np.ndarray]:
    """Frames [a, b) of a mono file resampled to `rate_out`: exactly `n_out` samples in blocks."""
    with sf.SoundFile(str(path)) as f:
        for block in _read_resampled(f, [0], a, b - a, rate_out, n_out):
            yield block[0]


def _recording_channels(recording: dict) -> list[int]:
    """Indices of the recording's channels the separation used."""
    chosen = recording.get("channels")
    return list(chosen) if chosen is not None else list(range(int(recording["source_channels"])))


def reference_weights(recording: dict) -> np.ndarray:
    """Weights that make the channel the engine separated from the used channels.

    FOA and mono: the first channel (W); stereo: the mid (L + R) / 2 (engine.audio.layout).
    """
    n = len(_recording_channels(recording))
    if recording.get("layout") == "stereo" and n == 2:
        return np.array([0.5, 0.5], np.float32)
    w = np.zeros(n, np.float32)
    w[0] = 1.0
    return w


def _recording_blocks(
    recording: dict, rate: int, offset_s: float, n_out: int
) -> Iterator[np.ndarray]:
    """The used channels of the recording from `offset_s` into the stem, at `rate`: `[C, n]`."""
    path = Path(recording["path"])
    if not path.is_file():
        raise ScenesplitError(f"{path}: the recording is needed for spatial stems; not found")
    channels = _recording_channels(recording)
    with sf.SoundFile(str(path)) as f:
        src_rate = f.samplerate
        if max(channels) >= f.channels:
            raise ScenesplitError(f"{path}: has {f.channels} channels, the result used {channels}")
        first = round((float(recording.get("start_s", 0.0)) + offset_s) * src_rate)
        n_src = round(n_out * src_rate / rate)
        yield from _read_resampled(f, channels, first, n_src, rate, n_out)


def spatial_blocks(
    stem: Iterator[np.ndarray],
    mixture: Iterator[np.ndarray],
    weights: np.ndarray,
    rate: int,
    chunk_hops: int = 256,
) -> Iterator[np.ndarray]:
    """Multichannel stem blocks `[C, n]`: the Wiener gain of `stem` applied to every channel.

    `stem` yields mono blocks and `mixture` `[C, n]` blocks of the same total length;
    `weights` `[C]` make the reference the stem estimates. Frames are centred on multiples of
    the hop over the whole signal (zeros outside it), so chunking changes no output sample.
    """
    n = 4 * max(1, round(SPATIAL_FFT_S * rate / 4))
    hop = n // 4
    window = np.hanning(n + 1)[:n].astype(np.float32)  # periodic Hann
    # Sum of squared windows over the frames that cover a sample: 1.5 at 75 % overlap.
    norm = float(np.sum(window**2) / hop)
    chunk = hop * chunk_hops
    s_buf = np.zeros(n, np.float32)  # global sample -n .. : the zeros before the signal
    x_buf = np.zeros((len(weights), n), np.float32)
    buf0, done, ended = -n, 0, False
    s_iter, x_take = iter(stem), _Taker(mixture)
    while True:
        while not ended and buf0 + s_buf.shape[0] < done + chunk + n:
            s_blk = next(s_iter, None)
            if s_blk is None:
                ended = True
                total = buf0 + s_buf.shape[0]
                s_buf = np.concatenate([s_buf, np.zeros(n, np.float32)])
                x_buf = np.concatenate([x_buf, np.zeros((x_buf.shape[0], n), np.float32)], 1)
                break
            x_blk = x_take(len(s_blk))
            s_buf = np.concatenate([s_buf, s_blk.astype(np.float32)])
            x_buf = np.concatenate([x_buf, x_blk[:, : len(s_blk)]], 1)
        if ended and done >= total:
            return
        a = done
        b = a + chunk if not ended else min(a + chunk, total)
        seg = slice(a - n - buf0, b + n - buf0)
        out = _gain_chunk(s_buf[seg], x_buf[:, seg], weights, window, hop)
        yield out[:, n : n + (b - a)] / norm
        done = b
        drop = done - n - buf0
        s_buf, x_buf, buf0 = s_buf[drop:], x_buf[:, drop:], buf0 + drop


class _Taker:
    """Exactly k samples at a time from an iterator of `[C, n]` blocks of any sizes."""

    def __init__(self, blocks: Iterator[np.ndarray]) -> None:
        self.blocks, self.rest = iter(blocks), None

    def __call__(self, k: int) -> np.ndarray:
        parts, have = [], 0
        while have < k:
            blk = self.rest if self.rest is not None else next(self.blocks)
            self.rest = None
            parts.append(blk[:, : k - have])
            if blk.shape[1] > k - have:
                self.rest = blk[:, k - have :]
            have += parts[-1].shape[1]
        return np.concatenate(parts, 1)


def _gain_chunk(
    s: np.ndarray, x: np.ndarray, weights: np.ndarray, window: np.ndarray, hop: int
) -> np.ndarray:
    """Overlap-added gained frames over a segment `[C, L]`; valid away from its ends by n."""
    n = window.size
    s_frames = np.lib.stride_tricks.sliding_window_view(s, n)[::hop] * window
    x_frames = np.lib.stride_tricks.sliding_window_view(x, n, axis=1)[:, ::hop] * window
    s_spec = np.fft.rfft(s_frames, axis=-1)
    x_spec = np.fft.rfft(x_frames, axis=-1)
    ref = np.tensordot(weights, x_spec, axes=(0, 0))
    target = np.abs(s_spec) ** 2
    gain = target / (target + np.abs(ref - s_spec) ** 2 + 1e-12)
    y = np.fft.irfft(x_spec * gain, n, axis=-1).astype(np.float32) * window
    out = np.zeros_like(x)
    for k in range(y.shape[1]):
        out[:, k * hop : k * hop + n] += y[:, k]
    return out
