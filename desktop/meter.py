"""The playback level meter: two horizontal bars (left, right) in dBFS with a held peak.

The held peak of the louder channel is also written beside the bars ("-6.0"), the number
sound editors read to set gain.

A plain widget fed by `Player.levelsChanged`; it draws what it is given and holds each
channel's peak for a moment, as the meters of sound editors do, so a short transient stays
readable. A level at or above -0.1 dBFS lights the clip mark until playback stops.
"""

from __future__ import annotations

import math
import time

from PyQt6.QtCore import QRectF, Qt
from PyQt6.QtGui import QColor, QPainter
from PyQt6.QtWidgets import QSizePolicy, QWidget

from desktop import theme

FLOOR_DB = -60.0
"""The left end of the scale."""
CLIP_DB = -0.1
HOLD_S = 1.5
"""How long a peak stays marked."""
TICKS_DB = (-48, -36, -24, -12, -6, 0)
READOUT_PX = 40
"""Width of the peak readout right of the bars."""


def fraction(db: float) -> float:
    """Position of `db` on the meter's scale, 0 (floor or silence) to 1 (0 dBFS)."""
    if not math.isfinite(db) or db <= FLOOR_DB:
        return 0.0
    return min(1.0, (db - FLOOR_DB) / -FLOOR_DB)


class LevelMeter(QWidget):
    """Two bars, left over right; `set_levels(l_db, r_db)` from the player's ticks."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.levels = [-math.inf, -math.inf]
        self.peaks = [-math.inf, -math.inf]
        self._peak_at = [0.0, 0.0]
        self.clipped = False
        self.setMinimumSize(140 + READOUT_PX, 22)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setToolTip("playback level, peak dBFS (left / right)")

    def set_levels(self, left_db: float, right_db: float, now: float | None = None) -> None:
        """Show new levels; -inf on both (playback stopped) clears the meter."""
        now = time.monotonic() if now is None else now
        if not math.isfinite(left_db) and not math.isfinite(right_db):
            self.levels = [-math.inf, -math.inf]
            self.peaks = [-math.inf, -math.inf]
            self.clipped = False
        else:
            self.levels = [left_db, right_db]
            for i, db in enumerate(self.levels):
                if db >= self.peaks[i] or now - self._peak_at[i] > HOLD_S:
                    self.peaks[i], self._peak_at[i] = db, now
                self.clipped |= db >= CLIP_DB
        self.update()

    def peak_text(self) -> str:
        """The held peak of the louder channel in dBFS ("-6.0"), "" while silent or stopped."""
        peak = max(self.peaks)
        if not math.isfinite(peak) or peak <= FLOOR_DB:
            return ""
        return f"{peak:+.1f}" if peak > 0 else f"{peak:.1f}"

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt API
        p = QPainter(self)
        w, h = self.width() - 8 - READOUT_PX, self.height()
        bar_h = (h - 8) / 2
        p.fillRect(self.rect(), QColor(theme.PANEL))
        for i in range(2):
            top = 2 + i * (bar_h + 2)
            p.fillRect(QRectF(0, top, w, bar_h), QColor(theme.LANE))
            level = fraction(self.levels[i])
            colour = "#e0b84f" if self.levels[i] > -6 else theme.WAVEFORM
            p.fillRect(QRectF(0, top, w * level, bar_h), QColor(colour))
            peak = fraction(self.peaks[i])
            if peak > 0:
                p.fillRect(QRectF(w * peak - 1, top, 2, bar_h), QColor(theme.TEXT))
        p.setPen(QColor(theme.TEXT_DIM))
        for db in TICKS_DB:
            x = w * fraction(db)
            p.drawLine(int(x), h - 4, int(x), h - 1)
        p.fillRect(
            QRectF(w + 2, 2, 6, h - 6), QColor(theme.PLAYHEAD if self.clipped else theme.GRID)
        )
        p.setPen(QColor(theme.PLAYHEAD if self.clipped else theme.TEXT))
        readout = QRectF(w + 8, 0, READOUT_PX, h)
        p.drawText(
            readout,
            int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
            self.peak_text(),
        )
        p.end()

    def sizeHint(self):  # noqa: N802 - Qt API
        return self.minimumSize()
