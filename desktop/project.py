"""The editor's project: a recording, its engine job and result versions, and lane state.

Plain data (no Qt): the timeline model wraps it and announces changes. Saved as JSON, atomically
(temporary file + rename), with the current version's stems copied beside the project file so a
project reopens without the engine.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import ScenesplitError

PROJECT_FORMAT = 1
PROJECT_SUFFIX = ".scenesplit"


@dataclass
class LaneState:
    """How one class lane plays and looks: mute, solo, colour ("" = the class's default)."""

    mute: bool = False
    solo: bool = False
    colour: str = ""


@dataclass
class ResultVersion:
    """One result version of the engine job: its manifest and where its stems are on disk."""

    number: int
    manifest: dict[str, Any]
    stems_dir: str
    operation: dict[str, Any] | None = None
    """The refinement that made this version (None for the first separation)."""

    def tracks(self) -> list[dict[str, Any]]:
        """The manifest's tracks (label, file, confidence, clips)."""
        return list(self.manifest.get("tracks", []))

    def stem_path(self, label: str) -> Path | None:
        """Local path of the stem of `label`, if that track exists."""
        for t in self.tracks():
            if t["label"] == label:
                return Path(self.stems_dir) / t["file"]
        return None


@dataclass
class Project:
    """Everything the user is editing: recording, job, result versions, lane state."""

    recording: str
    job_id: str | None = None
    version: int | None = None
    versions: dict[int, ResultVersion] = field(default_factory=dict)
    lanes: dict[str, LaneState] = field(default_factory=dict)
    path: str | None = None
    """Where the project was last saved (not part of the saved data)."""

    @property
    def recording_name(self) -> str:
        """The recording's file name without extension (names exported stems)."""
        return Path(self.recording).stem

    @property
    def current(self) -> ResultVersion | None:
        """The result version on screen, if any."""
        return self.versions.get(self.version) if self.version is not None else None

    def lane(self, label: str) -> LaneState:
        """The state of `label`'s lane (created with defaults on first use)."""
        return self.lanes.setdefault(label, LaneState())

    def add_version(self, version: ResultVersion) -> None:
        """Remember a result version (does not switch to it)."""
        self.versions[version.number] = version

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {
            "format": PROJECT_FORMAT,
            "recording": self.recording,
            "job_id": self.job_id,
            "version": self.version,
            "versions": [asdict(v) for v in self.versions.values()],
            "lanes": {k: asdict(v) for k, v in self.lanes.items()},
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Project:
        """Rebuild from plain data; ScenesplitError for data that is not a project."""
        if not isinstance(d, dict) or "recording" not in d:
            raise ScenesplitError("not a Scenesplit project (no 'recording')")
        if d.get("format", PROJECT_FORMAT) > PROJECT_FORMAT:
            raise ScenesplitError(
                f"project format {d['format']} is newer than this editor ({PROJECT_FORMAT})"
            )
        versions = {int(v["number"]): ResultVersion(**v) for v in d.get("versions", [])}
        return cls(
            recording=d["recording"],
            job_id=d.get("job_id"),
            version=d.get("version"),
            versions=versions,
            lanes={k: LaneState(**v) for k, v in d.get("lanes", {}).items()},
        )

    def save(self, path: str | os.PathLike) -> Path:
        """Write the project to `path` atomically, copying the current stems beside it.

        The stems go to `<project>.stems/v<N>/` (copied to a temporary folder, then renamed),
        so a half-finished save never replaces good data.
        """
        path = Path(path)
        if path.suffix != PROJECT_SUFFIX:
            path = path.with_name(path.name + PROJECT_SUFFIX)
        path.parent.mkdir(parents=True, exist_ok=True)
        current = self.current
        if current is not None:
            self._keep_stems(current, path.with_name(path.stem + ".stems"))
        tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
        try:
            tmp.write_text(json.dumps(self.to_dict(), indent=1))
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        self.path = str(path)
        return path

    @staticmethod
    def _keep_stems(version: ResultVersion, root: Path) -> None:
        """Copy a version's stems into `root/v<N>` unless they already live there."""
        dest = root / f"v{version.number}"
        if Path(version.stems_dir).resolve() == dest.resolve():
            return
        part = root / f".v{version.number}.part"
        shutil.rmtree(part, ignore_errors=True)
        part.mkdir(parents=True)
        for track in version.tracks():
            src = Path(version.stems_dir) / track["file"]
            if src.is_file():
                shutil.copy2(src, part / track["file"])
        (part / "manifest.json").write_text(json.dumps(version.manifest, indent=1))
        shutil.rmtree(dest, ignore_errors=True)
        os.replace(part, dest)
        version.stems_dir = str(dest)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Project:
        """Read a project file; ScenesplitError naming the file when it cannot be used."""
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except OSError as exc:
            raise ScenesplitError(f"{path}: cannot read project ({exc.strerror})") from None
        except json.JSONDecodeError as exc:
            raise ScenesplitError(f"{path}: not a project file ({exc.msg})") from None
        try:
            project = cls.from_dict(data)
        except (TypeError, KeyError, ValueError) as exc:
            raise ScenesplitError(f"{path}: damaged project ({exc})") from None
        except ScenesplitError as exc:
            raise ScenesplitError(f"{path}: {exc}") from None
        project.path = str(path)
        return project
