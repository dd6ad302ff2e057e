"""Graphics items of the timeline: clips, waveform envelopes, the time axis and lane view boxes.

Items draw in the lane's data coordinates (x: seconds, y: 0..1); text and corners are painted in
device pixels so they stay crisp at every zoom.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QPointF, QRectF, Qt
from PyQt6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPen

from desktop import theme
from desktop.timeline.peaks import PeakPyramid


def format_time(t: float, span: float = 60.0) -> str:
    """`m:ss`, `m:ss.s` or `m:ss.mmm` depending on how far one is zoomed in."""
    t = max(0.0, t)
    m, s = divmod(t, 60.0)
    h, m = divmod(int(m), 60)
    if span < 2:
        sec = f"{s:06.3f}"
    elif span < 30:
        sec = f"{s:04.1f}"
    else:
        sec = f"{int(s):02d}"
    return f"{h}:{m:02d}:{sec}" if h else f"{m}:{sec}"


TIME_STEPS = (
    *(m * 10.0**e for e in range(-3, 1) for m in (1, 2, 5)),
    *(10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200),
)
"""Ruler steps in seconds: decimal below 10 s, then what clocks show (15 s, 1 min, 5 min, 1 h)."""


def time_tick_spacing(span_s: float, pixels: float, min_px: float = 90.0) -> tuple[float, float]:
    """(major, minor) ruler steps for `span_s` seconds over `pixels`: the smallest round time
    step whose labels are at least `min_px` apart, and a step that divides it 3-6 times."""
    want = span_s * min_px / max(pixels, 1.0)
    major = next((step for step in TIME_STEPS if step >= want * (1 - 1e-9)), TIME_STEPS[-1])
    for step in reversed(TIME_STEPS):
        ratio = major / step
        if step < major and 3 <= ratio <= 6 and abs(ratio - round(ratio)) < 1e-6:
            return major, step
    return major, major


class TimeAxis(pg.AxisItem):
    """Time ruler labels in minutes:seconds, at round time values on files of any length."""

    def tickSpacing(self, minVal, maxVal, size):  # noqa: N802,N803 - pyqtgraph API
        major, minor = time_tick_spacing(maxVal - minVal, size)
        return [(major, 0.0), (minor, 0.0)]

    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph API
        # As many decimals as the step needs: 1:30 for minutes, 0:02.5 for half seconds.
        span = 60.0 if spacing >= 1 else 10.0 if spacing >= 0.1 else 1.0
        return [format_time(v, span) for v in values]


class LaneViewBox(pg.ViewBox):
    """A view box without pyqtgraph's own pan/zoom; forwards clicks and drags in seconds."""

    def __init__(self, lane: str | None = None):
        super().__init__(enableMenu=False, defaultPadding=0.0)
        self.lane = lane
        self.setMouseEnabled(False, False)
        # (seconds, button, screen position, keyboard modifiers)
        self.on_click: Callable[[float, Qt.MouseButton, QPointF, object], None] | None = None
        self.on_drag: Callable[[float, float, bool], None] | None = None
        self.on_hover: Callable[[float], None] | None = None

    def mouseClickEvent(self, ev):  # noqa: N802 - pyqtgraph API
        if self.on_click is None:
            return super().mouseClickEvent(ev)
        ev.accept()
        t = self.mapSceneToView(ev.scenePos()).x()
        self.on_click(t, ev.button(), ev.screenPos(), ev.modifiers())

    def mouseDragEvent(self, ev, axis=None):  # noqa: N802 - pyqtgraph API
        if self.on_drag is None or ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        ev.accept()
        a = self.mapSceneToView(ev.buttonDownScenePos()).x()
        b = self.mapSceneToView(ev.scenePos()).x()
        self.on_drag(a, b, ev.isFinish())

    def hoverEvent(self, ev):  # noqa: N802 - pyqtgraph API
        if self.on_hover is not None and not ev.isExit():
            self.on_hover(self.mapSceneToView(ev.scenePos()).x())

    def wheelEvent(self, ev, axis=None):  # noqa: N802 - the timeline handles wheels itself
        ev.ignore()


