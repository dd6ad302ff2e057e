"""Writing audio atomically (temp file + rename): WAV float32 / PCM 24 and FLAC, optional BWF.

`StemWriter` writes incrementally (one block at a time) and only renames the file into place
when closed successfully; an error or `abort()` leaves nothing behind.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import soundfile as sf

from engine.audio.bwf import build_bext, insert_bext
from engine.constants import SAMPLE_RATE

_FORMATS = {".wav": ("WAV", "FLOAT"), ".flac": ("FLAC", "PCM_24")}
SUBTYPES = ("FLOAT", "PCM_24", "PCM_16")


def _format_for(path: Path, subtype: str | None) -> tuple[str, str]:
    try:
        fmt, default = _FORMATS[path.suffix.lower()]
    except KeyError:
        raise ValueError(f"{path}: cannot write {path.suffix!r}; use .wav or .flac") from None
    subtype = subtype or default
    if subtype not in SUBTYPES or (fmt == "FLAC" and subtype == "FLOAT"):
        raise ValueError(f"{path}: subtype {subtype!r} is not available for {fmt}")
    return fmt, subtype


def _os_error(exc: sf.LibsndfileError, path: Path) -> Exception:
    """libsndfile's "System error." as the OSError behind it (ENOSPC, EROFS...) naming `path`."""
    # libsndfile keeps only its own code; the C errno of the failed call is still in cffi's.
    code = getattr(getattr(sf, "_ffi", None), "errno", 0)
    if exc.code == 2 and code:  # SFE_SYSTEM
        return OSError(code, os.strerror(code), str(path))
    return exc


def _temp_name(path: Path, tag: str = "") -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}{tag}.part")


class StemWriter:
    """Incremental, atomic writer of one audio file; use as a context manager.

    Args:
        path: destination (.wav or .flac).
        channels: channel count.
        sample_rate: rate of the data.
        subtype: 'FLOAT' (default for WAV), 'PCM_24' (default for FLAC) or 'PCM_16'.
        time_reference: BWF time reference in samples (WAV only): where a DAW places the file.
        description: BWF description (WAV only).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        channels: int = 1,
        sample_rate: int = SAMPLE_RATE,
        subtype: str | None = None,
        time_reference: int | None = None,
        description: str = "",
    ):
        self.path = Path(path)
        fmt, self.subtype = _format_for(self.path, subtype)
        if time_reference is not None and fmt != "WAV":
            raise ValueError(f"{self.path}: a BWF time reference needs a .wav file")
        self.channels = channels
        self.time_reference = time_reference
        self.description = description
        self.frames = 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = _temp_name(self.path)
        try:
            self._file = sf.SoundFile(
                str(self._tmp),
                "w",
                samplerate=sample_rate,
                channels=channels,
                format=fmt,
                subtype=self.subtype,
            )
        except sf.LibsndfileError as exc:
            self._tmp.unlink(missing_ok=True)
            raise _os_error(exc, self.path) from None

    def write(self, block: np.ndarray) -> None:
        """Append `[C, n]` (or `[n]` for mono) samples."""
        block = np.asarray(block, dtype=np.float32)
        if block.ndim == 1:
            block = block[None]
        if block.shape[0] != self.channels:
            raise ValueError(f"expected [{self.channels}, n] samples, got {block.shape}")
        try:
            self._file.write(block.T)
        except sf.LibsndfileError as exc:
            raise _os_error(exc, self.path) from None
        self.frames += block.shape[1]

    def close(self) -> Path:
        """Finish the file and move it into place; returns its path."""
        try:
            try:
                self._file.close()
            except sf.LibsndfileError as exc:
                raise _os_error(exc, self.path) from None
            src = self._tmp
            if self.time_reference is not None:
                src = _temp_name(self.path, ".bwf")
                insert_bext(self._tmp, src, build_bext(self.time_reference, self.description))
                os.unlink(self._tmp)
            with open(src, "rb+") as f:
                os.fsync(f.fileno())
            os.replace(src, self.path)
        except OSError as exc:
            self.abort()
            if exc.filename is None:  # a failed write() names no file: say which stem it was
                raise OSError(exc.errno, exc.strerror, str(self.path)) from None
            raise
        except BaseException:
            self.abort()
            raise
        return self.path

    def abort(self) -> None:
        """Drop the partial file."""
        if not self._file.closed:
            try:
                self._file.close()
            except sf.LibsndfileError:  # the disk that failed the write fails this too
                pass
        for tmp in (self._tmp, _temp_name(self.path, ".bwf")):
            tmp.unlink(missing_ok=True)

    def __enter__(self) -> StemWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_audio(
    path: str | os.PathLike,
    audio: np.ndarray,
    sample_rate: int = SAMPLE_RATE,
    *,
    subtype: str | None = None,
    time_reference: int | None = None,
    description: str = "",
) -> Path:
    """Write `[C, N]` (or `[N]`) audio atomically; see `StemWriter` for the options."""
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim == 1:
        audio = audio[None]
    if audio.ndim != 2:
        raise ValueError(f"audio must be [C, N] or [N], got shape {audio.shape}")
    with StemWriter(
        path, audio.shape[0], sample_rate, subtype, time_reference, description
    ) as writer:
        writer.write(audio)
    return writer.path
