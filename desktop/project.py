"""The editor's project: a recording, its engine job and result versions, and lane state.

Plain data (no Qt): the timeline model wraps it and announces changes. Saved as JSON, atomically
(temporary file + rename), with the current version's stems copied beside the project file so a
project reopens without the engine. Paths are saved relative to the project file (the recording
also as it was, absolute), so a folder moved or copied as a whole keeps working; in memory they
are absolute.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from desktop.project_file import check_project_data, plain_file_name
from engine.client import (
    MANIFEST_FILE,
    Operation,
    operation_from_dict,
    version_folder,
    write_text_durable,
)
from engine.errors import ScenesplitError

PROJECT_FORMAT = 1
PROJECT_SUFFIX = ".scenesplit"
_STEMS_VERSION = re.compile(r"v\d+")
_STEMS_PART = re.compile(r"\.v\d+\.part")
MAX_PROJECT_BYTES = 256 * 2**20
"""Larger is no project (manifests of hours of audio stay far below)."""


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
    operation: Operation | None = None
    """The correction that made this version (None for the first separation)."""

    def tracks(self) -> list[dict[str, Any]]:
        """The manifest's tracks (label, file, confidence, clips)."""
        return list(self.manifest.get("tracks", []))

    def stem_path(self, label: str) -> Path | None:
        """Local path of the stem of `label`, if that track exists (and names a plain file:
        a crafted `../x` never leads out of the stems folder)."""
        for t in self.tracks():
            if t["label"] == label and plain_file_name(t["file"]):
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
    def recording_missing(self) -> bool:
        """Whether the recording is not where the project says (moved, deleted, on a drive
        not mounted); the rest of the project still opens, and `relocate` points it anew."""
        return not Path(self.recording).is_file()

    def relocate(self, recording: str | os.PathLike) -> None:
        """Use `recording` (the same audio, found elsewhere) from now on."""
        path = Path(recording).expanduser().absolute()
        if not path.is_file():
            raise ScenesplitError(f"{path}: no such file")
        self.recording = str(path)

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

    def to_dict(self, base: str | os.PathLike | None = None) -> dict[str, Any]:
        """Plain JSON data; with `base` (the project file's folder) paths relative to it."""
        versions = []
        for v in self.versions.values():
            d = asdict(v)
            d["stems_dir"] = _relative(v.stems_dir, base, inside_only=True)
            d["operation"] = v.operation.to_dict() if v.operation is not None else None
            versions.append(d)
        return {
            "format": PROJECT_FORMAT,
            "recording": _relative(self.recording, base),
            "recording_absolute": str(Path(self.recording).absolute()),
            "job_id": self.job_id,
            "version": self.version,
            "versions": versions,
            "lanes": {k: asdict(v) for k, v in self.lanes.items()},
        }

    @classmethod
    def from_dict(cls, d: Any, base: str | os.PathLike | None = None) -> Project:
        """Rebuild from plain data (relative paths against `base`); ScenesplitError naming
        the field for data that is not a project."""
        check_project_data(d, PROJECT_FORMAT)
        recording = _absolute(d["recording"], base)
        if not Path(recording).is_file() and d.get("recording_absolute"):
            # The project moved without its recording: it is still where it was.
            if Path(d["recording_absolute"]).is_file():
                recording = d["recording_absolute"]
        versions = {}
        for i, v in enumerate(d.get("versions", [])):
            try:
                op = operation_from_dict(v["operation"]) if v.get("operation") else None
            except ScenesplitError as exc:
                raise ScenesplitError(f"versions[{i}].operation: {exc}") from None
            version = ResultVersion(v["number"], v["manifest"], _absolute(v["stems_dir"], base), op)
            versions[version.number] = version
        lanes = {
            label: LaneState(**{k: lane[k] for k in ("mute", "solo", "colour") if k in lane})
            for label, lane in d.get("lanes", {}).items()
        }
        return cls(
            recording=recording,
            job_id=d.get("job_id"),
            version=d.get("version"),
            versions=versions,
            lanes=lanes,
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
        stems_root = path.with_name(path.stem + ".stems")
        current = self.current
        if current is not None:
            self._keep_stems(current, stems_root)
        write_text_durable(path, json.dumps(self.to_dict(path.parent), indent=1))
        self.path = str(path)
        self._drop_unused_stems(stems_root)
        return path

    def _drop_unused_stems(self, root: Path) -> None:
        """Remove `root/v<N>` folders no version uses any more (a new separation replaced
        their job, an earlier save kept a version since dropped) and leftovers of failed saves.
        Runs after the project file is written, so a failed save never loses stems."""
        if not root.is_dir():
            return
        used = {Path(v.stems_dir).resolve() for v in self.versions.values()}
        for child in root.iterdir():
            stale = _STEMS_PART.fullmatch(child.name) or (
                _STEMS_VERSION.fullmatch(child.name) and child.resolve() not in used
            )
            if stale and child.is_dir():
                shutil.rmtree(child, ignore_errors=True)

    @staticmethod
    def _keep_stems(version: ResultVersion, root: Path) -> None:
        """Copy a version's stems into `root/v<N>` unless they already live there."""
        dest = root / version_folder(version.number)
        if Path(version.stems_dir).resolve() == dest.resolve():
            return
        bad = [t["file"] for t in version.tracks() if not plain_file_name(t["file"])]
        if bad:  # checked before anything is written: a crafted name must not escape `dest`
            raise ScenesplitError(
                f"version {version.number} names a stem {bad[0]!r} that is not a plain file "
                "name; not saving its stems"
            )
        part = root / f".{dest.name}.part"
        shutil.rmtree(part, ignore_errors=True)
        part.mkdir(parents=True)
        for track in version.tracks():
            src = Path(version.stems_dir) / track["file"]
            if src.is_file():
                shutil.copy2(src, part / track["file"])
        (part / MANIFEST_FILE).write_text(json.dumps(version.manifest, indent=1))
        shutil.rmtree(dest, ignore_errors=True)
        os.replace(part, dest)
        version.stems_dir = str(dest)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Project:
        """Read a project file; ScenesplitError naming the file when it cannot be used."""
        path = Path(path).absolute()
        try:
            if path.stat().st_size > MAX_PROJECT_BYTES:
                raise ScenesplitError(f"{path}: not a project file (larger than 256 MB)")
            data = json.loads(path.read_bytes().decode("utf-8"))
        except OSError as exc:
            raise ScenesplitError(f"{path}: cannot read project ({exc.strerror})") from None
        except UnicodeDecodeError:
            raise ScenesplitError(f"{path}: not a project file (not UTF-8 text)") from None
        except json.JSONDecodeError as exc:
            raise ScenesplitError(f"{path}: not a project file ({exc.msg})") from None
        except RecursionError:
            raise ScenesplitError(f"{path}: not a project file (nested too deeply)") from None
        try:
            project = cls.from_dict(data, path.parent)
        except (TypeError, KeyError, ValueError, AttributeError) as exc:
            raise ScenesplitError(f"{path}: damaged project ({exc})") from None
        except ScenesplitError as exc:
            raise ScenesplitError(f"{path}: {exc}") from None
        project._find_moved_stems(path.with_name(path.stem + ".stems"))
        project.path = str(path)
        return project

    def _find_moved_stems(self, root: Path) -> None:
        """Point versions whose stems folder is gone to `<project>.stems/v<N>` when that
        exists: a project saved with absolute paths, then moved with its folder."""
        for v in self.versions.values():
            beside = root / f"v{v.number}"
            if not Path(v.stems_dir).is_dir() and beside.is_dir():
                v.stems_dir = str(beside)


def _relative(path: str, base: str | os.PathLike | None, inside_only: bool = False) -> str:
    """`path` relative to `base` (POSIX separators); absolute when there is no base, when the
    two are on different drives, or (`inside_only`) when `path` is outside `base`."""
    if base is None:
        return path
    absolute, base = Path(path).absolute(), Path(base).absolute()
    if inside_only and not absolute.is_relative_to(base):
        return str(absolute)  # an engine cache folder: it does not move with the project
    try:
        return Path(os.path.relpath(absolute, base)).as_posix()
    except ValueError:  # Windows: another drive has no relative path
        return str(absolute)


def _absolute(path: str, base: str | os.PathLike | None) -> str:
    """A saved path made absolute: relative ones count from `base` (the project's folder)."""
    p = Path(path)
    if p.is_absolute() or base is None:
        return str(p)
    return os.path.normpath(Path(base) / p)
