"""Timeline state as a plain model with signals: project and version, lanes, view, selection.

Views listen and redraw; commands and the session change the state only through this model.
"""

from __future__ import annotations

from typing import Any

from PyQt6.QtCore import QObject, pyqtSignal

from desktop.project import LaneState, Project
from engine.constants import SILENCE

MIN_SPAN_S = 0.005
"""Narrowest visible stretch (a few hundred samples)."""
LANE_HEIGHTS = (40, 74, 400)
"""Class lane height in pixels: (smallest, default, largest)."""


class TimelineModel(QObject):
    """What the timeline shows; every change is announced by a signal."""

    projectChanged = pyqtSignal()
    resultChanged = pyqtSignal()
    laneStateChanged = pyqtSignal(str)
    viewChanged = pyqtSignal(float, float)
    selectionChanged = pyqtSignal()
    playheadChanged = pyqtSignal(float)
    clipSelected = pyqtSignal(object)
    laneHeightChanged = pyqtSignal(int)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.project: Project | None = None
        self.duration_s = 0.0
        self.view = (0.0, 1.0)
        self.selection: tuple[float, float] | None = None
        self.playhead = 0.0
        self.selected_clip: str | None = None
        self.lane_height = LANE_HEIGHTS[1]

    # -- project and result -----------------------------------------------------------------

    def set_project(self, project: Project | None, duration_s: float = 0.0) -> None:
        """Show another project (or none); resets view, selection and playhead."""
        self.project = project
        self.duration_s = max(0.0, float(duration_s))
        self.selection = None
        self.selected_clip = None
        self.playhead = 0.0
        self.view = (0.0, max(self.duration_s, MIN_SPAN_S * 10))
        self.projectChanged.emit()
        self.resultChanged.emit()
        self.viewChanged.emit(*self.view)
        self.selectionChanged.emit()
        self.playheadChanged.emit(0.0)

    def set_version(self, number: int | None) -> None:
        """Switch the project to another (already fetched) result version."""
        if self.project is None:
            raise ValueError("no project is open")
        if number is not None and number not in self.project.versions:
            raise ValueError(
                f"unknown result version {number}; known: {sorted(self.project.versions)}"
            )
        self.project.version = number
        if self.selected_clip and self.find_clip(self.selected_clip) is None:
            self.select_clip(None)
        self.resultChanged.emit()

    def tracks(self) -> list[dict[str, Any]]:
        """Tracks of the current version (empty before separation)."""
        current = self.project.current if self.project else None
        return current.tracks() if current else []

    def find_clip(self, clip_id: str) -> tuple[dict, dict] | None:
        """(track, clip) of `clip_id` in the current version, or None."""
        for track in self.tracks():
            for clip in track.get("clips", []):
                if clip["id"] == clip_id:
                    return track, clip
        return None

    def full_windows(self, a: float, b: float) -> list[tuple[float, float, set[str]]]:
        """Analysis windows overlapping `[a, b)` whose every slot holds a class: (start, end,
        classes). The engine extracts at most one class per slot, so a class not among them
        cannot be added there until one is removed or changed."""
        current = self.project.current if self.project else None
        out = []
        for w in current.manifest.get("windows", []) if current else []:
            labels = {s.get("label") for s in w.get("slots", [])}
            if w["end_s"] > a and w["start_s"] < b and labels and SILENCE not in labels:
                out.append((float(w["start_s"]), float(w["end_s"]), labels))
        return out

    # -- lanes ------------------------------------------------------------------------------

    def lane_state(self, label: str) -> LaneState:
        """Mute/solo/colour of a lane."""
        if self.project is None:
            return LaneState()
        return self.project.lane(label)

    def set_lane_state(self, label: str, **changes: Any) -> None:
        """Change mute, solo and/or colour of `label`'s lane."""
        if self.project is None:
            return
        state = self.project.lane(label)
        for key, value in changes.items():
            if not hasattr(state, key):
                raise ValueError(f"unknown lane property {key!r}; expected mute, solo or colour")
            setattr(state, key, value)
        self.laneStateChanged.emit(label)

    def audible_labels(self) -> list[str]:
        """Lanes that play: the soloed ones if any lane is soloed, else the unmuted ones."""
        labels = [t["label"] for t in self.tracks()]
        soloed = [lb for lb in labels if self.lane_state(lb).solo]
        if soloed:
            return soloed
        return [lb for lb in labels if not self.lane_state(lb).mute]

    # -- view, selection, playhead ----------------------------------------------------------

    def set_lane_height(self, pixels: float) -> None:
        """Height of every class lane, within LANE_HEIGHTS (a view setting, not an edit)."""
        height = int(round(min(max(pixels, LANE_HEIGHTS[0]), LANE_HEIGHTS[2])))
        if height != self.lane_height:
            self.lane_height = height
            self.laneHeightChanged.emit(height)

    def set_view(self, t0: float, t1: float) -> None:
        """Show t0..t1 seconds (clamped to the recording, at least MIN_SPAN_S wide)."""
        total = max(self.duration_s, MIN_SPAN_S * 10)
        span = min(max(t1 - t0, MIN_SPAN_S), total)
        t0 = min(max(0.0, t0), total - span)
        view = (t0, t0 + span)
        if view != self.view:
            self.view = view
            self.viewChanged.emit(*view)

    def zoom(self, factor: float, anchor: float | None = None) -> None:
        """Zoom in (factor > 1) or out around `anchor` seconds (default: view centre)."""
        t0, t1 = self.view
        anchor = (t0 + t1) / 2 if anchor is None else anchor
        span = (t1 - t0) / factor
        frac = (anchor - t0) / (t1 - t0) if t1 > t0 else 0.5
        self.set_view(anchor - frac * span, anchor - frac * span + span)

    def scroll(self, fraction: float) -> None:
        """Move the view by `fraction` of its width."""
        t0, t1 = self.view
        dt = (t1 - t0) * fraction
        self.set_view(t0 + dt, t1 + dt)

    def fit(self) -> None:
        """Show the whole recording."""
        self.set_view(0.0, self.duration_s)

    def zoom_to_selection(self) -> None:
        """Show the selected range with a small margin (nothing selected: nothing happens)."""
        if self.selection is None:
            return
        a, b = self.selection
        margin = 0.05 * (b - a)
        self.set_view(a - margin, b + margin)

    def set_selection(self, a: float | None, b: float | None = None) -> None:
        """Select the time range a..b (in any order); None clears it."""
        if a is None or b is None or abs(b - a) < 1e-3:
            selection = None
        else:
            lo, hi = sorted((a, b))
            selection = (max(0.0, lo), min(self.duration_s, hi))
        if selection != self.selection:
            self.selection = selection
            self.selectionChanged.emit()

    def set_playhead(self, t: float) -> None:
        """Move the playhead (seconds, clamped to the recording)."""
        t = min(max(0.0, t), self.duration_s)
        if t != self.playhead:
            self.playhead = t
            self.playheadChanged.emit(t)

    def select_clip(self, clip_id: str | None) -> None:
        """Select one clip (None: none)."""
        if clip_id != self.selected_clip:
            self.selected_clip = clip_id
            self.clipSelected.emit(clip_id)