class ClipItem(pg.GraphicsObject):
    """A clip: a rounded rectangle in its lane's colour, with its label and confidence."""

    def __init__(self, clip: dict, colour: str):
        super().__init__()
        self.clip = clip
        self.colour = QColor(colour)
        self.selected = False
        self.muted = False
        self.hovered = False
        self.on_click: Callable[[ClipItem, Qt.MouseButton, QPointF], None] | None = None
        self.on_drag_out: Callable[[ClipItem], None] | None = None
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.OpenHandCursor)
        self.setZValue(10)
        self.label = ClipLabel(self)
        self.setToolTip(
            f"{clip['label']}  {clip['start_s']:.2f}-{clip['end_s']:.2f} s\n"
            f"confidence {clip.get('confidence', 0):.2f}, energy {clip.get('energy', 0):.2f}\n"
            "drag out as WAV; right-click to change class"
        )
        self.label.setToolTip(self.toolTip())

    @property
    def clip_id(self) -> str:
        """The clip's id in the manifest."""
        return self.clip["id"]

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        c = self.clip
        return QRectF(c["start_s"], 0.08, max(c["end_s"] - c["start_s"], 1e-6), 0.84)

    def set_selected(self, on: bool) -> None:
        """Draw with the selection outline."""
        if on != self.selected:
            self.selected = on
            self.update()
            self.label.update()

    def set_muted(self, on: bool) -> None:
        """Draw dimmed (lane muted or not audible)."""
        if on != self.muted:
            self.muted = on
            self.update()
            self.label.update()

    def hoverEnterEvent(self, ev):  # noqa: N802 - Qt API
        self.hovered = True
        self.update()
        self.label.update()

    def hoverLeaveEvent(self, ev):  # noqa: N802 - Qt API
        self.hovered = False
        self.update()
        self.label.update()

    def mouseClickEvent(self, ev):  # noqa: N802 - pyqtgraph API
        ev.accept()
        if self.on_click is not None:
            self.on_click(self, ev.button(), ev.screenPos())

    def mouseDragEvent(self, ev):  # noqa: N802 - pyqtgraph API
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        ev.accept()
        if ev.isStart() and self.on_drag_out is not None:
            self.on_drag_out(self)

    def paint(self, p: QPainter, *args) -> None:
        r = p.transform().mapRect(self.boundingRect())
        p.save()
        p.resetTransform()
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        fill = QColor(self.colour)
        fill.setAlpha(40 if self.muted else 85)
        border = (
            QColor("#ffffff")
            if self.selected
            else self.colour.lighter(150 if self.hovered else 115)
        )
        if self.muted:
            border.setAlpha(120)
        p.setBrush(QBrush(fill))
        p.setPen(QPen(border, 2.0 if self.selected else 1.2))
        p.drawRoundedRect(r.adjusted(0.5, 0.5, -0.5, -0.5), 5, 5)
        p.restore()


def clip_title(
    label: str, confidence: float, metrics: QFontMetricsF, width: float
) -> tuple[str, str]:
    """A clip's title band text: the label, elided with "…" when the clip is narrow, and the
    confidence ("" when both do not fit)."""
    conf = f"{confidence:.2f}"
    if metrics.horizontalAdvance(f"{label}   {conf}") <= width:
        return label, conf
    return metrics.elidedText(label, Qt.TextElideMode.ElideRight, width), ""


