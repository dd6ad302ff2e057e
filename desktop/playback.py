"""Playback of the mixture or of the audible stems through QtMultimedia, failing soft.

`MixSource` (numpy + soundfile, no Qt) reads the files block by block and mixes them to stereo;
`Player` feeds it to a QAudioSink. Without QtMultimedia or without any audio output the player
says "no audio output" and everything else keeps working.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import soundfile as sf
from PyQt6.QtCore import QIODevice, QObject, QTimer, pyqtSignal

LEVEL_BLOCK = 512
"""Frames per level reading (16 ms at 32 kHz): finer than the meter's window."""
LEVEL_HISTORY = 1024
"""Level readings kept: far more than the sink buffers ahead of what is heard."""
METER_WINDOW_S = 0.05
"""The meter shows the peak of the last 50 ms heard."""


def to_stereo(block: np.ndarray) -> np.ndarray:
    """`[n, C]` frames -> `[n, 2]`: stereo as is, FOA decoded, anything else channel 0 to both.

    FOA (W, Y, Z, X) is decoded as L = W + Y, R = W - Y: the inverse of the engine's stereo
    input mapping (W = (L + R) / 2, Y = (L - R) / 2), so a source in front plays at W's level
    on both sides, as a mono stem of it does, and left/right cues survive.
    """
    channels = block.shape[1]
    if channels == 2:
        return block
    if channels == 4:
        w, y = block[:, 0], block[:, 1]
        return np.stack([w + y, w - y], 1)
    return np.repeat(block[:, :1], 2, 1)


class MixSource:
    """Mixes files (same sample rate) from a start time into stereo float32 frames.

    Each file goes through `to_stereo`. With `end_s` the mix stops there (the end of a
    selection); with `loop` as well it starts again from `start_s` until stopped.
    """

    def __init__(
        self,
        paths: list[str],
        start_s: float = 0.0,
        gain: float = 1.0,
        end_s: float | None = None,
        loop: bool = False,
    ):
        if not paths:
            raise ValueError("nothing to play: expected at least one file")
        self.files = [sf.SoundFile(str(p)) for p in paths]
        rates = {f.samplerate for f in self.files}
        if len(rates) != 1:
            self.close()
            raise ValueError(f"files to mix must share one sample rate, got {sorted(rates)}")
        self.rate = rates.pop()
        self.gain = gain
        self.start = int(start_s * self.rate)
        self.end = None if end_s is None else max(self.start + 1, int(end_s * self.rate))
        self.loop = loop and self.end is not None
        self.emitted = 0
        """Frames handed out so far (what the audio sink has to play, loops included)."""
        self.levels: deque[tuple[int, float, float]] = deque(maxlen=LEVEL_HISTORY)
        """(emitted frame at the block's end, peak left, peak right) of recent blocks."""
        self._seek(self.start)

    def _seek(self, frame: int) -> None:
        self.position = frame
        for f in self.files:
            f.seek(min(frame, f.frames))

    @property
    def position_s(self) -> float:
        """Seconds read so far, from the start of the files."""
        return self.position / self.rate

    def read(self, frames: int) -> np.ndarray:
        """Up to `frames` stereo frames `[n, 2]` (n == 0 at the end, never while looping)."""
        parts, need = [], frames
        while need > 0:
            limit = need if self.end is None else min(need, self.end - self.position)
            block = self._mix(limit) if limit > 0 else np.zeros((0, 2), np.float32)
            if block.shape[0] == 0:
                if not self.loop or self.position == self.start:
                    break  # the end (or a loop over nothing left to play)
                self._seek(self.start)
                continue
            parts.append(block)
            need -= block.shape[0]
        out = np.concatenate(parts) if parts else np.zeros((0, 2), np.float32)
        out = np.clip(out * self.gain, -1.0, 1.0)
        for a in range(0, out.shape[0], LEVEL_BLOCK):
            block = np.abs(out[a : a + LEVEL_BLOCK])
            self.emitted += block.shape[0]
            self.levels.append((self.emitted, float(block[:, 0].max()), float(block[:, 1].max())))
        return out

    def peak_db(self, played: int, window: int) -> tuple[float, float]:
        """Peak level (dBFS, left and right) of the frames `[played - window, played)` of the
        stream, from the blocks read so far (-inf where none is known)."""
        left = right = 0.0
        for end, l_peak, r_peak in self.levels:
            if end > played - window and end - LEVEL_BLOCK < played:
                left, right = max(left, l_peak), max(right, r_peak)
        return _db(left), _db(right)

    def _mix(self, frames: int) -> np.ndarray:
        """The next `frames` (fewer at the end of every file) summed in stereo."""
        out = np.zeros((frames, 2), np.float32)
        longest = 0
        for f in self.files:
            block = f.read(frames, dtype="float32", always_2d=True)
            n = block.shape[0]
            longest = max(longest, n)
            out[:n] += to_stereo(block)
        self.position += longest
        return out[:longest]

    def close(self) -> None:
        """Close the files."""
        for f in self.files:
            f.close()


