"""Assembling per-window slot outputs into one stem per class, streaming to disk.

Each window's slot waveform is added to its class's track with the triangular blend weight of
`engine.dsp.blend_weight`, normalised by the summed weights of all windows at that sample, so an
identity pipeline reconstructs its input exactly and window boundaries do not click. A region is
written out as soon as no later window can touch it: memory holds about one window per class.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from engine.audio import StemWriter
from engine.constants import SAMPLE_RATE, SILENCE
from engine.dsp import WindowPlan, blend_weight
from engine.pipeline.manifest import Clip, SlotRecord, Track

_ZERO_BLOCK = 10 * SAMPLE_RATE


def normaliser(plan: WindowPlan, start: int, stop: int) -> np.ndarray:
    """Sum of the blend weights of all windows over samples `[start, stop)`."""
    w = blend_weight(plan.size, plan.hop, np.float64)
    norm = np.zeros(stop - start)
    first = max(0, (start - plan.size) // plan.hop)
    for i in range(first, plan.count):
        s = i * plan.hop
        if s >= stop:
            break
        a, b = max(s, start), min(s + plan.size, stop)
        if a < b:
            norm[a - start : b - start] += w[a - s : b - s]
    return norm


class TrackAssembler:
    """Streams windows (in order) into one stem file per class.

    Args:
        out_dir: where stems go.
        filename: label -> file name.
        plan: the window plan of the recording.
        time_reference: BWF time reference (samples) of the recording's start.
    """

    def __init__(
        self,
        out_dir: str | Path,
        filename: Callable[[str], str],
        plan: WindowPlan,
        time_reference: int = 0,
    ):
        self.out_dir = Path(out_dir)
        self.filename = filename
        self.plan = plan
        self.time_reference = time_reference
        self.weight = blend_weight(plan.size, plan.hop)
        self.writers: dict[str, StemWriter] = {}
        self.acc: dict[str, np.ndarray] = {}
        self.flushed = 0
        self.next_index = 0

    def _writer(self, label: str) -> StemWriter:
        if label not in self.writers:
            w = StemWriter(
                self.out_dir / self.filename(label),
                1,
                SAMPLE_RATE,
                time_reference=self.time_reference,
                description=label,
            )
            for s in range(0, self.flushed, _ZERO_BLOCK):
                w.write(np.zeros(min(_ZERO_BLOCK, self.flushed - s), np.float32))
            self.writers[label] = w
            self.acc[label] = np.zeros(self.plan.size, np.float64)
        return self.writers[label]

    def add(self, index: int, waves: np.ndarray, labels: list[str]) -> None:
        """Add window `index`'s slot outputs `[3, size]` labelled `labels` (silence skipped)."""
        if index != self.next_index:
            raise ValueError(
                f"windows must arrive in order: expected {self.next_index}, got {index}"
            )
        start = index * self.plan.hop
        assert start == self.flushed, "each window starts where the last flush ended"
        for slot, label in enumerate(labels):
            if label == SILENCE:
                continue
            self._writer(label)
            self.acc[label] += waves[slot].astype(np.float64) * self.weight
        self.next_index += 1
        last = self.next_index == self.plan.count
        stop = self.plan.length if last else min(start + self.plan.hop, self.plan.length)
        self._flush(stop)

    def _flush(self, stop: int) -> None:
        n = stop - self.flushed
        if n <= 0:
            return
        norm = normaliser(self.plan, self.flushed, stop)
        for label, acc in self.acc.items():
            self.writers[label].write((acc[:n] / norm).astype(np.float32))
            rolled = np.zeros_like(acc)
            rolled[: acc.shape[0] - n] = acc[n:]
            self.acc[label] = rolled
        self.flushed = stop

    def finish(self) -> dict[str, Path]:
        """Close every stem (moved into place atomically); returns label -> path."""
        if self.next_index != self.plan.count:
            raise ValueError(f"only {self.next_index} of {self.plan.count} windows were added")
        return {label: w.close() for label, w in self.writers.items()}

    def abort(self) -> None:
        """Drop every partial stem."""
        for w in self.writers.values():
            w.abort()


def active_span(
    wave: np.ndarray,
    floor_db: float = -70.0,
    below_peak_db: float = 30.0,
    frame: int = SAMPLE_RATE // 10,
) -> tuple[int, int] | None:
    """First and last sample of the frames within `below_peak_db` of the loudest one, or None."""
    n = wave.shape[0] // frame
    if n == 0:
        return None
    rms = np.sqrt(np.mean(wave[: n * frame].astype(np.float64).reshape(n, frame) ** 2, axis=1))
    peak = rms.max()
    threshold = max(10 ** (floor_db / 20), peak * 10 ** (-below_peak_db / 20))
    active = np.flatnonzero(rms > threshold)
    if active.size == 0:
        return None
    return int(active[0] * frame), int((active[-1] + 1) * frame)


def slot_records(
    waves: np.ndarray,
    labels: list[str],
    probs: list[float],
    energies: list[float],
    start: int,
    length: int,
) -> list[SlotRecord]:
    """Per-slot records of one window, with the active span in recording seconds."""
    records = []
    valid = max(0, min(waves.shape[-1], length - start))
    for slot, label in enumerate(labels):
        rec = SlotRecord(label, float(probs[slot]), float(energies[slot]))
        if label != SILENCE:
            span = active_span(waves[slot, :valid])
            if span is not None:
                rec.start_s = (start + span[0]) / SAMPLE_RATE
                rec.end_s = (start + span[1]) / SAMPLE_RATE
        records.append(rec)
    return records


def build_tracks(
    windows: list, filename: Callable[[str], str], merge_gap_s: float = 1.0
) -> list[Track]:
    """Clips per class from the windows' slot records (overlapping or close spans merge)."""
    spans: dict[str, list[tuple[float, float, float, float, int, int]]] = {}
    for w in windows:
        for slot, rec in enumerate(w.slots):
            if rec.label != SILENCE and rec.start_s is not None:
                spans.setdefault(rec.label, []).append(
                    (rec.start_s, rec.end_s, rec.prob, rec.energy, w.index, slot)
                )
    tracks = []
    for label in sorted(spans):
        clips: list[Clip] = []
        for s, e, p, en, wi, slot in sorted(spans[label]):
            if clips and s <= clips[-1].end_s + merge_gap_s:
                c = clips[-1]
                c.end_s = max(c.end_s, e)
                c.confidence = max(c.confidence, p)
                c.energy = min(c.energy, en)
                c.sources.append([wi, slot])
            else:
                clips.append(Clip(f"{label}-{len(clips) + 1}", label, s, e, p, en, [[wi, slot]]))
        tracks.append(Track(label, filename(label), max(c.confidence for c in clips), clips))
    return tracks