class ClipLabel(pg.GraphicsObject):
    """The title band of a clip (label and confidence), drawn above the stem's waveform."""

    def __init__(self, clip: ClipItem):
        super().__init__()
        self.clip_item = clip
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.OpenHandCursor)
        self.setZValue(14)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return self.clip_item.boundingRect()

    def paint(self, p: QPainter, *args) -> None:
        item = self.clip_item
        r = p.transform().mapRect(self.boundingRect()).adjusted(1, 1, -1, -1)
        if r.width() < 24:
            return
        p.save()
        p.resetTransform()
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        band = QRectF(r.left(), r.top(), r.width(), min(17.0, r.height()))
        colour = QColor(item.colour).darker(170 if item.muted else 135)
        colour.setAlpha(150 if item.muted else 225)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(colour)
        p.drawRoundedRect(band, 4, 4)
        font = QFont()
        font.setPointSizeF(8.0)
        font.setBold(True)
        p.setFont(font)
        p.setPen(QColor(theme.TEXT_DIM) if item.muted else QColor("#f4f5f7"))
        text = band.adjusted(6, 0, -4, 0)
        title, conf = clip_title(
            item.clip["label"], item.clip.get("confidence", 0.0), QFontMetricsF(font), text.width()
        )
        flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        p.drawText(text, flags, title)
        if conf:
            font.setBold(False)
            p.setFont(font)
            right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
            p.drawText(text, right, conf)
        p.restore()

    # The label band lies over its clip (and above the stem's waveform), so it takes the
    # pointer first; the clip decides what a click, drag or hover means.
    def hoverEnterEvent(self, ev):  # noqa: N802 - Qt API
        self.clip_item.hoverEnterEvent(ev)

    def hoverLeaveEvent(self, ev):  # noqa: N802 - Qt API
        self.clip_item.hoverLeaveEvent(ev)

    def mouseClickEvent(self, ev):  # noqa: N802 - pyqtgraph API
        self.clip_item.mouseClickEvent(ev)

    def mouseDragEvent(self, ev):  # noqa: N802 - pyqtgraph API
        self.clip_item.mouseDragEvent(ev)


class Waveform:
    """Min/max envelope of one channel of a peak pyramid, filled, at a vertical position."""

    def __init__(self, view: pg.ViewBox, colour: str, centre: float, half_height: float):
        self.centre, self.half = centre, half_height
        self.upper = pg.PlotCurveItem(antialias=False)
        self.lower = pg.PlotCurveItem(antialias=False)
        self.fill = pg.FillBetweenItem(self.upper, self.lower)
        self.set_colour(colour)
        for item in (self.fill, self.upper, self.lower):
            item.setZValue(12)  # above clip fills: a clip shows the audio it holds
            view.addItem(item)
        self.points = 0

    def update(
        self, peaks: PeakPyramid, t0: float, t1: float, pixels: int, channel: int, gain: float
    ) -> int:
        """Redraw for t0..t1 over `pixels` columns; returns the number of columns drawn."""
        v = peaks.view(t0, t1, pixels, channel)
        scale = self.half * gain
        hi = self.centre + np.clip(v.maxs * scale, -self.half, self.half)
        lo = self.centre + np.clip(v.mins * scale, -self.half, self.half)
        # A flat line still needs a visible thickness.
        hi = np.maximum(hi, self.centre + 0.004)
        lo = np.minimum(lo, self.centre - 0.004)
        self.upper.setData(v.times, hi)
        self.lower.setData(v.times, lo)
        self.points = len(v.times)
        return self.points

    def set_colour(self, colour: str) -> None:
        """Draw in `colour` (outline) with a translucent fill."""
        pen = pg.mkPen(QColor(colour), width=1)
        self.upper.setPen(pen)
        self.lower.setPen(pen)
        fill = QColor(colour)
        fill.setAlpha(150)
        self.fill.setBrush(QBrush(fill))

    def set_visible(self, on: bool) -> None:
        """Show or hide the envelope."""
        for item in (self.fill, self.upper, self.lower):
            item.setVisible(on)

    def clear(self) -> None:
        """Draw nothing."""
        self.upper.setData([], [])
        self.lower.setData([], [])
        self.points = 0
