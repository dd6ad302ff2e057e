"""The editing session: opens recordings and projects, runs engine jobs, pushes undoable edits.

No widgets here: the window turns user actions into calls on this object and shows its signals.
One engine job runs at a time from the editor; its progress arrives as the engine's job dicts.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import soundfile as sf
from PyQt6.QtCore import QObject, pyqtSignal
from PyQt6.QtGui import QUndoStack

from desktop import workers
from desktop.commands import SetLaneState, SwitchVersion
from desktop.dragout import DragRenderer
from desktop.engine_link import EngineLink, result_version
from desktop.export import export_stems
from desktop.project import Project, ResultVersion
from desktop.timeline.model import TimelineModel
from engine.client import (
    AddClass,
    ChangeClass,
    ChangeTrack,
    Operation,
    RemoveClip,
    RemoveTrack,
    StemFormat,
)
from engine.errors import Cancelled, ScenesplitError

MONITORING = frozenset({"mute", "solo"})
"""Lane states that change what is heard, not the project's content (never undone)."""


class Session(QObject):
    """Model + undo stack + engine link, and the jobs that connect them."""

    jobStarted = pyqtSignal(str)
    jobProgress = pyqtSignal(dict)
    jobFinished = pyqtSignal(str, object)
    """(kind, error message or None); a cancelled job reports "cancelled"."""
    message = pyqtSignal(str)
    cancelRequested = pyqtSignal()
    """A cancel was asked; the job runs on until the engine stops it (jobFinished)."""

    def __init__(
        self,
        link: EngineLink | None,
        cache_dir: str | os.PathLike | None = None,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.model = TimelineModel(self)
        self.undo = QUndoStack(self)
        self.link = link
        # Dragged files must outlive the drag (DAWs often reference them in place): keep them
        # in the user's cache, not in a temporary folder.
        self.cache_dir = Path(cache_dir or default_cache_dir())
        self.drag = DragRenderer(self.cache_dir / "drag")
        self.job_kind: str | None = None
        self.job_id: str | None = None
        self.cancelling = False
        self._worker: workers.Worker | None = None

    @property
    def project(self) -> Project | None:
        """The open project."""
        return self.model.project

    @property
    def busy(self) -> bool:
        """Whether an engine job or export is running."""
        return self.job_kind is not None

    # -- files ------------------------------------------------------------------------------

    def open_recording(self, path: str | os.PathLike) -> None:
        """Open an audio file as a new, unseparated project (ScenesplitError if unreadable)."""
        path = Path(path).expanduser().resolve()
        duration = _duration(path)
        self.undo.clear()
        self.undo.setClean()
        self.model.set_project(Project(recording=str(path)), duration)
        self.message.emit(f"opened {path.name}")

    def open_project(
        self, path: str | os.PathLike, recording: str | os.PathLike | None = None
    ) -> None:
        """Open a saved project; `recording` replaces a recording that has moved.

        A missing recording does not stop the rest (stems, lanes, versions) from opening when
        a result tells how long it was: `project.recording_missing` is then true, and the
        window can offer `locate_recording`. Without a result, RecordingMissing.
        """
        project = Project.load(path)
        if recording is not None:
            project.relocate(recording)
        if project.recording_missing:
            duration = _result_duration(project)
            if duration is None:
                raise RecordingMissing(project.recording, Path(path))
        else:
            duration = _duration(Path(project.recording))
        self.undo.clear()
        self.undo.setClean()
        self.model.set_project(project, duration)
        if project.recording_missing:
            self.message.emit(
                f"opened project {Path(path).name}; its recording {project.recording} is "
                "missing: locate it to play or separate it again"
            )
        else:
            self.message.emit(f"opened project {Path(path).name}")

    def locate_recording(self, path: str | os.PathLike) -> None:
        """Point the open project at its recording, found elsewhere (an unsaved change)."""
        project = self._require_project()
        duration = _duration(Path(path).expanduser().absolute())
        project.relocate(path)
        self.model.set_project(project, duration)
        self.undo.resetClean()
        self.message.emit(f"the recording is now {project.recording}")

    def save(self, path: str | os.PathLike | None = None) -> Path:
        """Save the project (to its last path when `path` is None)."""
        project = self._require_project()
        target = path or project.path
        if not target:
            raise ScenesplitError("choose where to save the project")
        saved = project.save(target)
        self.undo.setClean()
        self.message.emit(f"saved {saved.name}")
        return saved

    def _require_project(self) -> Project:
        if self.project is None:
            raise ScenesplitError("open a recording first")
        return self.project

    # -- engine jobs ------------------------------------------------------------------------

    def _begin(self, kind: str) -> EngineLink:
        if self.busy:
            raise ScenesplitError(f"wait for the running {self.job_kind} to finish or cancel it")
        if self.link is None or not self.link.is_connected:
            reason = self.link.dead_reason if self.link else None
            raise ScenesplitError(reason or "the engine is not connected")
        self.job_kind, self.job_id, self.cancelling = kind, None, False
        self.jobStarted.emit(kind)
        return self.link

    def _progress(self, job: dict) -> None:
        if self.job_id is None and job.get("id"):
            self.job_id = job["id"]
        self.jobProgress.emit(job)

    def _end(self, error: BaseException | None) -> None:
        kind = self.job_kind or ""
        self.job_kind, self.job_id, self._worker = None, None, None
        self.cancelling = False
        if isinstance(error, Cancelled):
            self.jobFinished.emit(kind, "cancelled")
        elif error is not None:
            self.jobFinished.emit(kind, str(error) or type(error).__name__)
        else:
            self.jobFinished.emit(kind, None)

    def separate(self, **options: Any) -> None:
        """Separate the recording in the engine, then fetch and show the result."""
        project = self._require_project()
        link = self._begin("separate")

        def separated(job, error) -> None:
            if error is not None:
                self._end(error)
                return
            self._fetch(link, job["id"], result_version(job), None, first=True)

        self._worker = workers.start(
            link.separate_job,
            project.recording,
            **options,
            on_progress=self._progress,
            on_done=separated,
        )

    def refine(self, operation: Operation) -> None:
        """Re-extract with a correction; the new version becomes an undoable step."""
        project = self._require_project()
        if project.job_id is None or project.version is None:
            raise ScenesplitError("separate the recording before correcting it")
        link = self._begin("refine")
        job_id, base = project.job_id, project.version

        def refined(job, error) -> None:
            if error is not None:
                self._end(error)
                return
            self._fetch(link, job_id, result_version(job), operation, first=False, base=base)

        self._worker = workers.start(
            link.refine_job,
            job_id,
            operation,
            project.version,
            on_progress=self._progress,
            on_done=refined,
        )

    def _fetch(
        self, link: EngineLink, job_id: str, number: int, op, first: bool, base: int | None = None
    ) -> None:
        self.jobProgress.emit({"state": "running", "progress": {"message": "downloading stems"}})

        def fetched(result, error) -> None:
            project = self.project
            if error is None and project is not None:
                manifest, stems_dir = result
                if first:
                    # A new job's versions do not continue the old job's (the user agreed to
                    # replace them): keep none of them beside the new v1.
                    project.versions.clear()
                project.add_version(ResultVersion(number, manifest, stems_dir, op))
                if isinstance(op, ChangeTrack) and op.track in project.lanes:
                    # The relabelled lane keeps how the user set it up (mute, solo, colour);
                    # a copy, so undoing back to the old label finds its state too.
                    project.lanes.setdefault(op.label, replace(project.lanes[op.track]))
                if first:
                    project.job_id = job_id
                    self.undo.clear()
                    self.model.set_version(number)
                    self.undo.resetClean()  # a new result is an unsaved change
                else:
                    # Undo returns to the version the correction was made on.
                    self.undo.push(SwitchVersion(self.model, base, number, op.describe()))
            self._end(error)

        self._worker = workers.start(
            link.fetch_version, job_id, number, self.cache_dir / "versions", on_done=fetched
        )

    def cancel(self) -> None:
        """Cancel the running engine job (the engine leaves no partial stems)."""
        if not self.busy or self.link is None or self.cancelling:
            return
        self.cancelling = True
        self.cancelRequested.emit()
        if self.job_id is not None:
            workers.start(self.link.cancel, self.job_id, on_done=lambda _r, _e: None)
        elif self._worker is not None:
            self._worker.cancel()

    # -- edits ------------------------------------------------------------------------------

    def set_lane_state(self, label: str, **changes: Any) -> None:
        """Mute, solo or recolour a lane. A colour is an undoable edit; mute and solo are how
        the user listens (as in Audacity and DAWs): applied at once, kept in the project, but
        not on the undo stack, so Undo never silently unmutes while correcting labels."""
        if self.project is None:
            return
        state = self.model.lane_state(label)
        if all(getattr(state, k) == v for k, v in changes.items()):
            return
        if set(changes) <= MONITORING:
            self.model.set_lane_state(label, **changes)
            self.undo.resetClean()  # saved with the project: an unsaved change
            return
        self.undo.push(SetLaneState(self.model, label, **changes))

    def change_clip_class(self, clip_id: str, label: str) -> None:
        """Give a clip another class and re-extract it."""
        self.refine(ChangeClass(clip_id, label))

    def change_track_class(self, track: str, label: str) -> None:
        """Give a whole lane another class and re-extract it."""
        self.refine(ChangeTrack(track, label))

    def remove_clip(self, clip_id: str) -> None:
        """Remove a false detection."""
        self.refine(RemoveClip(clip_id))

    def remove_track(self, track: str) -> None:
        """Remove a whole lane (a class that is not in the recording)."""
        self.refine(RemoveTrack(track))

    def add_class(
        self,
        label: str,
        start_s: float,
        end_s: float,
        enrollment: list[float] | str | None = None,
    ) -> None:
        """Extract `label` over a range, optionally like an enrollment region [a, b] or file."""
        is_file = isinstance(enrollment, str | os.PathLike)
        if is_file and not Path(enrollment).is_file():
            raise ScenesplitError(f"{enrollment}: no such enrollment file")
        self.refine(
            AddClass(
                label,
                float(start_s),
                float(end_s),
                enrollment_region=tuple(enrollment) if enrollment and not is_file else None,
                enrollment_file=str(Path(enrollment).resolve()) if is_file else None,
            )
        )

    # -- taking stems out -------------------------------------------------------------------

    def export_all(
        self,
        folder: str | os.PathLike,
        daw_session: bool = False,
        fmt: StemFormat | None = None,
    ) -> None:
        """Write every stem of the current version to `folder` as `fmt` (in the background).

        With `daw_session`, a REAPER project and an Audacity file list that place every clip
        at its time are written beside the stems.
        """
        fmt = fmt or StemFormat()
        project = self._require_project()
        current = project.current
        if current is None:
            raise ScenesplitError("nothing to export: separate the recording first")
        if self.busy:
            raise ScenesplitError(f"wait for the running {self.job_kind} to finish")
        stems = [(t["label"], current.stem_path(t["label"])) for t in current.tracks()]
        manifest = current.manifest
        # The project knows where the recording is now (it may have moved since separation).
        recording = {
            **manifest.get("recording", {}),
            "name": project.recording_name,
            "path": str(project.recording),
        }
        self.job_kind = "export"
        self.jobStarted.emit("export")

        def run():
            paths = []
            for i, (label, path) in enumerate(stems):
                paths += export_stems(recording, [(label, path)], folder, fmt)
                yield {"progress": {"fraction": (i + 1) / len(stems), "message": label}}
            if daw_session:
                paths += write_daw_sessions(manifest, project.recording, paths, folder)
            return paths

        def done(paths, error) -> None:
            if error is None:
                what = fmt.describe(recording)
                self.message.emit(f"exported {len(paths)} files ({what}) to {folder}")
            self._end(error)

        self._worker = workers.start(run, on_progress=self.jobProgress.emit, on_done=done)

    def audible_stems(self) -> list[str]:
        """Stem files of the lanes that play (mute/solo applied)."""
        current = self.project.current if self.project else None
        if current is None:
            return []
        paths = [current.stem_path(label) for label in self.model.audible_labels()]
        return [str(p) for p in paths if p is not None and p.is_file()]


def default_cache_dir() -> Path:
    """The editor's cache: downloaded versions and rendered drag files."""
    from PyQt6.QtCore import QStandardPaths

    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericCacheLocation)
    return Path(base or tempfile.gettempdir()) / "scenesplit" / "editor"


