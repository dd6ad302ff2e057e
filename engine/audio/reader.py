"""Reading audio: any file libsndfile reads -> float32 `[channels, samples]` at 32 kHz.

`iter_blocks` streams a file of any length in fixed-size blocks (resampling with a soxr stream),
so memory does not grow with duration; `read_audio` is the whole-file convenience on top of it.
Every problem with a file surfaces as an `AudioError` that names the file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from engine.audio.layout import LAYOUTS, Layout, infer_layout, to_foa
from engine.constants import SAMPLE_RATE
from engine.errors import AudioError

MIN_SAMPLE_RATE = 1_000
MAX_SAMPLE_RATE = 768_000
MAX_ABS_SAMPLE = 1_000.0
"""Float files may legitimately exceed full scale; values beyond +-1000 (60 dB over) are corrupt."""

DEFAULT_BLOCK_SECONDS = 10.0


@dataclass(frozen=True)
class AudioInfo:
    """What the audio layer makes of a file (from its header)."""

    path: str
    format: str
    subtype: str
    channels: int
    sample_rate: int
    frames: int
    layout: Layout | None
    """None when the channel count needs an explicit channel selection."""

    @property
    def duration_s(self) -> float:
        """Duration in seconds."""
        return self.frames / self.sample_rate

    @property
    def layout_description(self) -> str:
        """A sentence describing how the channels are used."""
        if self.layout is None:
            return f"{self.channels} channels: choose channels to use (e.g. --channels 0-3)"
        return LAYOUTS[self.layout].description

    def to_dict(self) -> dict:
        """JSON-friendly view."""
        d = asdict(self)
        d["layout"] = self.layout.value if self.layout else None
        d["duration_s"] = self.duration_s
        d["layout_description"] = self.layout_description
        return d


def _open(path: Path) -> sf.SoundFile:
    if not path.exists():
        raise AudioError(path, "file not found")
    if path.is_dir():
        raise AudioError(path, "is a directory, not an audio file")
    if not os.access(path, os.R_OK):
        raise AudioError(path, "permission denied")
    if path.stat().st_size == 0:
        raise AudioError(path, "is empty (0 bytes)")
    try:
        return sf.SoundFile(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        detail = str(exc).split(":")[-1].strip() or "unknown format"
        raise AudioError(path, f"not a readable audio file ({detail})") from None


def audio_info(path: str | os.PathLike) -> AudioInfo:
    """Header information of an audio file, validated; raises AudioError on any problem."""
    path = Path(path)
    with _open(path) as f:
        info = AudioInfo(
            path=str(path),
            format=f.format,
            subtype=f.subtype,
            channels=f.channels,
            sample_rate=f.samplerate,
            frames=f.frames,
            layout=None,
        )
    if not MIN_SAMPLE_RATE <= info.sample_rate <= MAX_SAMPLE_RATE:
        raise AudioError(
            path,
            f"sample rate {info.sample_rate} Hz is out of range "
            f"({MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz)",
        )
    if info.frames <= 0:
        raise AudioError(path, "contains no audio (0 samples)")
    layout = {4: Layout.FOA, 1: Layout.MONO, 2: Layout.STEREO}.get(info.channels)
    return AudioInfo(**{**asdict(info), "layout": layout})


def _check_block(path: Path, block: np.ndarray, start_frame: int, sample_rate: int) -> None:
    finite = np.isfinite(block)
    if not finite.all():
        bad = int(np.argwhere(~finite)[0][0]) + start_frame
        raise AudioError(
            path, f"contains NaN or infinite samples (first at {bad / sample_rate:.3f} s)"
        )
    peak = float(np.abs(block).max(initial=0.0))
    if peak > MAX_ABS_SAMPLE:
        at = int(np.argmax(np.abs(block).max(axis=1))) + start_frame
        raise AudioError(
            path,
            f"sample value {peak:.3g} at {at / sample_rate:.3f} s is out of range "
            f"(|x| <= {MAX_ABS_SAMPLE:g})",
        )


def iter_blocks(
    path: str | os.PathLike,
    block_seconds: float = DEFAULT_BLOCK_SECONDS,
    *,
    channels: Sequence[int] | None = None,
    foa: bool = False,
    sample_rate: int = SAMPLE_RATE,
    start_frame: int = 0,
    frames: int | None = None,
) -> Iterator[np.ndarray]:
    """Stream a file as float32 `[C, n]` blocks at `sample_rate`, checking every sample.

    Args:
        path: the audio file.
        block_seconds: length of each block at the output rate (the last one may be shorter).
        channels: file channels to use (None: all); the selection's count sets the layout.
        foa: convert to the models' 4-channel FOA input by the layout policy.
        sample_rate: output rate (resampled with soxr when the file differs).
        start_frame: first file frame to read (at the file's own rate).
        frames: how many file frames to read from there (None: to the end).

    Raises:
        AudioError: unreadable, empty, NaN/Inf or out-of-range samples, a channel count that
        cannot be interpreted (when `foa`), or a file that vanishes or shrinks while being read.
    """
    path = Path(path)
    info = audio_info(path)
    picked = list(channels) if channels is not None else None
    if picked is not None and any(not 0 <= c < info.channels for c in picked):
        raise AudioError(path, f"channels {picked} do not exist in a {info.channels}-channel file")
    n_out = len(picked) if picked is not None else info.channels
    layout = infer_layout(n_out, path) if foa else None
    if not 0 <= start_frame < info.frames:
        raise AudioError(
            path, f"start frame {start_frame} is outside the file (0-{info.frames - 1})"
        )
    stop = info.frames if frames is None else min(info.frames, start_frame + max(0, frames))
    in_block = max(1, int(round(block_seconds * info.sample_rate)))
    out_block = max(1, int(round(block_seconds * sample_rate)))
    resampler = (
        soxr.ResampleStream(info.sample_rate, sample_rate, n_out, dtype="float32", quality="HQ")
        if info.sample_rate != sample_rate
        else None
    )
    pending: list[np.ndarray] = []
    pending_len = 0
    frame = start_frame
    try:
        with _open(path) as f:
            if start_frame:
                f.seek(start_frame)
            while True:
                want = min(in_block, stop - frame)
                raw = f.read(want, dtype="float32", always_2d=True)
                last = raw.shape[0] < want or frame + raw.shape[0] >= stop
                if raw.shape[0]:
                    _check_block(path, raw, frame, info.sample_rate)
                    frame += raw.shape[0]
                if picked is not None:
                    raw = raw[:, picked]
                if resampler is not None:
                    raw = resampler.resample_chunk(np.ascontiguousarray(raw), last=last)
                if raw.shape[0]:
                    pending.append(raw)
                    pending_len += raw.shape[0]
                while pending_len >= out_block or (last and pending_len):
                    joined = np.concatenate(pending) if len(pending) > 1 else pending[0]
                    take = min(out_block, joined.shape[0])
                    block = np.ascontiguousarray(joined[:take].T)
                    rest = joined[take:]
                    pending = [rest] if rest.shape[0] else []
                    pending_len = rest.shape[0]
                    yield to_foa(block, layout) if layout is not None else block
                if last:
                    break
    except (sf.LibsndfileError, RuntimeError) as exc:
        if not path.exists():
            raise AudioError(path, "disappeared while being read") from None
        raise AudioError(path, f"read failed ({exc})") from None
    except FileNotFoundError:
        raise AudioError(path, "disappeared while being read") from None
    if frame == start_frame:
        raise AudioError(path, "contains no audio (0 samples)")
    if frame < stop:  # libsndfile just reads short: the rest would pass for silence
        raise AudioError(
            path,
            f"ended after {frame} of the {info.frames} frames its header announced "
            "(was it truncated while being read?)",
        )


def read_frames(
    path: str | os.PathLike,
    start_frame: int,
    frames: int,
    *,
    channels: Sequence[int] | None = None,
) -> np.ndarray:
    """File frames `[start_frame, start_frame + frames)` as float32 `[C, n]` at the file's own
    rate, checked like `iter_blocks` (random access); n < frames only at the end of the file."""
    info = audio_info(path)
    n_out = len(channels) if channels is not None else info.channels
    if frames <= 0 or start_frame >= info.frames:
        return np.zeros((n_out, 0), np.float32)
    block_s = frames / info.sample_rate + 1.0  # one block holds it all
    blocks = iter_blocks(
        path,
        block_s,
        channels=channels,
        sample_rate=info.sample_rate,
        start_frame=start_frame,
        frames=frames,
    )
    return np.concatenate(list(blocks), axis=1)


def read_audio(
    path: str | os.PathLike,
    *,
    channels: Sequence[int] | None = None,
    foa: bool = False,
    sample_rate: int = SAMPLE_RATE,
) -> np.ndarray:
    """Whole file as float32 `[C, N]` at `sample_rate` (see `iter_blocks` for the arguments)."""
    blocks = list(iter_blocks(path, channels=channels, foa=foa, sample_rate=sample_rate))
    return np.concatenate(blocks, axis=1)


def scan(path: str | os.PathLike, block_seconds: float = 30.0) -> dict:
    """Read a whole file once, checking every sample; returns its peak and RMS per channel."""
    peak = None
    energy = None
    n = 0
    for block in iter_blocks(path, block_seconds, sample_rate=audio_info(path).sample_rate):
        b_peak = np.abs(block).max(axis=1)
        b_energy = np.square(block, dtype=np.float64).sum(axis=1)
        peak = b_peak if peak is None else np.maximum(peak, b_peak)
        energy = b_energy if energy is None else energy + b_energy
        n += block.shape[1]
    return {
        "peak": [float(v) for v in peak],
        "rms_db": [float(10 * np.log10(e / n + 1e-20)) for e in energy],
    }
