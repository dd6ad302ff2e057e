"""The editor's look: a dark palette, one stylesheet and a stable colour per sound class."""

from __future__ import annotations

from PyQt6.QtGui import QColor, QPalette
from PyQt6.QtWidgets import QApplication

from engine.constants import CLASSES

BACKGROUND = "#1e1f22"
PANEL = "#26282c"
LANE = "#1a1b1e"
LANE_ALT = "#1d1f23"
GRID = "#34373d"
TEXT = "#d8dadf"
TEXT_DIM = "#8b9099"
ACCENT = "#4f9dff"
PLAYHEAD = "#ff5a4f"
SELECTION = (79, 157, 255, 48)
WAVEFORM = "#5fb3a1"

# Hand-picked hues, spread so neighbouring classes differ; one per class in CLASSES order.
_CLASS_HUES = (0, 200, 40, 280, 120, 330, 20, 160, 260, 60, 300, 180, 90, 230, 10, 210, 140, 350)
CLASS_COLOURS = {
    label: QColor.fromHsv(hue, 150, 225).name()
    for label, hue in zip(CLASSES, _CLASS_HUES, strict=True)
}

STYLESHEET = f"""
QMainWindow, QWidget {{ background: {BACKGROUND}; color: {TEXT}; font-size: 10pt; }}
QLabel {{ background: transparent; }}
QFrame#LaneHeader QWidget {{ background: transparent; }}
QFrame#LaneHeader QComboBox {{ background: {LANE}; }}
QToolBar {{ background: {PANEL}; border: none; border-bottom: 1px solid {GRID}; spacing: 4px;
    padding: 3px; }}
QToolButton {{ background: transparent; border: 1px solid transparent; border-radius: 4px;
    padding: 3px 8px; color: {TEXT}; }}
QToolButton:hover {{ border-color: {GRID}; background: #30333a; }}
QToolButton:checked {{ background: #34435a; border-color: {ACCENT}; }}
QToolButton:disabled {{ color: #5c6068; }}
QStatusBar {{ background: {PANEL}; border-top: 1px solid {GRID}; color: {TEXT_DIM}; }}
QStatusBar QLabel {{ color: {TEXT_DIM}; padding: 0 6px; }}
QProgressBar {{ background: {LANE}; border: 1px solid {GRID}; border-radius: 3px; height: 12px;
    text-align: center; color: {TEXT}; font-size: 8pt; }}
QProgressBar::chunk {{ background: {ACCENT}; border-radius: 2px; }}
QMenuBar {{ background: {PANEL}; }}
QMenuBar::item:selected, QMenu::item:selected {{ background: #34435a; }}
QMenu {{ background: {PANEL}; border: 1px solid {GRID}; }}
QComboBox {{ background: {LANE}; border: 1px solid {GRID}; border-radius: 3px; padding: 1px 4px; }}
QComboBox QAbstractItemView {{ background: {PANEL}; selection-background-color: #34435a; }}
QPushButton {{ background: #30333a; border: 1px solid {GRID}; border-radius: 3px;
    padding: 3px 10px; }}
QPushButton:checked {{ background: #34435a; border-color: {ACCENT}; }}
QScrollBar:horizontal {{ background: {LANE}; height: 12px; }}
QScrollBar:vertical {{ background: {LANE}; width: 12px; }}
QScrollBar::handle {{ background: #40444c; border-radius: 4px; min-width: 24px; min-height: 24px; }}
QScrollBar::add-line, QScrollBar::sub-line {{ width: 0; height: 0; }}
QFrame#LaneHeader {{ background: {PANEL}; border-bottom: 1px solid {GRID};
    border-right: 1px solid {GRID}; }}
QFrame#LaneHeader[selected="true"] {{ background: #2d3440; }}
QLabel#LaneName {{ font-weight: bold; font-size: 10pt; }}
QLabel#LaneDetail {{ color: {TEXT_DIM}; font-size: 8pt; }}
QToolButton#Mute, QToolButton#Solo {{ padding: 0; border: 1px solid {GRID}; font-size: 8pt;
    font-weight: bold; }}
QFrame#LaneHeader QToolButton#SpecToggle {{ border: 1px solid {GRID}; padding: 2px 8px; }}
QFrame#LaneHeader QToolButton#SpecToggle:checked {{ background: #34435a; border-color: {ACCENT}; }}
QToolButton#Mute:checked {{ background: #6b5320; border-color: #e0a530; }}
QToolButton#Solo:checked {{ background: #2f5a33; border-color: #5fd068; }}
QFrame#Banner {{ background: #5a2a2a; border-bottom: 1px solid #a04848; }}
QLabel#Empty {{ color: {TEXT_DIM}; font-size: 13pt; }}
"""


def class_colour(label: str) -> str:
    """Default colour of a class lane (grey for unknown labels)."""
    return CLASS_COLOURS.get(label, "#9aa0a8")


def apply(app: QApplication) -> None:
    """Give the application the dark palette and stylesheet."""
    app.setStyle("Fusion")
    pal = QPalette()
    for role, colour in (
        (QPalette.ColorRole.Window, BACKGROUND),
        (QPalette.ColorRole.Base, LANE),
        (QPalette.ColorRole.AlternateBase, PANEL),
        (QPalette.ColorRole.Button, PANEL),
        (QPalette.ColorRole.Text, TEXT),
        (QPalette.ColorRole.WindowText, TEXT),
        (QPalette.ColorRole.ButtonText, TEXT),
        (QPalette.ColorRole.Highlight, ACCENT),
        (QPalette.ColorRole.ToolTipBase, PANEL),
        (QPalette.ColorRole.ToolTipText, TEXT),
    ):
        pal.setColor(role, QColor(colour))
    app.setPalette(pal)
    app.setStyleSheet(STYLESHEET)
