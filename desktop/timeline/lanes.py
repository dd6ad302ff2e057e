"""Lane widgets: a header (name, class, confidence, mute/solo/colour) beside a plot strip."""

from __future__ import annotations

import math

import pyqtgraph as pg
import soundfile as sf
from PyQt6.QtCore import QPoint, QRectF, Qt, pyqtSignal
from PyQt6.QtGui import QBrush, QColor, QPen
from PyQt6.QtWidgets import (
    QApplication,
    QComboBox,
    QFrame,
    QGraphicsRectItem,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop import theme
from desktop.timeline.items import ClipItem, LaneViewBox, Waveform, format_time
from desktop.timeline.model import LANE_HEIGHTS
from engine.constants import CLASSES

HEADER_WIDTH = 210
CHANGE_CLASS = "Change class…"
LANE_HEIGHT = LANE_HEIGHTS[1]
MIXTURE_HEIGHT = 168


SCROLLBAR = 12
"""Width of the lanes' vertical scroll bar (the rows above leave the same margin)."""


class Strip:
    """One plot strip's shared decorations: selection shade and playhead line."""

    def __init__(self, plot: pg.PlotWidget, box):
        self.plot, self.box = plot, box
        self.shade = QGraphicsRectItem(QRectF(0, 0, 0, 1))
        self.shade.setBrush(QBrush(QColor(*theme.SELECTION)))
        self.shade.setPen(QPen(Qt.PenStyle.NoPen))
        self.shade.setZValue(20)
        self.shade.setVisible(False)
        box.addItem(self.shade, ignoreBounds=True)
        self.playhead = pg.InfiniteLine(angle=90, pen=pg.mkPen(theme.PLAYHEAD, width=1.5))
        self.playhead.setZValue(30)
        box.addItem(self.playhead, ignoreBounds=True)


class ResizeHandle(QWidget):
    """The thin bar under a lane: dragging it up or down sets the lanes' height."""

    HEIGHT = 5

    def __init__(self, on_resize):
        super().__init__()
        self.setFixedHeight(self.HEIGHT)
        self.setCursor(Qt.CursorShape.SizeVerCursor)
        self.setToolTip("drag to make the lanes taller or shorter")
        self.on_resize = on_resize  # (pixels moved since the press, press done?) -> None
        self._pressed_y: float | None = None

    def mousePressEvent(self, ev):  # noqa: N802 - Qt API
        self._pressed_y = ev.globalPosition().y()

    def mouseMoveEvent(self, ev):  # noqa: N802 - Qt API
        if self._pressed_y is not None:
            self.on_resize(ev.globalPosition().y() - self._pressed_y, False)

    def mouseReleaseEvent(self, ev):  # noqa: N802 - Qt API
        if self._pressed_y is not None:
            self.on_resize(ev.globalPosition().y() - self._pressed_y, True)
        self._pressed_y = None


class Lane:
    """A class lane: header, strip, stem envelope and clip items."""

    def __init__(self, track: dict, header: LaneHeader, strip: Strip, row: QWidget, colour: str):
        self.track, self.header, self.strip, self.row = track, header, strip, row
        self.handle: ResizeHandle | None = None
        self.wave = Waveform(strip.box, QColor(colour).lighter(135).name(), 0.42, 0.32)
        self.wave.fill.setOpacity(0.45)
        self.clips: list[ClipItem] = []


def make_strip(lane: str | None, height: int) -> tuple[pg.PlotWidget, LaneViewBox]:
    """A plot strip without axes whose x range the timeline sets (y fixed to 0..1)."""
    box = LaneViewBox(lane)
    plot = pg.PlotWidget(viewBox=box, background=theme.LANE)
    plot.hideAxis("left")
    plot.hideAxis("bottom")
    plot.setMenuEnabled(False)
    plot.hideButtons()  # pyqtgraph's "A" auto-range: the timeline owns the x range
    plot.getPlotItem().layout.setContentsMargins(0, 0, 0, 0)
    plot.setFixedHeight(height)
    plot.setFrameShape(QFrame.Shape.NoFrame)
    box.setYRange(0, 1, padding=0)
    return plot, box


class _Grip(QLabel):
    """The lane name: press and move to drag the whole stem out."""

    dragStarted = pyqtSignal()

    def __init__(self, text: str):
        super().__init__(text)
        self.setObjectName("LaneName")
        self.setCursor(Qt.CursorShape.OpenHandCursor)
        self._press: QPoint | None = None

    def mousePressEvent(self, ev):  # noqa: N802 - Qt API
        if ev.button() == Qt.MouseButton.LeftButton:
            self._press = ev.position().toPoint()
        super().mousePressEvent(ev)

    def mouseMoveEvent(self, ev):  # noqa: N802 - Qt API
        if self._press is not None:
            moved = (ev.position().toPoint() - self._press).manhattanLength()
            if moved >= QApplication.startDragDistance():
                self._press = None
                self.dragStarted.emit()
        super().mouseMoveEvent(ev)

    def mouseReleaseEvent(self, ev):  # noqa: N802 - Qt API
        self._press = None
        super().mouseReleaseEvent(ev)


class LaneHeader(QFrame):
    """Header of a class lane; emits what the user asked for, changes nothing itself."""

    classChosen = pyqtSignal(str, str)  # track, new label
    muteToggled = pyqtSignal(str, bool)
    soloToggled = pyqtSignal(str, bool)
    colourClicked = pyqtSignal(str)
    dragRequested = pyqtSignal(str)
    menuRequested = pyqtSignal(str, QPoint)

    def __init__(self, track: dict, colour: str, mute: bool, solo: bool):
        super().__init__()
        self.setObjectName("LaneHeader")
        self.label = track["label"]
        self.setFixedSize(HEADER_WIDTH, LANE_HEIGHT)
        outer = QHBoxLayout(self)
        outer.setContentsMargins(0, 0, 6, 0)
        outer.setSpacing(6)
        self.swatch = QToolButton()
        self.swatch.setFixedWidth(7)
        self.swatch.setSizePolicy(
            self.swatch.sizePolicy().horizontalPolicy(), self.swatch.sizePolicy().verticalPolicy()
        )
        self.swatch.setMinimumHeight(LANE_HEIGHT - 1)
        self.swatch.setToolTip("lane colour")
        self.swatch.clicked.connect(lambda: self.colourClicked.emit(self.label))
        outer.addWidget(self.swatch)
        col = QVBoxLayout()
        col.setContentsMargins(0, 5, 0, 5)
        col.setSpacing(3)
        top = QHBoxLayout()
        self.name = _Grip(self.label)
        self.name.setToolTip("drag the lane out as a WAV file")
        self.name.dragStarted.connect(lambda: self.dragRequested.emit(self.label))
        top.addWidget(self.name, 1)
        self.mute = self._toggle("M", "Mute", "mute this lane", mute)
        self.mute.toggled.connect(lambda on: self.muteToggled.emit(self.label, on))
        self.solo = self._toggle("S", "Solo", "play only soloed lanes", solo)
        self.solo.toggled.connect(lambda on: self.soloToggled.emit(self.label, on))
        top.addWidget(self.mute)
        top.addWidget(self.solo)
        col.addLayout(top)
        clips = track.get("clips", [])
        self.facts = (
            f"conf {track.get('confidence', 0.0):.2f} · {len(clips)} clip{'s' * (len(clips) != 1)}"
        )
        self.detail = QLabel(self.facts)
        self.detail.setObjectName("LaneDetail")
        col.addWidget(self.detail)
        self.peak_db: float | None = None
        self.combo = QComboBox()
        self.combo.addItem(CHANGE_CLASS)
        self.combo.addItems(CLASSES)
        self.combo.setToolTip("change the class of the whole lane and re-extract it")
        self.combo.activated.connect(self._chosen)
        col.addWidget(self.combo)
        outer.addLayout(col, 1)
        self.set_colour(colour)

    def set_height(self, height: int) -> None:
        """Fit the header to a lane of `height` pixels (short lanes keep name, M and S)."""
        self.setFixedHeight(height)
        self.swatch.setMinimumHeight(height - 1)
        self.combo.setVisible(height >= 70)
        self.detail.setVisible(height >= 50)

    def set_peak(self, peak: float) -> None:
        """Show the stem's peak level (linear full scale 1.0) in dBFS beside the lane's facts."""
        db = 20 * math.log10(peak) if peak > 1e-6 else None
        if db == self.peak_db:
            return
        self.peak_db = db
        level = "silent" if db is None else f"peak {db:.0f} dBFS"
        self.detail.setText(f"{self.facts} · {level}")

    @staticmethod
    def _toggle(text: str, name: str, tip: str, on: bool) -> QToolButton:
        b = QToolButton()
        b.setText(text)
        b.setObjectName(name)
        b.setCheckable(True)
        b.setChecked(on)
        b.setToolTip(tip)
        b.setFixedSize(20, 18)
        return b

    def contextMenuEvent(self, ev) -> None:  # noqa: N802 - Qt API
        self.menuRequested.emit(self.label, ev.globalPos())

    def _chosen(self, index: int) -> None:
        self.combo.setCurrentIndex(0)
        new = self.combo.itemText(index)
        if index > 0 and new != self.label:
            self.classChosen.emit(self.label, new)

    def set_colour(self, colour: str) -> None:
        """Show the lane colour on the swatch."""
        self.swatch.setStyleSheet(
            f"QToolButton {{ background: {colour}; border: none; border-radius: 0; padding: 0; }}"
        )

    def set_state(self, mute: bool, solo: bool, colour: str) -> None:
        """Reflect the model's lane state without emitting signals."""
        for button, on in ((self.mute, mute), (self.solo, solo)):
            button.blockSignals(True)
            button.setChecked(on)
            button.blockSignals(False)
        self.set_colour(colour)


class MixtureHeader(QFrame):
    """Header of the mixture lane: file facts, channel view and spectrogram toggle."""

    channelModeChanged = pyqtSignal(bool)  # True: W only
    spectrogramToggled = pyqtSignal(bool)

    def __init__(self):
        super().__init__()
        self.setObjectName("LaneHeader")
        self.setFixedSize(HEADER_WIDTH, MIXTURE_HEIGHT)
        col = QVBoxLayout(self)
        col.setContentsMargins(12, 8, 8, 8)
        col.setSpacing(5)
        self.name = QLabel("Mixture")
        self.name.setObjectName("LaneName")
        col.addWidget(self.name)
        self.detail = QLabel("")
        self.detail.setObjectName("LaneDetail")
        self.detail.setWordWrap(True)
        col.addWidget(self.detail)
        self.channels = QComboBox()
        self.channels.addItems(["All channels", "W only"])
        self.channels.setToolTip("draw every channel or only W (omni)")
        self.channels.currentIndexChanged.connect(lambda i: self.channelModeChanged.emit(i == 1))
        col.addWidget(self.channels)
        row = QWidget()
        r = QHBoxLayout(row)
        r.setContentsMargins(0, 0, 0, 0)
        self.spectrogram = QToolButton()
        self.spectrogram.setText("Spectrogram")
        self.spectrogram.setCheckable(True)
        self.spectrogram.setObjectName("SpecToggle")
        self.spectrogram.setToolTip("show the spectrogram of the visible stretch")
        self.spectrogram.toggled.connect(self.spectrogramToggled.emit)
        r.addWidget(self.spectrogram)
        r.addStretch(1)
        col.addWidget(row)
        col.addStretch(1)
        self.status = QLabel("")
        self.status.setObjectName("LaneDetail")
        col.addWidget(self.status)

    def set_facts(self, text: str) -> None:
        """Describe the file (channels, layout, rate, length)."""
        self.detail.setText(text)


def lane_colour(state_colour: str, label: str) -> str:
    """The colour a lane is drawn in: the user's choice, else its class colour."""
    return (
        state_colour
        if state_colour and QColor(state_colour).isValid()
        else theme.class_colour(label)
    )


def describe_file(path: str) -> str:
    """Channels, layout, rate and length of an audio file, as the mixture header shows them."""
    info = sf.info(path)
    layout = {
        4: "FOA (W Y Z X)",
        1: "mono, used as W",
        2: "stereo, as mid/side",
    }.get(info.channels, "pick channels")
    length = format_time(info.duration, 10)
    return f"{info.channels} ch · {layout}\n{info.samplerate / 1000:g} kHz · {length}"