class RecordingMissing(ScenesplitError):
    """A project whose recording is gone and whose length nothing else tells: the window
    asks where the recording is and opens again with `open_project(path, recording)`."""

    def __init__(self, recording: str, project_file: Path):
        self.recording = recording
        self.project_file = project_file
        super().__init__(
            f"{project_file}: its recording {recording} is missing; locate the recording"
        )


def _result_duration(project: Project) -> float | None:
    """The recording's length as the current result recorded it (None without one)."""
    current = project.current
    if current is None:
        return None
    recording = current.manifest.get("recording")
    duration = recording.get("duration_s") if isinstance(recording, dict) else None
    if isinstance(duration, int | float) and duration > 0:
        return float(duration)
    ends = [
        c["end_s"]
        for t in current.tracks()
        for c in t.get("clips") or []
        if isinstance(c, dict) and isinstance(c.get("end_s"), int | float)
    ]
    return max(ends, default=None)


def _duration(path: Path) -> float:
    """Length of an audio file in seconds; ScenesplitError naming the file if unreadable."""
    if not path.is_file():
        raise ScenesplitError(f"{path}: no such file")
    try:
        info = sf.info(str(path))
    except RuntimeError as exc:
        raise ScenesplitError(f"{path}: not an audio file libsndfile can read ({exc})") from None
    if info.frames <= 0:
        raise ScenesplitError(f"{path}: the file has no audio (0 frames)")
    return info.frames / info.samplerate


def write_daw_sessions(
    manifest: dict, recording: str, stem_files: list[Path], folder: str | os.PathLike
) -> list[Path]:
    """A REAPER project and an Audacity .lof for exported stems; returns their paths."""
    try:
        from plugins.sessions import write_lof, write_rpp
    except ImportError as exc:
        raise ScenesplitError(f"DAW session export is not installed ({exc})") from None
    by_label = {p.stem.rsplit("_", 1)[-1]: p.name for p in stem_files}
    data = {
        **manifest,
        "recording": {**manifest.get("recording", {}), "path": recording},
        "tracks": [{**t, "file": by_label.get(t["label"], t["file"])} for t in manifest["tracks"]],
    }
    name = Path(recording).stem
    folder = Path(folder)
    return [
        write_rpp(data, folder, folder / f"{name}.rpp"),
        write_lof(data, folder, folder / f"{name}.lof"),
    ]
