"""The window's actions laid out in menus and the toolbar (the actions themselves are made by
the window, bound to its slots)."""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QAction, QKeySequence
from PyQt6.QtWidgets import QLabel, QMainWindow, QToolBar, QToolButton


def make_action(
    window: QMainWindow, text: str, slot, shortcut=None, checkable=False, tip=""
) -> QAction:
    """An action of `window` with shortcuts (a key, a standard key or a list of them)."""
    action = QAction(text, window)
    if shortcut is not None:
        keys = shortcut if isinstance(shortcut, list) else [shortcut]
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    action.setCheckable(checkable)
    action.setToolTip(tip or text)
    action.triggered.connect(slot)
    window.addAction(action)
    return action


def build_menus(w) -> None:
    """File, Edit, View, Transport and Engine menus of the main window `w`."""
    bar = w.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.addAction(w.act_open)
    w.recent_menu = file_menu.addMenu("Open Recent")
    w.recent_menu.aboutToShow.connect(w.fill_recent_menu)
    for act in (w.act_save, w.act_save_as, w.act_export, w.act_export_session):
        file_menu.addAction(act)
    file_menu.addSeparator()
    file_menu.addAction(w.act_quit)
    edit = bar.addMenu("&Edit")
    for act in (w.act_undo, w.act_redo, w.act_delete):
        edit.addAction(act)
    edit.addAction("Add class / extract over selection…", w._range_menu)
    view = bar.addMenu("&View")
    for act in (w.act_zoom_in, w.act_zoom_out, w.act_zoom_sel, w.act_fit, w.act_spec):
        view.addAction(act)
    view.addSeparator()
    view.addAction(w.act_taller)
    view.addAction(w.act_shorter)
    transport = bar.addMenu("&Transport")
    for act in (w.act_play, w.act_play_loop, w.act_stems, w.act_home, w.act_end):
        transport.addAction(act)
    engine = bar.addMenu("E&ngine")
    for act in (w.act_separate, w.act_cancel, w.act_restart, w.act_engine):
        engine.addAction(act)


def build_toolbar(w) -> QLabel:
    """The main toolbar of `w`; returns its time display."""
    tools = QToolBar("Main")
    tools.setMovable(False)
    tools.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    for act in (w.act_open, w.act_save, w.act_export):
        tools.addAction(act)
    tools.addSeparator()
    tools.addAction(w.act_separate)
    tools.addAction(w.act_cancel)
    tools.addSeparator()
    tools.addAction(w.act_play)
    tools.addAction(w.act_stems)
    time_label = QLabel("0:00.0")
    time_label.setMinimumWidth(110)
    time_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    time_label.setStyleSheet("font-family: monospace; font-size: 12pt; color: #e8eaee;")
    tools.addWidget(time_label)
    tools.addSeparator()
    for act, text in ((w.act_undo, "Undo"), (w.act_redo, "Redo")):
        tools.addWidget(_short_button(act, text))
    tools.addSeparator()
    # Zoom as − / + (their names and keys in the tooltips) so the toolbar fits 1024 px; the
    # spectrogram toggle lives on the mixture's header and in the View menu.
    tools.addWidget(_short_button(w.act_zoom_out, "−"))
    tools.addWidget(_short_button(w.act_zoom_in, "+"))
    tools.addAction(w.act_fit)
    w.addToolBar(tools)
    return time_label


def _short_button(action, text: str) -> QToolButton:
    """A toolbar button that runs `action` under a fixed short `text`; the action's own text
    ("Undo Remove clip c2", as QUndoStack words it) goes to the tooltip, so the toolbar keeps
    its width."""
    button = QToolButton()
    button.setText(text)
    button.setAutoRaise(True)
    button.clicked.connect(action.trigger)

    def sync() -> None:
        button.setEnabled(action.isEnabled())
        shortcut = action.shortcut().toString()
        button.setToolTip(action.text() + (f" ({shortcut})" if shortcut else ""))

    action.changed.connect(sync)
    sync()
    return button