def _db(peak: float) -> float:
    return 20 * math.log10(peak) if peak > 0 else -math.inf


def probe_output() -> tuple[bool, str]:
    """(available, reason): whether QtMultimedia loads and an audio output exists."""
    try:
        from PyQt6.QtMultimedia import QMediaDevices
    except (ImportError, OSError) as exc:
        return False, f"no audio output (QtMultimedia unavailable: {exc})"
    if not QMediaDevices.audioOutputs():
        return False, "no audio output"
    return True, QMediaDevices.defaultAudioOutput().description()


class _Feed(QIODevice):
    """Pull-mode device the audio sink reads mixed frames from."""

    def __init__(self, source: MixSource, bytes_per_frame: int, int16: bool):
        super().__init__()
        self.source, self.bpf, self.int16 = source, bytes_per_frame, int16
        self.finished = False
        self.open(QIODevice.OpenModeFlag.ReadOnly)

    def readData(self, maxlen: int) -> bytes:  # noqa: N802 - Qt API
        frames = max(0, maxlen // self.bpf)
        block = self.source.read(frames) if frames else np.zeros((0, 2), np.float32)
        if block.shape[0] == 0:
            self.finished = True
            return b""
        if self.int16:
            return (block * 32767).astype("<i2").tobytes()
        return block.astype("<f4").tobytes()

    def writeData(self, data) -> int:  # noqa: N802 - Qt API
        return -1

    def isSequential(self) -> bool:  # noqa: N802 - Qt API
        return True

    def bytesAvailable(self) -> int:  # noqa: N802 - Qt API
        return 0 if self.finished else 1 << 16


class Player(QObject):
    """Plays files from a position; emits the playhead position while playing."""

    positionChanged = pyqtSignal(float)
    stateChanged = pyqtSignal(bool)
    levelsChanged = pyqtSignal(float, float)
    """Peak dBFS (left, right) of what was heard over the last tick; -inf, -inf on stop."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.available, self.reason = probe_output()
        self._sink = None
        self._feed: _Feed | None = None
        self._source: MixSource | None = None
        self._start_s = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(33)
        self._timer.timeout.connect(self._tick)

    @property
    def playing(self) -> bool:
        """Whether audio is being played."""
        return self._sink is not None

    def play(
        self,
        paths: list[str],
        start_s: float = 0.0,
        end_s: float | None = None,
        loop: bool = False,
    ) -> bool:
        """Play `paths` mixed from `start_s` (to `end_s`, looped if `loop`); False if impossible."""
        self.stop()
        if not self.available:
            return False
        from PyQt6.QtMultimedia import QAudioFormat, QAudioSink, QMediaDevices

        self._source = MixSource(paths, start_s, end_s=end_s, loop=loop)
        device = QMediaDevices.defaultAudioOutput()
        fmt = QAudioFormat()
        fmt.setSampleRate(self._source.rate)
        fmt.setChannelCount(2)
        fmt.setSampleFormat(QAudioFormat.SampleFormat.Float)
        int16 = not device.isFormatSupported(fmt)
        if int16:
            fmt.setSampleFormat(QAudioFormat.SampleFormat.Int16)
        self._feed = _Feed(self._source, 4 if int16 else 8, int16)
        self._sink = QAudioSink(device, fmt, self)
        self._start_s = start_s
        self._sink.start(self._feed)
        self._timer.start()
        self.stateChanged.emit(True)
        return True

    def _tick(self) -> None:
        if self._sink is None:
            return
        played = self._sink.processedUSecs() / 1e6
        source = self._source
        if source is not None:
            frames = int(played * source.rate)
            self.levelsChanged.emit(*source.peak_db(frames, int(METER_WINDOW_S * source.rate)))
        if source is not None and source.loop:
            played %= (source.end - source.start) / source.rate
        self.positionChanged.emit(self._start_s + played)
        if self._feed is not None and self._feed.finished:
            from PyQt6.QtMultimedia import QAudio

            if self._sink.state() != QAudio.State.ActiveState:
                self.stop()

    def stop(self) -> None:
        """Stop playing (no-op when idle)."""
        self._timer.stop()
        if self._sink is not None:
            self._sink.stop()
            self._sink.deleteLater()
            self._sink = None
            self.stateChanged.emit(False)
            self.levelsChanged.emit(-math.inf, -math.inf)
        if self._source is not None:
            self._source.close()
            self._source = None
        self._feed = None
