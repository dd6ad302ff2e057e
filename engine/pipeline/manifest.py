"""The result of separating a recording: tracks, clips, per-window stage outputs, history.

Written as `manifest.json` beside the stems; everything the editor, the server and refinement
need to know about a result, as plain JSON.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from engine.contract import MANIFEST_FILE
from engine.durable import write_text_durable
from engine.errors import ScenesplitError

FORMAT = 1


@dataclass
class Clip:
    """A stretch of time where one class is active, and the window slots it came from."""

    id: str
    label: str
    start_s: float
    end_s: float
    confidence: float
    """Classifier probability of the label (max over its windows)."""
    energy: float
    """Energy score (lowest over its windows; lower = more clearly not silence)."""
    sources: list[list[int]] = field(default_factory=list)
    """[window index, slot] pairs."""


@dataclass
class Track:
    """One class over the whole recording: its stem file and clips."""

    label: str
    file: str
    confidence: float
    clips: list[Clip] = field(default_factory=list)


@dataclass
class SlotRecord:
    """One slot of one window: final label, confidence, and where it was active."""

    label: str
    prob: float
    energy: float
    start_s: float | None = None
    end_s: float | None = None


@dataclass
class WindowRecord:
    """One analysis window: its labels at every stage, final slots, and user overrides."""

    index: int
    start_s: float
    end_s: float
    stages: dict[str, list[str]]
    slots: list[SlotRecord]
    overrides: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Manifest:
    """Everything about one version of a separation result."""

    recording: dict[str, Any]
    options: dict[str, Any]
    bundle: dict[str, Any]
    tracks: list[Track]
    windows: list[WindowRecord]
    version: int = 1
    parent: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    created: str = ""
    format: int = FORMAT
    rerun_windows: list[int] = field(default_factory=list)
    """The windows a correction re-ran to make this version (empty for a separation): the
    rest of the recording was not touched."""

    def track(self, label: str) -> Track | None:
        """The track of `label`, if any."""
        return next((t for t in self.tracks if t.label == label), None)

    def clip(self, clip_id: str) -> Clip:
        """The clip with `clip_id`; ScenesplitError naming the known ids otherwise."""
        for t in self.tracks:
            for c in t.clips:
                if c.id == clip_id:
                    return c
        known = [c.id for t in self.tracks for c in t.clips]
        raise ScenesplitError(
            f"no clip {clip_id!r} in this result; clips: {', '.join(known) or 'none'}"
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Manifest:
        """Rebuild from plain data."""
        d = dict(d)
        d["tracks"] = [
            Track(**{**t, "clips": [Clip(**c) for c in t["clips"]]}) for t in d["tracks"]
        ]
        d["windows"] = [
            WindowRecord(**{**w, "slots": [SlotRecord(**s) for s in w["slots"]]})
            for w in d["windows"]
        ]
        return cls(**d)

    def save(self, directory: str | os.PathLike) -> Path:
        """Write `manifest.json` into `directory` atomically and durably (fsync'd)."""
        return write_text_durable(
            Path(directory) / MANIFEST_FILE, json.dumps(self.to_dict(), indent=1)
        )

    @classmethod
    def load(cls, directory: str | os.PathLike) -> Manifest:
        """Read `manifest.json` from a result folder."""
        path = Path(directory) / MANIFEST_FILE
        if not path.is_file():
            raise ScenesplitError(f"{directory}: not a separation result (no {MANIFEST_FILE})")
        try:
            return cls.from_dict(json.loads(path.read_text()))
        except (json.JSONDecodeError, TypeError, KeyError) as exc:
            raise ScenesplitError(f"{path}: unreadable manifest ({exc})") from None


def stem_filename(recording_stem: str, label: str) -> str:
    """`<recording>_<Label>.wav`, as the challenge names estimates."""
    return f"{recording_stem}_{label}.wav"
