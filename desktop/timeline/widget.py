"""The timeline: ruler, mixture lane and one lane per class, kept in step with a TimelineModel.

It only draws and turns mouse/wheel gestures into model changes or request signals; edits that
touch the engine are emitted as signals for the window to carry out. Curves are recomputed only
when the view changes (debounced) or a peak pyramid grows, never per playhead tick.
"""

from __future__ import annotations

from pathlib import Path

import pyqtgraph as pg
from PyQt6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QColor
from PyQt6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QScrollArea,
    QScrollBar,
    QVBoxLayout,
    QWidget,
)

from desktop import theme, workers
from desktop.timeline import menus, spectrogram
from desktop.timeline.items import ClipItem, LaneViewBox, TimeAxis, Waveform, format_time
from desktop.timeline.lanes import (
    HEADER_WIDTH,
    LANE_HEIGHT,
    MIXTURE_HEIGHT,
    SCROLLBAR,
    Lane,
    LaneHeader,
    MixtureHeader,
    ResizeHandle,
    Strip,
    describe_file,
    lane_colour,
    make_strip,
)
from desktop.timeline.model import TimelineModel
from desktop.timeline.peaks import PeakPyramid
from engine.constants import FOA_CHANNEL_NAMES
from engine.errors import Cancelled

EDGE_PX = 5
LABEL_BACKING = (26, 27, 30, 200)
MIXTURE_HEIGHTS = (100, 900)
"""The mixture strip's height range in pixels (it starts at MIXTURE_HEIGHT)."""
"""A drag that starts this close to a selection end moves that end."""

NOTHING_FOUND = (
    "No sound events were found in this recording.\n\n"
    "If you hear one: drag on the ruler over where it sounds, then right-click the selection "
    "and choose “Add class over …”, or “Extract more like this region as …” to find "
    "every sound like the one selected."
)


def strip_label(text: str) -> pg.TextItem:
    """A label drawn over a strip's waveform or spectrogram (channel name, frequency) on a
    dark backing, so it stays readable over whatever is under it."""
    item = pg.TextItem(text, color=theme.TEXT, anchor=(0, 0.5), fill=pg.mkBrush(LABEL_BACKING))
    item.setZValue(25)
    return item


