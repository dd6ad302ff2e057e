"""The main window: toolbar, menus, timeline, status bar. Thin: actions call the session."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from PyQt6.QtCore import QMimeData, Qt
from PyQt6.QtGui import QGuiApplication, QKeySequence
from PyQt6.QtWidgets import (
    QColorDialog,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop import dragout
from desktop.actions import build_menus, build_toolbar, make_action
from desktop.playback import Player
from desktop.project import PROJECT_SUFFIX
from desktop.recent import RecentFiles
from desktop.session import RecordingMissing, Session
from desktop.settings import store
from desktop.statusbar import StatusPanel
from desktop.timeline.items import format_time
from desktop.timeline.lanes import lane_colour
from desktop.timeline.widget import TimelineWidget
from engine.errors import ScenesplitError

AUDIO_PATTERNS = "*.wav *.flac *.ogg *.aif *.aiff *.w64 *.rf64 *.caf"
AUDIO_FILTER = f"Audio ({AUDIO_PATTERNS});;All files (*)"
DEFAULT_SIZE = (1320, 820)
"""The window's size on a screen with room for it."""


class MainWindow(QMainWindow):
    """Scenesplit's editor window."""

    def __init__(self, session: Session, player: Player):
        super().__init__()
        self.session, self.player = session, player
        self.model = session.model
        self.last_error: str | None = None
        self.engine_settings = None
        """The EngineSettings in use (set by the app; None: defaults)."""
        self.recent = RecentFiles(store())
        self.setWindowTitle("Scenesplit")
        # Fit the screen it opens on: small screens, and no window manager to shrink it.
        screen = QGuiApplication.primaryScreen()
        room = screen.availableGeometry() if screen is not None else None
        self.resize(
            min(DEFAULT_SIZE[0], room.width()) if room else DEFAULT_SIZE[0],
            min(DEFAULT_SIZE[1], room.height()) if room else DEFAULT_SIZE[1],
        )
        self.setAcceptDrops(True)
        self.timeline = TimelineWidget(self.model)
        self._build_central()
        self._build_actions()
        self._build_status()
        self._connect()
        self._update_actions()

    # -- layout -----------------------------------------------------------------------------

    def _build_central(self) -> None:
        central = QWidget()
        col = QVBoxLayout(central)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(0)
        self.banner = QFrame(objectName="Banner")
        row = QHBoxLayout(self.banner)
        row.setContentsMargins(12, 6, 12, 6)
        self.banner_text = QLabel("")
        row.addWidget(self.banner_text, 1)
        self.restart_button = QPushButton("Restart engine")
        self.restart_button.clicked.connect(self.restart_engine)
        row.addWidget(self.restart_button)
        self.banner.hide()
        col.addWidget(self.banner)
        self.stack = QStackedWidget()
        empty = QLabel(
            "Open a recording (Ctrl+O) or drop an audio file here\n\n"
            "4-channel FOA (W Y Z X) is native; mono and stereo are accepted",
            objectName="Empty",
        )
        empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack.addWidget(empty)
        self.stack.addWidget(self.timeline)
        col.addWidget(self.stack, 1)
        self.setCentralWidget(central)

    def _build_actions(self) -> None:
        a = partial(make_action, self)
        self.act_open = a("Open…", self.open_dialog, QKeySequence.StandardKey.Open)
        self.act_save = a("Save", self.save, QKeySequence.StandardKey.Save)
        self.act_save_as = a("Save As…", self.save_as, "Ctrl+Shift+S")
        self.act_export = a("Export Stems…", self.export_dialog, "Ctrl+Shift+E")
        self.act_export_session = a(
            "Export Stems + DAW Session…",
            lambda: self.export_dialog(daw_session=True),
            tip="stems plus a REAPER project and an Audacity file list placing every clip",
        )
        self.act_quit = a("Quit", self.close, QKeySequence.StandardKey.Quit)
        self.act_separate = a(
            "Separate", self.separate, "Ctrl+Return", tip="separate the recording into class lanes"
        )
        self.act_cancel = a("Cancel", self.session.cancel, "Esc", tip="cancel the running job")
        self.act_play = a("Play", self.toggle_play, "Space", tip="play / stop (Space)")
        # Audacity's key: Shift+Space plays the selection (or from the playhead) looped.
        self.act_play_loop = a(
            "Play looped",
            lambda: self.toggle_play(loop=True),
            "Shift+Space",
            tip="play the selection over and over (Shift+Space)",
        )
        self.act_stems = a(
            "Play stems",
            lambda on: None,
            checkable=True,
            tip="play the audible stems instead of the mixture",
        )
        self.act_zoom_in = a("Zoom in", lambda: self.model.zoom(1.5), ["+", "=", "Ctrl++"])
        self.act_zoom_out = a("Zoom out", lambda: self.model.zoom(1 / 1.5), ["-", "Ctrl+-"])
        self.act_fit = a("Fit", self.model.fit, "Ctrl+0", tip="show the whole recording")
        # Audacity's keys: Ctrl+E zooms to the selection, Ctrl+Shift+E exports.
        self.act_zoom_sel = a(
            "Zoom to selection", self.model.zoom_to_selection, "Ctrl+E", tip="show the selection"
        )
        self.act_spec = a("Spectrogram", self.timeline.set_spectrogram, "Ctrl+G", checkable=True)
        lanes = self.model
        self.act_taller = a(
            "Taller lanes", lambda: lanes.set_lane_height(lanes.lane_height * 1.25), "Ctrl+Shift+Up"
        )
        self.act_shorter = a(
            "Shorter lanes",
            lambda: lanes.set_lane_height(lanes.lane_height / 1.25),
            "Ctrl+Shift+Down",
        )
        self.act_home = a("Go to start", lambda: self.model.set_playhead(0.0), "Home")
        self.act_end = a("Go to end", lambda: self.model.set_playhead(self.model.duration_s), "End")
        self.act_left = a("Scroll left", lambda: self.model.scroll(-0.25), "Left")
        self.act_right = a("Scroll right", lambda: self.model.scroll(0.25), "Right")
        self.act_delete = a(
            "Remove clip", self.delete_selected, [QKeySequence.StandardKey.Delete, "Backspace"]
        )
        self.act_undo = self.session.undo.createUndoAction(self, "Undo")
        self.act_undo.setShortcut(QKeySequence("Ctrl+Z"))
        self.act_redo = self.session.undo.createRedoAction(self, "Redo")
        self.act_redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.addActions([self.act_undo, self.act_redo])
        self.act_restart = a("Restart engine", self.restart_engine)
        self.act_engine = a("Engine settings…", self.engine_dialog)

        build_menus(self)
        self.time_label = build_toolbar(self)

    def _build_status(self) -> None:
        self.status = StatusPanel(
            self.statusBar(),
            None if self.player.available else self.player.reason,
            self.session.cancel,
        )
        # Shortcuts for the widgets tests and users look at most.
        self.progress = self.status.progress
        self.progress_text = self.status.progress_text
        self.cancel_button = self.status.cancel_button
        self.engine_label = self.status.engine_label

    def _connect(self) -> None:
        s, t = self.session, self.timeline
        s.jobStarted.connect(self._job_started)
        s.jobProgress.connect(self._job_progress)
        s.jobFinished.connect(self._job_finished)
        s.cancelRequested.connect(self._cancel_requested)
        s.message.connect(self.status.message)
        s.undo.cleanChanged.connect(self._clean_changed)
        self.model.projectChanged.connect(self._project_changed)
        self.model.resultChanged.connect(self._update_actions)
        self.model.clipSelected.connect(lambda _c: self._update_actions())
        self.model.selectionChanged.connect(self._update_actions)
        self.model.playheadChanged.connect(self._playhead_moved)
        t.changeClipClass.connect(lambda c, lb: self._guard(s.change_clip_class, c, lb))
        t.changeTrackClass.connect(lambda tr, lb: self._guard(s.change_track_class, tr, lb))
        t.removeClipRequested.connect(lambda c: self._guard(s.remove_clip, c))
        t.removeTrackRequested.connect(lambda tr: self._guard(s.remove_track, tr))
        t.addClassRequested.connect(lambda lb, a, b, en: self._guard(s.add_class, lb, a, b, en))
        t.enrollFileRequested.connect(self.enroll_from_file)
        t.laneStateRequested.connect(self._lane_state_requested)
        t.colourRequested.connect(self.choose_colour)
        t.dragLaneRequested.connect(self.drag_lane)
        t.dragClipRequested.connect(self.drag_clip)
        self.player.positionChanged.connect(self._play_position)
        self.player.levelsChanged.connect(self.status.meter.set_levels)
        self.player.stateChanged.connect(lambda on: self.act_play.setText("Stop" if on else "Play"))
        self.player.stateChanged.connect(lambda _on: self._update_actions())
        self._attach_link(s.link)

    def _attach_link(self, link) -> None:
        if link is not None:
            link.stateChanged.connect(self._engine_state)
            link.died.connect(self._engine_died)
            link.connected.connect(self._engine_connected)
        else:
            self.status.engine_text("engine: off")

    # -- helpers ----------------------------------------------------------------------------

    def _guard(self, fn, *args, **kwargs) -> bool:
        """Run a user action; a ScenesplitError becomes a status message, not a crash."""
        try:
            fn(*args, **kwargs)
            return True
        except (ScenesplitError, ValueError, OSError) as exc:
            self.show_error(str(exc))
            return False

    def show_error(self, text: str) -> None:
        """Tell the user what went wrong (status bar, highlighted)."""
        self.last_error = text
        self.status.error(text)

    def _update_actions(self) -> None:
        has_project = self.model.project is not None
        separated = has_project and self.model.project.current is not None
        busy = self.session.busy
        self.act_save.setEnabled(has_project)
        self.act_save_as.setEnabled(has_project)
        found = separated and bool(self.model.tracks())
        self.act_export.setEnabled(found and not busy)
        self.act_export_session.setEnabled(found and not busy)
        self.act_separate.setEnabled(has_project and not busy)
        self.act_cancel.setEnabled(busy and not self.session.cancelling)
        self.act_delete.setEnabled(separated and self.model.selected_clip is not None and not busy)
        self.act_play.setEnabled(has_project and self.player.available)
        self.act_play_loop.setEnabled(has_project and self.player.available)
        if not self.player.available:
            self.act_play.setToolTip(f"cannot play: {self.player.reason}")
        self.act_stems.setEnabled(has_project and self.player.available)
        self.act_zoom_sel.setEnabled(has_project and self.model.selection is not None)
        # Versions must not change under a running correction.
        self.act_undo.setEnabled(not busy and self.session.undo.canUndo())
        self.act_redo.setEnabled(not busy and self.session.undo.canRedo())

    def _clean_changed(self, clean: bool) -> None:
        self.setWindowModified(not clean)

    def _update_title(self) -> None:
        """`project.scenesplit (recording.wav)` once saved, else the recording's name."""
        project = self.model.project
        if project is None:
            self.setWindowTitle("Scenesplit")
            return
        name = Path(project.recording).name
        if project.path:
            name = f"{Path(project.path).name} ({name})"
        self.setWindowTitle(f"Scenesplit — {name}[*]")

    def _project_changed(self) -> None:
        project = self.model.project
        self.stack.setCurrentIndex(1 if project else 0)
        self._update_title()
        self.player.stop()
        self.setWindowModified(not self.session.undo.isClean())
        self._update_actions()

    # -- files ------------------------------------------------------------------------------

    def confirm_discard(self) -> bool:
        """Ask before dropping unsaved changes: save, discard or cancel. True: go on."""
        if not self.isWindowModified() or self.model.project is None:
            return True
        from PyQt6.QtWidgets import QMessageBox

        buttons = (
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel
        )
        answer = QMessageBox.question(
            self, "Unsaved changes", "Save the changes to this project?", buttons
        )
        if answer == QMessageBox.StandardButton.Save:
            self.save()
            return not self.isWindowModified()
        return answer == QMessageBox.StandardButton.Discard

    def open_path(self, path: str) -> bool:
        """Open a project file or a recording."""
        if self.session.busy:
            self.show_error("wait for the running job to finish (or cancel it) first")
            return False
        if not self.confirm_discard():
            return False
        if not str(path).endswith(PROJECT_SUFFIX):
            opened = self._guard(self.session.open_recording, path)
        else:
            try:
                self.session.open_project(path)
                opened = True
            except RecordingMissing as missing:
                found = self.ask_recording(missing)
                opened = bool(found) and self._guard(self.session.open_project, path, found)
            except (ScenesplitError, ValueError, OSError) as exc:
                self.show_error(str(exc))
                opened = False
        if opened:
            self.recent.add(path)
        return opened

    def fill_recent_menu(self) -> None:
        """List the recent files in File ▸ Open Recent (rebuilt each time it opens)."""
        menu = self.recent_menu
        menu.clear()
        paths = self.recent.paths()
        for path in paths:
            menu.addAction(Path(path).name, partial(self.open_path, path)).setToolTip(path)
        if not paths:
            menu.addAction("(none)").setEnabled(False)

    def ask_recording(self, missing: RecordingMissing) -> str | None:
        """Where a project's moved recording is now (None: the user gave up)."""
        path, _ = QFileDialog.getOpenFileName(
            self, f"Locate {Path(missing.recording).name}", "", AUDIO_FILTER
        )
        return path or None

    def open_dialog(self) -> None:
        """Ask for a recording or project and open it."""
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Open recording or project",
            self.recent.folder(),
            f"Recordings and projects ({AUDIO_PATTERNS} *{PROJECT_SUFFIX});;{AUDIO_FILTER};;"
            f"Projects (*{PROJECT_SUFFIX})",
        )
        if path:
            self.open_path(path)

    def save(self) -> None:
        """Save the project (asks where the first time)."""
        project = self.model.project
        if project is None:
            return
        if project.path is None:
            self.save_as()
        else:
            self._guard(self.session.save)
            self._update_title()

    def save_as(self) -> None:
        """Save the project under a new name."""
        project = self.model.project
        if project is None:
            return
        default = str(Path(project.recording).with_suffix(PROJECT_SUFFIX))
        path, _ = QFileDialog.getSaveFileName(
            self, "Save project", default, f"Projects (*{PROJECT_SUFFIX})"
        )
        if path:
            self._guard(self.session.save, path)
            self._update_title()

    def export_dialog(self, daw_session: bool = False) -> None:
        """Ask for a folder and a stem format, then export every stem (and DAW sessions)."""
        from desktop.export_dialog import ExportDialog

        project = self.session.project
        current = project.current if project else None
        if current is None:
            return
        recording = {**current.manifest.get("recording", {}), "name": project.recording_name}
        labels = [t["label"] for t in current.tracks()]
        dialog = ExportDialog(recording, labels, store(), daw_session, self)
        if dialog.exec():
            fmt, folder = dialog.stem_format(), dialog.folder.text().strip()
            self._guard(self.session.export_all, folder, dialog.daw.isChecked(), fmt)

    def dragEnterEvent(self, ev) -> None:  # noqa: N802 - Qt API
        # A lane or clip dragged out and back is not a recording to open.
        if ev.mimeData().hasUrls() and not dragout.from_editor(ev.mimeData()):
            ev.acceptProposedAction()
        else:
            ev.ignore()

    def dropEvent(self, ev) -> None:  # noqa: N802 - Qt API
        if dragout.from_editor(ev.mimeData()):
            ev.ignore()
            return
        urls = [u.toLocalFile() for u in ev.mimeData().urls() if u.isLocalFile()]
        if urls:
            self.open_path(urls[0])

    # -- engine -----------------------------------------------------------------------------

    def confirm_replace_result(self) -> bool:
        """Ask before a new separation replaces a corrected result and its undo history."""
        project = self.model.project
        corrected = project is not None and (
            self.session.undo.count() > 0 or (project.version or 0) > 1
        )
        if not corrected:
            return True
        from PyQt6.QtWidgets import QMessageBox

        answer = QMessageBox.question(
            self,
            "Separate again?",
            f"Separating again replaces the current result (version {project.version}, with "
            "your corrections) and clears the undo history. Save the project first to keep it.",
            QMessageBox.StandardButton.Ok | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Ok

    def separate(self) -> None:
        """Separate the open recording in the engine."""
        if not self.confirm_replace_result():
            return
        options = self.separation_options()
        if options is not None and self._guard(self.session.separate, **options):
            self._update_actions()

    def separation_options(self) -> dict | None:
        """Options of a new separation; asks which channels to use when the layout is unclear."""
        peaks = self.timeline.mixture_peaks
        n = peaks.channels if peaks is not None else 4
        if n in (1, 2, 4):
            return {}
        channels = self.ask_channels(n)
        return None if not channels else {"channels": channels}

    def ask_channels(self, n: int) -> str | None:
        """Ask which 4 channels of an n-channel file are W, Y, Z, X (e.g. "0-3")."""
        from PyQt6.QtWidgets import QInputDialog

        text, ok = QInputDialog.getText(
            self,
            "Pick channels",
            f"This file has {n} channels; Scenesplit needs first-order Ambisonics (W, Y, Z, X)\n"
            "or mono. Channels to use (0-based, e.g. 0-3 or 0,1,2,3, or one channel for mono):",
            text="0-3",
        )
        return text.strip() if ok and text.strip() else None

    def engine_dialog(self) -> None:
        """Choose a local or remote engine."""
        from desktop import settings

        current = self.engine_settings or settings.EngineSettings()
        dialog = settings.EngineDialog(current, self)
        if dialog.exec():
            chosen = dialog.chosen()
            settings.save_engine_settings(chosen)
            self.switch_engine(chosen)

    def switch_engine(self, chosen, engine_factory=None) -> bool:
        """Use another engine (local or remote); the project stays open."""
        from desktop.engine_link import EngineLink, make_engine

        if self.session.busy:
            self.show_error("wait for the running job to finish before switching engines")
            return False
        if self.session.link is not None:
            self.session.link.stop()
            self.session.link.deleteLater()
        self.engine_settings = chosen
        link = EngineLink(
            engine_factory or (lambda: make_engine(chosen)),
            where=chosen.describe(),
            local_workdir=None if engine_factory else chosen.local_workdir(),
        )
        self.session.link = link
        self._attach_link(link)
        self.banner.hide()
        self.status.engine_text("engine: connecting…")
        link.start()
        return True

    def restart_engine(self) -> None:
        """Restart the engine (after it died or got stuck); the project stays."""
        if self.session.link is not None:
            self.banner.hide()
            self.status.engine_text("engine: restarting…")
            self.session.link.restart()

    def _engine_connected(self) -> None:
        self.banner.hide()

    def _engine_state(self, health: dict | None) -> None:
        link = self.session.link
        self.status.engine_state(health, getattr(link, "where", "") if link else "")

    def _engine_died(self, reason: str) -> None:
        self.status.engine_text("engine: stopped")
        self.banner_text.setText(f"The engine stopped ({reason}). Your project is kept.")
        self.banner.show()

    def _job_started(self, kind: str) -> None:
        self.status.job_started(kind)
        if self.session.link is not None and kind != "export":
            self.session.link.check_health()  # idle -> busy now, not at the next poll
        self._update_actions()

    def _job_progress(self, job: dict) -> None:
        self.status.job_progress(self.session.job_kind or "", job)

    def _cancel_requested(self) -> None:
        self.status.job_cancelling()
        self._update_actions()

    def _job_finished(self, kind: str, error) -> None:
        self.status.job_finished()
        if self.session.link is not None:
            self.session.link.check_health()  # busy -> idle without waiting for the next poll
        if error == "cancelled":
            self.status.message(f"{kind} cancelled; nothing changed")
        elif error:
            self.show_error(f"{kind} failed: {error}")
        elif kind == "separate":
            n = len(self.model.tracks())
            self.status.message(f"separated: {n} lane{'s' * (n != 1)}")
        elif kind == "refine":
            self.status.message(f"re-extracted: {self.session.undo.undoText()}{self._rerun_cost()}")
        self._update_actions()

    def _rerun_cost(self) -> str:
        """What the last correction re-ran, as the engine reported it (" (2 of 9 windows)")."""
        current = self.model.project.current if self.model.project else None
        manifest = current.manifest if current else {}
        rerun, total = manifest.get("rerun_windows"), len(manifest.get("windows", []))
        if rerun is None or not total:
            return ""
        return f" ({len(rerun)} of {total} window{'s' * (total != 1)} re-run)"

    # -- edits ------------------------------------------------------------------------------

    def _lane_state_requested(self, label: str, changes: dict) -> None:
        self.session.set_lane_state(label, **changes)
        if changes.get("solo"):
            self.act_stems.setChecked(True)

    def choose_colour(self, label: str) -> None:
        """Pick a lane colour (undoable)."""
        state = self.model.lane_state(label)
        from PyQt6.QtGui import QColor

        colour = QColorDialog.getColor(QColor(lane_colour(state.colour, label)), self, label)
        if colour.isValid():
            self.session.set_lane_state(label, colour=colour.name())

    def enroll_from_file(self, label: str, start_s: float, end_s: float) -> None:
        """Extract `label` over a range, guided by an example file the user picks."""
        path = self.ask_enrollment_file(label)
        if path:
            self._guard(self.session.add_class, label, start_s, end_s, path)

    def ask_enrollment_file(self, label: str) -> str | None:
        """Ask for an example recording of `label`."""
        path, _ = QFileDialog.getOpenFileName(self, f"An example of {label}", "", AUDIO_FILTER)
        return path or None

    def delete_selected(self) -> None:
        """Remove the selected clip (re-extracts without it)."""
        clip = self.model.selected_clip
        if clip is not None:
            self._guard(self.session.remove_clip, clip)

    def _range_menu(self) -> None:
        self.timeline.range_menu().exec(self.cursor().pos())

    # -- drag out ---------------------------------------------------------------------------

    def lane_mime(self, label: str) -> QMimeData:
        """Mime data of a lane drag (the whole stem as WAV)."""
        return dragout.mime_for([self.session.drag.lane_file(self.model.project, label)])

    def clip_mime(self, clip_id: str) -> QMimeData:
        """Mime data of a clip drag (the clip as WAV, placed at its start)."""
        return dragout.mime_for([self.session.drag.clip_file(self.model.project, clip_id)])

    def drag_lane(self, label: str) -> None:
        """Drag a whole stem out as a WAV file."""
        try:
            mime = self.lane_mime(label)
        except (ValueError, OSError) as exc:
            self.show_error(str(exc))
            return
        colour = lane_colour(self.model.lane_state(label).colour, label)
        dragout.start_drag(self.timeline, mime, label, colour)

    def drag_clip(self, clip_id: str) -> None:
        """Drag one clip out as a WAV file placed at its start."""
        try:
            mime = self.clip_mime(clip_id)
        except (ValueError, OSError) as exc:
            self.show_error(str(exc))
            return
        track, _clip = self.model.find_clip(clip_id)
        colour = lane_colour(self.model.lane_state(track["label"]).colour, track["label"])
        dragout.start_drag(self.timeline, mime, track["label"], colour)

    # -- transport --------------------------------------------------------------------------

    def toggle_play(self, loop: bool = False) -> None:
        """Play the selection (to its end) or from the playhead, looped if `loop`; or stop."""
        if self.player.playing:
            self.player.stop()
            return
        project = self.model.project
        if project is None:
            return
        if not self.player.available:
            self.show_error(self.player.reason)
            return
        stems = self.act_stems.isChecked() and project.current is not None
        paths = self.session.audible_stems() if stems else [project.recording]
        if not paths:
            self.show_error("every lane is muted")
            return
        if self.model.selection:
            start, end = self.model.selection
        else:
            start, end = self.model.playhead, (self.model.duration_s if loop else None)
        self._guard(self.player.play, paths, start, end, loop)

    def _play_position(self, t: float) -> None:
        self.model.set_playhead(t)
        t0, t1 = self.model.view
        if t > t1 or t < t0:
            self.model.set_view(t, t + (t1 - t0))

    def _playhead_moved(self, t: float) -> None:
        self.time_label.setText(format_time(t, 10))

    def closeEvent(self, ev) -> None:  # noqa: N802 - Qt API
        if not self.confirm_discard():
            ev.ignore()
            return
        self.player.stop()
        if self.session.link is not None:
            self.session.link.stop()
        super().closeEvent(ev)
