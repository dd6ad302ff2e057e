"""Dragging lanes and clips out of the editor as rendered WAV files (with BWF time reference).

A drag carries `file://` URLs of WAVs that already exist when the drag starts (DAWs and file
managers copy them on drop). Rendered files are cached per version, lane and clip, so dragging
the same thing twice does not render twice.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from PyQt6.QtCore import QMimeData, Qt, QUrl
from PyQt6.QtGui import QColor, QDrag, QFont, QPainter, QPixmap
from PyQt6.QtWidgets import QWidget

from desktop.export import read_time_reference, render_wav, stem_export_name
from desktop.project import Project


class DragRenderer:
    """Renders what a drag carries into a cache folder."""

    def __init__(self, cache_dir: str | os.PathLike | None = None):
        self.cache_dir = Path(cache_dir or tempfile.mkdtemp(prefix="scenesplit-drag-"))

    def _base(self, project: Project) -> tuple[Path, int, int]:
        version = project.current
        if version is None:
            raise ValueError("nothing to drag: the recording is not separated yet")
        folder = self.cache_dir / (project.job_id or "local") / f"v{version.number}"
        tref = int(version.manifest.get("recording", {}).get("time_reference", 0) or 0)
        return folder, tref, version.number

    def lane_file(self, project: Project, label: str) -> Path:
        """The whole stem of `label`, named `<recording>_<Label>.wav`."""
        folder, tref, _ = self._base(project)
        src = project.current.stem_path(label)
        if src is None:
            raise ValueError(f"no lane {label!r} in this result")
        dest = folder / stem_export_name(project.recording_name, label)
        if not dest.is_file():
            if read_time_reference(src) == tref:
                # Already a placed WAV (the engine writes BWF stems): link it, no hour-long copy.
                try:
                    folder.mkdir(parents=True, exist_ok=True)
                    os.link(src, dest)
                    return dest
                except OSError:
                    pass  # another file system: render a copy
            render_wav(src, dest, time_reference=tref, description=label)
        return dest

    def clip_file(self, project: Project, clip_id: str) -> Path:
        """One clip of a stem, placed at its start (time reference = start in samples)."""
        folder, tref, _ = self._base(project)
        for track in project.current.tracks():
            for clip in track.get("clips", []):
                if clip["id"] == clip_id:
                    src = project.current.stem_path(track["label"])
                    rate = int(
                        project.current.manifest.get("recording", {}).get("sample_rate", 32000)
                    )
                    start = int(round(clip["start_s"] * rate))
                    name = f"{project.recording_name}_{track['label']}_{clip['start_s']:08.3f}s.wav"
                    dest = folder / "clips" / name
                    if not dest.is_file():
                        render_wav(
                            src,
                            dest,
                            clip["start_s"],
                            clip["end_s"],
                            time_reference=tref + start,
                            description=f"{track['label']} {clip['id']}",
                        )
                    return dest
        raise ValueError(f"no clip {clip_id!r} in this result")


# Marks drags that start in the editor, so dropping one back on it is not an "open file".
EDITOR_DRAG_FORMAT = "application/x-scenesplit-stem"


def from_editor(mime: QMimeData) -> bool:
    """Whether a drag's data was made by `mime_for` (a stem or clip of this editor)."""
    return mime.hasFormat(EDITOR_DRAG_FORMAT)


def mime_for(paths: list[Path]) -> QMimeData:
    """Mime data listing existing files as URLs (text/uri-list), marked as the editor's."""
    missing = [str(p) for p in paths if not Path(p).is_file()]
    if missing:
        raise ValueError(f"cannot drag files that do not exist: {', '.join(missing)}")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(Path(p).resolve())) for p in paths])
    mime.setData(EDITOR_DRAG_FORMAT, b"1")
    return mime


def drag_pixmap(text: str, colour: str) -> QPixmap:
    """A small rounded label shown under the cursor while dragging."""
    font = QFont()
    font.setBold(True)
    pix = QPixmap(max(80, 9 * len(text) + 24), 26)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setBrush(QColor(colour))
    p.setPen(QColor(colour).darker(150))
    p.drawRoundedRect(0, 0, pix.width() - 1, pix.height() - 1, 6, 6)
    p.setFont(font)
    p.setPen(QColor("#101114"))
    p.drawText(pix.rect(), Qt.AlignmentFlag.AlignCenter, text)
    p.end()
    return pix


def start_drag(source: QWidget, mime: QMimeData, text: str, colour: str) -> Qt.DropAction:
    """Run a copy drag of `mime` from `source` (blocks until dropped, as QDrag does)."""
    drag = QDrag(source)
    drag.setMimeData(mime)
    drag.setPixmap(drag_pixmap(text, colour))
    return drag.exec(Qt.DropAction.CopyAction)
