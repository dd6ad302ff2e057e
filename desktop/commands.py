"""Undoable edits (QUndoCommand): lane state changes and switches between result versions.

A refinement runs in the engine first; once its version is fetched, a `SwitchVersion` command is
pushed. Undo goes back to the previous version (the engine keeps every version, the project keeps
their manifests and stems), redo forward again: nothing is recomputed.
"""

from __future__ import annotations

from typing import Any

from PyQt6.QtGui import QUndoCommand

from desktop.timeline.model import TimelineModel


class SetLaneState(QUndoCommand):
    """Change mute, solo or colour of one lane."""

    def __init__(self, model: TimelineModel, label: str, **changes: Any):
        super().__init__()
        self.model, self.label, self.new = model, label, changes
        state = model.lane_state(label)
        self.old = {k: getattr(state, k) for k in changes}
        what = ", ".join(
            f"{k} {'on' if v is True else 'off' if v is False else v}" for k, v in changes.items()
        )
        self.setText(f"{label}: {what}")

    def redo(self) -> None:
        self.model.set_lane_state(self.label, **self.new)

    def undo(self) -> None:
        self.model.set_lane_state(self.label, **self.old)


class SwitchVersion(QUndoCommand):
    """Go from one result version to another (a finished refinement)."""

    def __init__(self, model: TimelineModel, old: int | None, new: int, text: str):
        super().__init__(text)
        self.model, self.old, self.new = model, old, new

    def redo(self) -> None:
        self.model.set_version(self.new)

    def undo(self) -> None:
        self.model.set_version(self.old)
