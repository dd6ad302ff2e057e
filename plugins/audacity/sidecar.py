"""What `relabel` needs to know about an earlier `separate`: one small JSON file per separation.

Why a sidecar in the user's cache rather than ids in track names: the user renames a stem track
to correct it, and would have to keep an id intact while doing so; and Audacity's script API
reports neither the project's name nor any per-track id to key on. So each `separate` writes
`<cache>/audacity/sessions/<job id>.json` with the engine (where the job lives), the job id and
result version, the source tracks it read (name and time span) and, for every stem track it
imported, the track's position, class label and time span.

`relabel` recognises a separation by its source tracks still being in the project, and a stem
track by its position and time span; a stem track whose name is no longer its label is one the
user renamed. After a re-extraction the record moves on to the new result version and label.
Moving stem tracks in the track list hides them from `relabel` (their positions change); the
error message says so.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from engine.client import write_text_durable
from plugins.audacity.project import TIME_TOLERANCE_S, Track

SPAN_TOLERANCE_S = 0.01
"""Track ends are compared more loosely: a stem's length is rounded to its sample rate."""


@dataclass(frozen=True)
class TrackRecord:
    """A track as it was when the separation ran (position from 0, time span in seconds)."""

    index: int
    name: str
    start: float
    end: float

    def matches(self, track: Track) -> bool:
        """Whether `track` is at this position with this time span (its name may differ)."""
        return (
            track.index == self.index
            and track.is_audio
            and abs(track.start - self.start) <= TIME_TOLERANCE_S
            and abs(track.end - self.end) <= SPAN_TOLERANCE_S
        )


@dataclass(frozen=True)
class StemRecord(TrackRecord):
    """A stem track Scenesplit imported; `name` is the class label the result version gave it."""

    file: str = ""


@dataclass
class Separation:
    """One `separate` run: where its job lives and which tracks it read and wrote.

    `engine` is `{"kind": "local", "workdir": ..., "bundle": ...}` for an engine Scenesplit
    starts itself, or `{"kind": "remote", "url": ..., "token_file": ...}`.
    """

    job_id: str
    version: int
    engine: dict
    start: float
    end: float
    sources: list[TrackRecord]
    stems: list[StemRecord]
    created: str = ""
    path: Path | None = field(default=None, compare=False, repr=False)

    def in_project(self, current: list[Track]) -> bool:
        """Whether the tracks this separation read are still in the project, unchanged."""
        return all(
            s.index < len(current)
            and s.matches(current[s.index])
            and current[s.index].name == s.name
            for s in self.sources
        )

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("path")
        return d

    @classmethod
    def from_dict(cls, d: dict, path: Path | None = None) -> Separation:
        return cls(
            job_id=str(d["job_id"]),
            version=int(d["version"]),
            engine=dict(d["engine"]),
            start=float(d["start"]),
            end=float(d["end"]),
            sources=[TrackRecord(**s) for s in d["sources"]],
            stems=[StemRecord(**s) for s in d["stems"]],
            created=str(d.get("created", "")),
            path=path,
        )

    def save(self, folder: str | os.PathLike) -> Path:
        """Write (atomically) to `folder/<job id>.json`; returns the path."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        path = write_text_durable(
            folder / f"{self.job_id}.json", json.dumps(self.to_dict(), indent=1)
        )
        self.path = path
        return path

    def relabelled(self, stem: StemRecord, label: str, version: int) -> Separation:
        """This record after `stem` was re-extracted as `label` into result `version`."""
        stems = [replace(s, name=label) if s == stem else s for s in self.stems]
        return replace(self, stems=stems, version=version)


def load_all(folder: str | os.PathLike) -> list[Separation]:
    """Every readable record in `folder`, newest first (unreadable files are skipped)."""
    out = []
    for path in Path(folder).glob("*.json"):
        try:
            out.append(Separation.from_dict(json.loads(path.read_text()), path))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    out.sort(key=lambda s: (s.created, s.path.stat().st_mtime if s.path else 0.0), reverse=True)
    return out


@dataclass(frozen=True)
class Rename:
    """A stem track the user renamed: its record, the track now, and the separation it is from."""

    separation: Separation
    stem: StemRecord
    track: Track


def find_renamed(separations: list[Separation], current: list[Track]) -> list[Rename]:
    """Stem tracks of separations still in the project whose name differs from their label.

    Newer separations win when two claim the same track.
    """
    claimed: set[int] = set()
    found = []
    for sep in separations:
        if not sep.in_project(current):
            continue
        for stem in sep.stems:
            if stem.index >= len(current) or stem.index in claimed:
                continue
            track = current[stem.index]
            if not stem.matches(track):
                continue
            claimed.add(stem.index)
            if track.name != stem.name:
                found.append(Rename(sep, stem, track))
    return found
