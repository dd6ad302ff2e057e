"""What the editor, the plugins, the client, the server and the pipeline agree on, in one place.

Torch-free and Qt-free (front ends import it through `engine.client`): the corrections an
editor sends (one type each, from the editor's menu to the pipeline's plan), the separation
options with their one set of defaults and limits, and the names of the engine protocol (job
states, the READY line of `scenesplit serve`, result version folders).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

from engine import paths
from engine.errors import ScenesplitError

# -- corrections ---------------------------------------------------------------------------
# Each is a frozen dataclass; `to_dict()` is its wire and history form (`{"kind": ..., ...}`),
# `operation_from_dict` the way back, `describe()` the text the editor's undo menu shows.


class _Correction:
    kind: ClassVar[str]

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready), with the operation's `kind`."""
        data = asdict(self)  # type: ignore[call-overload]
        for key, value in data.items():
            if isinstance(value, tuple):
                data[key] = list(value)
        return {"kind": self.kind, **data}


@dataclass(frozen=True)
class ChangeClass(_Correction):
    """Re-extract a clip with another class clue (the enrollment clue is kept)."""

    clip_id: str
    label: str
    kind: ClassVar[str] = "change_class"

    def describe(self) -> str:
        """Undo-menu text."""
        return f"Change clip to {self.label}"


@dataclass(frozen=True)
class ChangeTrack(_Correction):
    """Re-extract every clip of a track with another class clue."""

    track: str
    label: str
    kind: ClassVar[str] = "change_track"

    def describe(self) -> str:
        """Undo-menu text."""
        return f"Change {self.track} to {self.label}"


@dataclass(frozen=True)
class RemoveClip(_Correction):
    """Remove a false detection."""

    clip_id: str
    kind: ClassVar[str] = "remove_clip"

    def describe(self) -> str:
        """Undo-menu text."""
        return "Remove clip"


@dataclass(frozen=True)
class RemoveTrack(_Correction):
    """Remove every clip of a track (a class that is not in the recording)."""

    track: str
    kind: ClassVar[str] = "remove_track"

    def describe(self) -> str:
        """Undo-menu text."""
        return f"Remove {self.track}"


@dataclass(frozen=True)
class AddClass(_Correction):
    """Extract a class over `[start_s, end_s)`; its enrollment clue is empty, like a region of
    the recording (`enrollment_region`, seconds) or like an example file."""

    label: str
    start_s: float
    end_s: float
    enrollment_region: tuple[float, float] | None = None
    enrollment_file: str | None = None
    kind: ClassVar[str] = "add_class"

    def __post_init__(self) -> None:
        if not self.end_s > self.start_s:
            raise ScenesplitError(f"empty time range {self.start_s}-{self.end_s} s")
        region = self.enrollment_region
        if region is not None:
            a, b = (float(t) for t in region)
            if not b > a:
                raise ScenesplitError(f"empty enrollment region {a}-{b} s")
            # Plain data brings a list; the frozen type keeps a tuple (hashable, one form).
            object.__setattr__(self, "enrollment_region", (a, b))
            if self.enrollment_file is not None:
                raise ScenesplitError("give an enrollment region or an enrollment file, not both")

    def describe(self) -> str:
        """Undo-menu text."""
        more = " (like region)" if self.enrollment_region else ""
        return f"Add {self.label} {self.start_s:.1f}-{self.end_s:.1f} s{more}"


Operation = ChangeClass | ChangeTrack | RemoveClip | RemoveTrack | AddClass
OPERATIONS: dict[str, type[Operation]] = {
    cls.kind: cls for cls in (ChangeClass, ChangeTrack, RemoveClip, RemoveTrack, AddClass)
}


def operation_from_dict(data: dict[str, Any]) -> Operation:
    """Rebuild a correction from plain data (`{"kind": ..., ...}`), with clear errors."""
    kind = data.get("kind")
    if kind not in OPERATIONS:
        raise ScenesplitError(
            f"unknown operation {kind!r}; expected one of {', '.join(OPERATIONS)}"
        )
    fields = {k: v for k, v in data.items() if k != "kind"}
    try:
        return OPERATIONS[kind](**fields)
    except TypeError as exc:
        raise ScenesplitError(f"bad {kind} operation: {exc}") from None


# -- separation options --------------------------------------------------------------------


PAPER_TSE_ROUNDS = 2
"""The report's TSE iterations (METHOD.md); a bundle may choose others (`Bundle.tse_rounds`)."""


@dataclass(frozen=True)
class SeparationOptions:
    """How a recording is separated. Defaults are the report's (METHOD.md): 10 s windows with a
    7.5 s hop; 2 windows per forward pass; TSE rounds as the model bundle says (the number its
    held-out evaluation found best; the report's 2 when it says nothing)."""

    tse_rounds: int | None = None
    window_s: float = 10.0
    hop_s: float = 7.5
    batch_windows: int = 2

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready)."""
        return asdict(self)


DEFAULTS = SeparationOptions()
TSE_ROUNDS_HELP = "TSE iterations after the USS (default: the model bundle's choice; paper: 2)"
# Bounds every front end checks the same way (the server's schema uses them as its limits).
TSE_ROUNDS_MAX = 8
WINDOW_S_MIN, WINDOW_S_MAX = 0.5, 120.0
BATCH_WINDOWS_MAX = 64


# -- protocol names ------------------------------------------------------------------------

JOB_STATES = ("queued", "running", "done", "failed", "cancelled", "interrupted")
TERMINAL_STATES = frozenset({"done", "failed", "cancelled", "interrupted"})
READY_PREFIX = "SCENESPLIT_ENGINE_READY"
"""`scenesplit serve` prints `READY_PREFIX {json}` on stdout once it accepts requests."""


JOBS_FOLDER = "jobs"
"""An engine's jobs live in `<workdir>/jobs/<job id>/`, result versions in `v<N>/` below."""
MANIFEST_FILE = "manifest.json"
"""A result version's manifest: written last, so its presence marks a complete version."""


def version_folder(number: int) -> str:
    """The folder name of result version `number` (`v1`, `v2`, ...)."""
    return f"v{int(number)}"


def result_version_dir(workdir: str | os.PathLike, job_id: str, number: int) -> Path:
    """Where an engine with work directory `workdir` keeps version `number` of a job."""
    return Path(workdir) / JOBS_FOLDER / job_id / version_folder(number)


def default_engine_workdir() -> Path:
    """Where a local engine keeps its jobs unless told otherwise (follows $SCENESPLIT_CACHE)."""
    return paths.cache_dir() / "engine"


def example_recording() -> Path:
    """The example recording the engine ships (opened by `scenesplit app` without a file)."""
    return paths.example_recording()
