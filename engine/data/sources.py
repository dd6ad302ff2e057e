"""Where scene events come from: real clips of a corpus manifest, mixed with the generators.

A `SourcePool` answers "a dry mono clip of class X for split S" (and interference, background),
drawing a real clip from the manifest with probability `real_fraction` when that class has clips
for that split, else a procedural one. Real clips are loaded lazily and cached per process.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.constants import class_index
from engine.data.generators import INTERFERENCE, event_duration, generate_event, random_lowpass
from engine.data.generators.primitives import peak_normalise
from engine.data.noise import background_noise

INTERFERENCE_LABEL = "interference"
BACKGROUND_LABEL = "background"

# Classes whose real clips are often single hits or words: short clips are sequenced into an
# event at a class-typical rate (mean gap between clip starts in seconds, relative jitter).
SEQUENCED = {
    "Typing": (0.16, 0.5),
    "FootSteps": (0.52, 0.08),
    "Clapping": (0.25, 0.1),
    "Speech": (0.0, 0.0),  # words back to back with short pauses
}


@dataclass(frozen=True)
class Clip:
    """A dry mono event: samples (peak 1), the label and where it came from."""

    audio: np.ndarray
    label: str
    source: str


@dataclass
class SourcePool:
    """Real clips by (label, split) from a manifest, plus the procedural generators."""

    entries: dict[tuple[str, str], list[dict]] = field(default_factory=dict)
    real_fraction: float = 0.5
    lowpass_p: float = 0.6
    full_share_clips: int = 20  # a label needs this many clips in a split for the full share
    _cache: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @classmethod
    def from_manifest(
        cls, path: str | Path, real_fraction: float = 0.5, full_share_clips: int = 20
    ) -> SourcePool:
        """Read a corpus manifest CSV (columns label, split, path, ... relative to its folder)."""
        path = Path(path)
        entries: dict[tuple[str, str], list[dict]] = {}
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                row = dict(row)
                row["path"] = str((path.parent / row["path"]).resolve())
                entries.setdefault((row["label"], row["split"]), []).append(row)
        return cls(entries, real_fraction, full_share_clips=full_share_clips)

    def _load(self, entry: dict) -> np.ndarray:
        if entry["path"] not in self._cache:
            from engine.audio import read_audio

            audio = read_audio(entry["path"])
            self._cache[entry["path"]] = audio.mean(axis=0).astype(np.float32)
        return self._cache[entry["path"]]

    def _sequence(
        self,
        rng: np.random.Generator,
        label: str,
        split: str,
        pool: list[dict],
        first: np.ndarray,
        max_len: int,
    ) -> np.ndarray:
        """Sequence short clips of one class into a longer event (footsteps, typing, words)."""
        period, jitter = SEQUENCED[label]
        target = int(min(max_len, event_duration(rng, label, split) * 32000))
        out = np.zeros(target, np.float32)
        t = 0
        clip = first
        gain = 1.0
        while t < target:
            m = min(len(clip), target - t)
            out[t : t + m] += gain * clip[:m]
            if period:
                gap = period * (1 + jitter * rng.standard_normal())
                t += max(int(0.3 * period * 32000), int(gap * 32000))
            else:
                t += len(clip) + int(rng.uniform(0.05, 0.4) * 32000)
            clip = self._load(pool[int(rng.integers(len(pool)))])
            gain = float(rng.uniform(0.6, 1.0))
        end = int(np.max(np.nonzero(out)[0], initial=0)) + 1
        return out[:end]

    def _real(self, rng: np.random.Generator, label: str, split: str, max_len: int) -> Clip | None:
        pool = self.entries.get((label, split))
        # A class with few real clips uses them less often, so one clip is not heard in
        # every other scene of that class.
        share = self.real_fraction * min(1.0, len(pool or ()) / max(self.full_share_clips, 1))
        if not pool or rng.random() >= share:
            return None
        entry = pool[int(rng.integers(len(pool)))]
        x = self._load(entry)
        if label in SEQUENCED and len(x) < 0.8 * 32000:
            x = self._sequence(rng, label, split, pool, x, max_len)
        if len(x) > max_len:
            start = int(rng.integers(len(x) - max_len + 1))
            x = x[start : start + max_len]
        x = random_lowpass(rng, x.astype(np.float64), self.lowpass_p)
        return Clip(
            peak_normalise(x), label, f"{entry.get('package', 'corpus')}:{Path(entry['path']).name}"
        )

    def foreground(self, rng: np.random.Generator, label: str, split: str, max_len: int) -> Clip:
        """A dry clip of target class `label` at most `max_len` samples long."""
        class_index(label)  # a clear error for an unknown name
        clip = self._real(rng, label, split, max_len)
        if clip is not None:
            return clip
        dur = min(event_duration(rng, label, split), max_len / 32000)
        return Clip(
            generate_event(rng, label, split, dur, self.lowpass_p), label, f"generator:{label}"
        )

    def interference(self, rng: np.random.Generator, split: str, max_len: int) -> Clip:
        """A dry clip of a non-target sound."""
        clip = self._real(rng, INTERFERENCE_LABEL, split, max_len)
        if clip is not None:
            return clip
        kind = list(INTERFERENCE)[int(rng.integers(len(INTERFERENCE)))]
        dur = min(event_duration(rng, kind, split), max_len / 32000)
        return Clip(
            generate_event(rng, kind, split, dur, self.lowpass_p), kind, f"generator:{kind}"
        )

    def background(
        self, rng: np.random.Generator, n: int, split: str = "train"
    ) -> tuple[np.ndarray, str]:
        """`([4, n] noise with unit mean square, description)`; may blend a real ambience."""
        x, kind = background_noise(rng, n)
        pool = self.entries.get((BACKGROUND_LABEL, split))
        if not pool or rng.random() >= self.real_fraction:
            return x, f"generator:{kind}"
        entry = pool[int(rng.integers(len(pool)))]
        clip = self._load(entry).astype(np.float64)
        looped = np.tile(clip, n // max(len(clip), 1) + 2)
        # Four decorrelated excerpts of the looped ambience approximate a diffuse FOA field.
        starts = rng.integers(0, len(looped) - n + 1, 4)
        real = np.stack([looped[s : s + n] for s in starts])
        real[1:] /= np.sqrt(3.0)
        real /= np.sqrt(np.mean(real**2)) + 1e-12
        a = float(rng.uniform(0.5, 0.9))
        mix = np.sqrt(a) * real + np.sqrt(1 - a) * x
        mix /= np.sqrt(np.mean(mix**2)) + 1e-12
        return mix.astype(
            np.float32
        ), f"{entry.get('package', 'corpus')}:{Path(entry['path']).name}+generator:{kind}"