class TimelineWidget(QWidget):
    """Ruler + mixture + class lanes; wheel/drag/click gestures drive the model."""

    changeClipClass = pyqtSignal(str, str)
    changeTrackClass = pyqtSignal(str, str)
    removeClipRequested = pyqtSignal(str)
    removeTrackRequested = pyqtSignal(str)
    addClassRequested = pyqtSignal(str, float, float, object)
    enrollFileRequested = pyqtSignal(str, float, float)
    laneStateRequested = pyqtSignal(str, dict)
    colourRequested = pyqtSignal(str)
    dragLaneRequested = pyqtSignal(str)
    dragClipRequested = pyqtSignal(str)
    waveformDrawn = pyqtSignal()
    peaksReady = pyqtSignal()

    def __init__(self, model: TimelineModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model
        self._drag_anchor: float | None = None  # the fixed end of the selection being dragged
        self._resize_from: int | None = None  # the lane height when a resize handle was pressed
        self._mixture_from: int | None = None  # the same for the mixture strip
        self.mixture_peaks: PeakPyramid | None = None
        self.stem_peaks: dict[str, PeakPyramid] = {}
        self.lanes: list[Lane] = []
        self.w_only = False
        self.show_spectrogram = False
        self._drawn_once = False
        self._peak_workers: list[workers.Worker] = []
        self._spec_request = 0
        self._syncing_scroll = False
        self._build_ui()
        self._wave_timer = QTimer(self, singleShot=True, interval=20)
        self._wave_timer.timeout.connect(self.refresh_waveforms)
        self._spec_timer = QTimer(self, singleShot=True, interval=150)
        self._spec_timer.timeout.connect(self.refresh_spectrogram)
        model.projectChanged.connect(self._project_changed)
        model.resultChanged.connect(self._result_changed)
        model.viewChanged.connect(self._view_changed)
        model.selectionChanged.connect(self._selection_changed)
        model.laneHeightChanged.connect(self._lane_height_changed)
        model.playheadChanged.connect(self._playhead_moved)
        model.laneStateChanged.connect(self._lane_state_changed)
        model.clipSelected.connect(self._clip_selected)

    # -- construction -----------------------------------------------------------------------

    def _build_ui(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        ruler_box = LaneViewBox()
        self.ruler_plot = pg.PlotWidget(viewBox=ruler_box, axisItems={"top": TimeAxis("top")})
        ruler_box.setYRange(0, 1, padding=0)
        self.ruler_plot.setBackground(theme.PANEL)
        self.ruler_plot.hideAxis("left")
        self.ruler_plot.hideAxis("bottom")
        self.ruler_plot.showAxis("top")
        top_axis = self.ruler_plot.getAxis("top")
        top_axis.setTextPen(theme.TEXT_DIM)
        top_axis.setPen(theme.GRID)
        top_axis.setHeight(28)
        self.ruler_plot.setFixedHeight(30)
        self.ruler_plot.setMenuEnabled(False)
        self.ruler_plot.setFrameShape(QFrame.Shape.NoFrame)
        self.ruler = Strip(self.ruler_plot, self.ruler_plot.getViewBox())
        self.ruler.playhead.setPen(pg.mkPen(theme.PLAYHEAD, width=2))
        self._wire_box(self.ruler.box, lane=None)
        corner = QFrame(objectName="LaneHeader")
        self.range_label = QLabel("", corner, objectName="LaneDetail")
        self.range_label.setGeometry(12, 0, HEADER_WIDTH - 16, 30)
        outer.addLayout(self._row(corner, self.ruler_plot, 30, SCROLLBAR))

        self.mixture_header = MixtureHeader()
        self.mixture_header.channelModeChanged.connect(self._set_w_only)
        self.mixture_header.spectrogramToggled.connect(self.set_spectrogram)
        plot, box = make_strip(None, MIXTURE_HEIGHT)
        self.mixture = Strip(plot, box)
        self._wire_box(box, lane=None)
        self.mixture_waves: list[Waveform] = []
        self.channel_labels: list[pg.TextItem] = []
        self.spec_item = spectrogram.SpectrogramItem()
        self.spec_item.setVisible(False)
        box.addItem(self.spec_item, ignoreBounds=True)
        self.freq_labels: list[tuple[float, pg.TextItem]] = []
        for hz, text in ((100, "100 Hz"), (1000, "1 kHz"), (10_000, "10 kHz")):
            item = strip_label(text)
            item.setVisible(False)
            box.addItem(item, ignoreBounds=True)
            self.freq_labels.append((hz, item))
        outer.addLayout(self._row(self.mixture_header, plot, MIXTURE_HEIGHT, SCROLLBAR))
        # The mixture strip (waveforms or spectrogram) is resized by the bar under it.
        self.mixture_handle = ResizeHandle(self._resize_mixture)
        outer.addWidget(self.mixture_handle)

        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # Always there, and as wide as the margin the rows above keep, so every strip spans
        # exactly the same pixels and times line up across lanes.
        self.scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.scroll.verticalScrollBar().setFixedWidth(SCROLLBAR)
        self.lane_box = QWidget()
        self.lane_layout = QVBoxLayout(self.lane_box)
        self.lane_layout.setContentsMargins(0, 0, 0, 0)
        self.lane_layout.setSpacing(1)
        self.empty_note = QLabel(NOTHING_FOUND)
        self.empty_note.setWordWrap(True)
        self.empty_note.setContentsMargins(HEADER_WIDTH + 16, 18, 16, 18)
        self.empty_note.setObjectName("Empty")
        self.empty_note.setVisible(False)
        self.lane_layout.addWidget(self.empty_note)
        self.lane_layout.addStretch(1)
        self.scroll.setWidget(self.lane_box)
        outer.addWidget(self.scroll, 1)

        self.hscroll = QScrollBar(Qt.Orientation.Horizontal)
        self.hscroll.valueChanged.connect(self._scrolled)
        bar = QHBoxLayout()
        bar.setContentsMargins(HEADER_WIDTH, 0, SCROLLBAR, 0)
        bar.addWidget(self.hscroll)
        outer.addLayout(bar)
        for p in (self.ruler_plot, plot):
            p.viewport().installEventFilter(self)

    @staticmethod
    def _row(header: QWidget, plot: QWidget, height: int, right: int = 0) -> QHBoxLayout:
        header.setFixedSize(HEADER_WIDTH, height)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, right, 0)
        row.setSpacing(0)
        row.addWidget(header)
        row.addWidget(plot, 1)
        return row

    def _strips(self) -> list[Strip]:
        return [self.ruler, self.mixture] + [lane.strip for lane in self.lanes]

    def _wire_box(self, box, lane: str | None) -> None:
        box.on_click = lambda t, button, pos, mods: self._clicked(t, button, pos, lane, mods)
        box.on_drag = lambda a, b, done: self._dragged(box, a, b, done)
        box.on_hover = lambda t: box.setCursor(
            Qt.CursorShape.SizeHorCursor
            if self._selection_edge(box, t) is not None
            else Qt.CursorShape.ArrowCursor
        )

    def _selection_edge(self, box, t: float) -> float | None:
        """The selection end within EDGE_PX pixels of time `t` in `box`, or None."""
        sel = self.model.selection
        width = box.width()
        if sel is None or width <= 0:
            return None
        t0, t1 = self.model.view
        tolerance = EDGE_PX * (t1 - t0) / width
        near = [edge for edge in sel if abs(t - edge) <= tolerance]
        return min(near, key=lambda edge: abs(t - edge)) if near else None

    def _dragged(self, box, a: float, b: float, done: bool) -> None:
        """A drag from `a` to `b` seconds: a new selection, or one end of the selection moved
        when the drag started on it (the other end stays)."""
        if self._drag_anchor is None:
            edge = self._selection_edge(box, a)
            sel = self.model.selection
            self._drag_anchor = a if edge is None else (sel[1] if edge == sel[0] else sel[0])
        self.model.set_selection(self._drag_anchor, b)
        if done:
            self._drag_anchor = None

    # -- model -> view ----------------------------------------------------------------------

    def _project_changed(self) -> None:
        for w in self._peak_workers:
            w.cancel()
        self._peak_workers.clear()
        self.mixture_peaks = None
        self.stem_peaks.clear()
        self._drawn_once = False
        self._remove_mixture_waves()
        self.spec_item.clear()
        project = self.model.project
        if project is None:
            self.mixture_header.set_facts("")
            return
        try:
            peaks = PeakPyramid.for_file(project.recording)
        except (RuntimeError, OSError) as exc:
            self.mixture_header.set_facts(f"cannot read: {exc}")
            return
        self.mixture_peaks = peaks
        self.mixture_header.set_facts(describe_file(project.recording))
        self._make_mixture_waves()
        self._build_peaks(peaks, mixture=True)

    def _make_mixture_waves(self) -> None:
        peaks = self.mixture_peaks
        n = 1 if self.w_only or peaks is None else peaks.channels
        for i in range(n):
            centre = 1.0 - (i + 0.5) / n
            self.mixture_waves.append(Waveform(self.mixture.box, theme.WAVEFORM, centre, 0.46 / n))
            name = FOA_CHANNEL_NAMES[i] if peaks and peaks.channels == 4 else f"ch{i + 1}"
            text = strip_label(name)
            text.setPos(self.model.view[0], centre)
            self.mixture.box.addItem(text, ignoreBounds=True)
            self.channel_labels.append(text)
        for wave in self.mixture_waves:
            wave.set_visible(not self.show_spectrogram)

    def _build_peaks(self, peaks: PeakPyramid, mixture: bool) -> None:
        def progress(frames: int) -> None:
            if mixture and peaks.frames:
                self.mixture_header.status.setText(
                    f"reading peaks… {100 * frames // peaks.frames} %"
                )
            if not self._wave_timer.isActive():
                self._wave_timer.start(100 if mixture else 200)

        def done(_result, error) -> None:
            if error is None:
                self.refresh_waveforms()
                if mixture:
                    self.mixture_header.status.setText("")
                    self.peaksReady.emit()
            elif mixture and not isinstance(error, Cancelled):
                # e.g. the file vanished or was truncated while being read
                self.mixture_header.status.setText(f"cannot read: {error}")

        if mixture:
            self.mixture_header.status.setText("reading peaks…")
        self._peak_workers.append(workers.start(peaks.build, on_progress=progress, on_done=done))

    def _result_changed(self) -> None:
        self._forget_old_stem_peaks()
        for lane in self.lanes:
            self.lane_layout.removeWidget(lane.row)
            lane.row.deleteLater()
        self.lanes = []
        project = self.model.project
        current = project.current if project else None
        for track in self.model.tracks():
            self._add_lane(track, current.stem_path(track["label"]) if current else None)
        self.empty_note.setVisible(current is not None and not self.lanes)
        self._view_changed(*self.model.view)
        self._selection_changed()
        self._playhead_moved(self.model.playhead)

    def _forget_old_stem_peaks(self, keep: int = 48) -> None:
        """Bound the stem pyramids kept for undo/redo (oldest dropped first)."""
        while len(self.stem_peaks) > keep:
            self.stem_peaks.pop(next(iter(self.stem_peaks)))

    def _add_lane(self, track: dict, stem: Path | None) -> None:
        label = track["label"]
        state = self.model.lane_state(label)
        colour = lane_colour(state.colour, label)
        header = LaneHeader(track, colour, state.mute, state.solo)
        header.classChosen.connect(self.changeTrackClass)
        header.muteToggled.connect(lambda lb, on: self.laneStateRequested.emit(lb, {"mute": on}))
        header.soloToggled.connect(lambda lb, on: self.laneStateRequested.emit(lb, {"solo": on}))
        header.colourClicked.connect(self.colourRequested)
        header.dragRequested.connect(self.dragLaneRequested)
        header.menuRequested.connect(lambda lb, pos: self.lane_menu(lb).exec(pos))
        plot, box = make_strip(label, LANE_HEIGHT)
        plot.setBackground(theme.LANE if len(self.lanes) % 2 == 0 else theme.LANE_ALT)
        plot.viewport().installEventFilter(self)
        strip = Strip(plot, box)
        self._wire_box(box, lane=label)
        row = QWidget()
        column = QVBoxLayout(row)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addLayout(self._row(header, plot, LANE_HEIGHT))
        lane = Lane(track, header, strip, row, colour)
        lane.handle = ResizeHandle(self._resize_lanes)
        column.addWidget(lane.handle)
        self._set_lane_height(lane, self.model.lane_height)
        for clip in track.get("clips", []):
            item = ClipItem(clip, colour)
            item.on_click = self._clip_clicked
            item.on_drag_out = lambda it: self.dragClipRequested.emit(it.clip_id)
            item.set_selected(clip["id"] == self.model.selected_clip)
            box.addItem(item)
            box.addItem(item.label)
            lane.clips.append(item)
        self.lane_layout.insertWidget(self.lane_layout.count() - 1, row)
        self.lanes.append(lane)
        self._apply_audibility()
        if stem is not None and stem.is_file():
            key = str(stem)
            if key not in self.stem_peaks:
                try:
                    self.stem_peaks[key] = PeakPyramid.for_file(stem)
                except (RuntimeError, OSError):
                    return
                self._build_peaks(self.stem_peaks[key], mixture=False)

    def _view_changed(self, t0: float, t1: float) -> None:
        for strip in self._strips():
            strip.box.setXRange(t0, t1, padding=0)
        for text in self.channel_labels:
            text.setPos(t0, text.pos().y())
        for _hz, item in self.freq_labels:
            item.setPos(t0, item.pos().y())
        self._sync_scrollbar()
        self._update_range_label()
        if not self._wave_timer.isActive():
            self._wave_timer.start(20)
        if self.show_spectrogram:
            self._spec_timer.start()

    def _sync_scrollbar(self) -> None:
        t0, t1 = self.model.view
        total = self.model.duration_s
        self._syncing_scroll = True
        self.hscroll.setRange(0, max(0, int((total - (t1 - t0)) * 1000)))
        self.hscroll.setPageStep(max(1, int((t1 - t0) * 1000)))
        self.hscroll.setSingleStep(max(1, int((t1 - t0) * 100)))
        self.hscroll.setValue(int(t0 * 1000))
        self._syncing_scroll = False

    def _scrolled(self, value: int) -> None:
        if self._syncing_scroll:
            return
        t0, t1 = self.model.view
        self.model.set_view(value / 1000, value / 1000 + (t1 - t0))

    def _update_range_label(self) -> None:
        sel = self.model.selection
        if sel is not None:
            a, b = sel
            text = f"sel {format_time(a, b - a)}–{format_time(b, b - a)} ({b - a:.2f} s)"
        else:
            t0, t1 = self.model.view
            text = f"view {format_time(t0, t1 - t0)}–{format_time(t1, t1 - t0)}"
        self.range_label.setText(text)

    def _resize_lanes(self, moved_px: float, done: bool) -> None:
        """A lane's handle moved `moved_px` since it was pressed: every lane follows."""
        if self._resize_from is None:
            self._resize_from = self.model.lane_height
        self.model.set_lane_height(self._resize_from + moved_px)
        if done:
            self._resize_from = None

    def _resize_mixture(self, moved_px: float, done: bool) -> None:
        """The mixture's handle moved `moved_px` since it was pressed."""
        if self._mixture_from is None:
            self._mixture_from = self.mixture.plot.height()
        height = int(
            min(max(self._mixture_from + moved_px, MIXTURE_HEIGHTS[0]), MIXTURE_HEIGHTS[1])
        )
        self.mixture_header.setFixedHeight(height)
        self.mixture.plot.setFixedHeight(height)
        if done:
            self._mixture_from = None

    @staticmethod
    def _set_lane_height(lane: Lane, height: int) -> None:
        lane.header.set_height(height)
        lane.strip.plot.setFixedHeight(height)

    def _lane_height_changed(self, height: int) -> None:
        for lane in self.lanes:
            self._set_lane_height(lane, height)

    def _selection_changed(self) -> None:
        self._update_range_label()
        sel = self.model.selection
        for strip in self._strips():
            strip.shade.setVisible(sel is not None)
            if sel is not None:
                strip.shade.setRect(QRectF(sel[0], 0, sel[1] - sel[0], 1))

    def _playhead_moved(self, t: float) -> None:
        for strip in self._strips():
            strip.playhead.setPos(t)

    def _lane_state_changed(self, label: str) -> None:
        for lane in self.lanes:
            if lane.track["label"] == label:
                state = self.model.lane_state(label)
                colour = lane_colour(state.colour, label)
                lane.header.set_state(state.mute, state.solo, colour)
                lane.wave.set_colour(QColor(colour).lighter(135).name())
                for item in lane.clips:
                    item.colour = QColor(colour)
                    item.update()
                    item.label.update()
        self._apply_audibility()

    def _apply_audibility(self) -> None:
        audible = set(self.model.audible_labels())
        for lane in self.lanes:
            on = lane.track["label"] in audible
            for item in lane.clips:
                item.set_muted(not on)
            lane.wave.fill.setOpacity(0.45 if on else 0.15)

    def _clip_selected(self, clip_id) -> None:
        for lane in self.lanes:
            for item in lane.clips:
                item.set_selected(item.clip_id == clip_id)

    # -- drawing ----------------------------------------------------------------------------

    def refresh_waveforms(self) -> None:
        """Recompute the envelopes for the visible range (called after the view settles)."""
        t0, t1 = self.model.view
        peaks = self.mixture_peaks
        # One scale for the mixture and every stem (the mixture's peak fills its strip), so a
        # quiet stem looks quiet: levels compare across lanes as in a DAW.
        gain = 0.95 / (peaks.peak() if peaks is not None and peaks.covered > 0 else 1.0)
        if peaks is not None and peaks.covered > 0 and not self.show_spectrogram:
            pixels = max(50, self.mixture.plot.width())
            drawn = 0
            for i, wave in enumerate(self.mixture_waves):
                drawn += wave.update(peaks, t0, t1, pixels, i, gain)
            if drawn and not self._drawn_once:
                self._drawn_once = True
                self.waveformDrawn.emit()
        project = self.model.project
        current = project.current if project else None
        for lane in self.lanes:
            stem = current.stem_path(lane.track["label"]) if current else None
            lane_peaks = self.stem_peaks.get(str(stem)) if stem else None
            if lane_peaks is not None and lane_peaks.covered > 0:
                pixels = max(50, lane.strip.plot.width())
                lane.wave.update(lane_peaks, t0, t1, pixels, 0, gain)
                if lane_peaks.covered >= lane_peaks.frames:
                    lane.header.set_peak(lane_peaks.peak())

    def set_spectrogram(self, on: bool) -> None:
        """Show the mixture as a spectrogram (True) or as waveforms."""
        self.show_spectrogram = on
        if self.mixture_header.spectrogram.isChecked() != on:
            self.mixture_header.spectrogram.setChecked(on)
        for wave in self.mixture_waves:
            wave.set_visible(not on)
        for text in self.channel_labels:
            text.setVisible(not on)
        for _hz, item in self.freq_labels:
            item.setVisible(False)
        self.spec_item.setVisible(on)
        if on:
            self.refresh_spectrogram()
        else:
            self.refresh_waveforms()

    def refresh_spectrogram(self) -> None:
        """Compute the visible stretch's spectrogram in a worker (latest request wins)."""
        project = self.model.project
        if project is None or not self.show_spectrogram:
            return
        self._spec_request += 1
        request = self._spec_request
        t0, t1 = self.model.view
        columns = min(1200, max(50, self.mixture.plot.width()))
        self.mixture_header.status.setText("computing spectrogram…")

        def done(spec, error) -> None:
            if request != self._spec_request:
                return
            self.mixture_header.status.setText(f"spectrogram: {error}" if error else "")
            if error is None and self.show_spectrogram:
                self.spec_item.show_spectrogram(spec)
                for hz, item in self.freq_labels:
                    item.setPos(spec.t0, spectrogram.frequency_position(hz, spec.max_hz))
                    item.setVisible(hz < spec.max_hz)

        workers.start(spectrogram.compute, project.recording, t0, t1, columns, on_done=done)

    def _remove_mixture_waves(self) -> None:
        """Take the mixture's per-channel waveform items and channel labels off the plot."""
        for wave in self.mixture_waves:
            for item in (wave.fill, wave.upper, wave.lower):
                self.mixture.box.removeItem(item)
        for text in self.channel_labels:
            self.mixture.box.removeItem(text)
        self.mixture_waves, self.channel_labels = [], []

    def _set_w_only(self, on: bool) -> None:
        self.w_only = on
        self._remove_mixture_waves()
        self._make_mixture_waves()
        self.refresh_waveforms()

    # -- gestures ---------------------------------------------------------------------------

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:  # noqa: N802 - Qt API
        if ev.type() == QEvent.Type.Wheel:
            self._wheel(obj, ev)
            return True
        return super().eventFilter(obj, ev)

    def _wheel(self, viewport, ev) -> None:
        steps = ev.angleDelta().y() / 120 or ev.angleDelta().x() / 120
        mods = ev.modifiers()
        if mods & Qt.KeyboardModifier.ControlModifier:
            x = ev.position().x()
            t0, t1 = self.model.view
            anchor = t0 + (t1 - t0) * x / max(1, viewport.width())
            self.model.zoom(1.25**steps, anchor)
        elif mods & Qt.KeyboardModifier.ShiftModifier or ev.angleDelta().x():
            self.model.scroll(-0.1 * steps)
        else:
            bar = self.scroll.verticalScrollBar()
            bar.setValue(bar.value() - int(steps * LANE_HEIGHT / 2))

    def _clicked(
        self, t: float, button, screen_pos: QPointF, lane: str | None, modifiers=None
    ) -> None:
        shift = modifiers is not None and bool(modifiers & Qt.KeyboardModifier.ShiftModifier)
        if button == Qt.MouseButton.LeftButton and shift:
            # Shift+click extends the selection (or makes one from the playhead) to here.
            sel = self.model.selection
            if sel is None:
                self.model.set_selection(self.model.playhead, t)
            else:
                a, b = sel
                self.model.set_selection(a, t) if abs(t - a) > abs(t - b) else (
                    self.model.set_selection(t, b)
                )
        elif button == Qt.MouseButton.LeftButton:
            self.model.set_playhead(t)
            self.model.set_selection(None)
            self.model.select_clip(None)
        elif button == Qt.MouseButton.RightButton:
            self.range_menu().exec(screen_pos.toPoint())

    def _clip_clicked(self, item: ClipItem, button, screen_pos: QPointF) -> None:
        self.model.select_clip(item.clip_id)
        if button == Qt.MouseButton.RightButton:
            self.clip_menu(item.clip_id).exec(screen_pos.toPoint())

    def clip_menu(self, clip_id: str) -> QMenu:
        """Context menu of a clip: change class, remove, select its range."""
        return menus.clip_menu(self, clip_id)

    def lane_menu(self, label: str) -> QMenu:
        """Context menu of a lane header."""
        return menus.lane_menu(self, label)

    def range_menu(self) -> QMenu:
        """Context menu of the selected time range: add a class, extract more like it."""
        return menus.range_menu(self)
