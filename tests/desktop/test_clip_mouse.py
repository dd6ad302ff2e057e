"""Clips answer the mouse as a person uses it: real press/move/release events on the lane's
viewport (QTest), context menus chosen with the keyboard, dialogs answered by their buttons."""

from __future__ import annotations

from PyQt6.QtCore import QEvent, QPoint, QPointF, Qt, QTimer
from PyQt6.QtGui import QDragEnterEvent, QDropEvent, QMouseEvent
from PyQt6.QtTest import QTest
from PyQt6.QtWidgets import QApplication, QMessageBox

from tests.desktop.conftest import screenshot, settle, wait_job


def separated(qtbot, window, recording):
    assert window.open_path(str(recording))
    window.act_separate.trigger()
    wait_job(qtbot, window)
    assert [lane.track["label"] for lane in window.timeline.lanes] == [
        "Dishes",
        "Doorbell",
        "Speech",
    ]
    settle(qtbot, window, 200)


def clip_at(window, clip_id: str):
    """The clip item, its lane's viewport and the viewport pixel at the clip's centre."""
    for lane in window.timeline.lanes:
        for item in lane.clips:
            if item.clip_id == clip_id:
                c = item.clip
                scene = lane.strip.box.mapViewToScene(QPointF((c["start_s"] + c["end_s"]) / 2, 0.5))
                return item, lane.strip.plot.viewport(), lane.strip.plot.mapFromScene(scene)
    raise AssertionError(f"no clip {clip_id} drawn")


CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def send_mouse(widget, kind, pos: QPoint, button, buttons) -> None:
    """A mouse event with the given held buttons (QTest.mouseMove cannot hold a button)."""
    glob = QPointF(widget.mapToGlobal(pos))
    event = QMouseEvent(kind, QPointF(pos), glob, button, buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def choose_from_popup(qtbot, text: str, seen: list) -> None:
    """When the next popup menu opens: remember its entries, pick `text` with the keyboard."""

    def pick():
        popup = QApplication.activePopupWidget()
        if popup is None:
            QTimer.singleShot(50, pick)
            return
        seen.extend(a.text() for a in popup.actions())
        action = next(a for a in popup.actions() if a.text().startswith(text))
        popup.setActiveAction(action)
        QTest.keyClick(popup, Qt.Key.Key_Return)

    QTimer.singleShot(100, pick)


def answer_dialog(button: QMessageBox.StandardButton, texts: list) -> None:
    """When the next message box opens: remember its text and press `button`."""

    def press():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(50, press)
            return
        texts.append(box.text())
        QTest.mouseClick(box.button(button), Qt.MouseButton.LeftButton)

    QTimer.singleShot(100, press)


def test_click_selects_a_clip_and_delete_removes_it(qtbot, window, recording, fake_engine):
    separated(qtbot, window, recording)
    # No pyqtgraph "A" (auto-range) button over the lanes: the timeline owns the x range.
    assert all(lane.strip.plot.getPlotItem().buttonsHidden for lane in window.timeline.lanes)
    item, viewport, pos = clip_at(window, "c2")
    QTest.mouseMove(viewport, pos)
    qtbot.waitUntil(lambda: item.hovered, timeout=2000)
    QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=pos)
    qtbot.waitUntil(lambda: window.model.selected_clip == "c2", timeout=2000)
    assert item.selected and window.act_delete.isEnabled()
    screenshot(window, "clip_selected_by_click")
    qtbot.keyClick(window, Qt.Key.Key_Delete)
    wait_job(qtbot, window)
    assert fake_engine.client.calls[-1][2] == {"kind": "remove_clip", "clip_id": "c2"}
    assert window.model.selected_clip is None


def test_right_click_menu_changes_a_clips_class(qtbot, window, recording, fake_engine):
    separated(qtbot, window, recording)
    _item, viewport, pos = clip_at(window, "c0")
    seen: list[str] = []
    choose_from_popup(qtbot, "Remove clip", seen)
    QTest.mouseClick(viewport, Qt.MouseButton.RightButton, pos=pos)
    wait_job(qtbot, window)
    assert seen[0] == "Change class to" and any(s.startswith("Remove clip") for s in seen)
    assert fake_engine.client.calls[-1][2] == {"kind": "remove_clip", "clip_id": "c0"}
    assert window.model.project.version == 2


def test_dragging_a_clip_starts_a_drag_of_its_wav(qtbot, window, recording, monkeypatch):
    from desktop import dragout

    separated(qtbot, window, recording)
    started = []
    # The OS drag loop itself is Qt's; what matters is that the mouse starts it with the clip.
    monkeypatch.setattr(
        dragout, "start_drag", lambda source, mime, text, colour: started.append((mime, text))
    )
    _item, viewport, pos = clip_at(window, "c1")
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    send_mouse(viewport, QEvent.Type.MouseButtonPress, pos, left, left)
    for dx in (4, 12, 30):
        send_mouse(viewport, QEvent.Type.MouseMove, pos + QPoint(dx, 0), none, left)
        qtbot.wait(20)
    send_mouse(viewport, QEvent.Type.MouseButtonRelease, pos + QPoint(30, 0), left, none)
    qtbot.waitUntil(lambda: bool(started), timeout=2000)
    mime, text = started[0]
    path = mime.urls()[0].toLocalFile()
    assert path.endswith(".wav") and text == window.model.find_clip("c1")[0]["label"]
    # Dragging on a clip is not a range selection of the lane.
    assert window.model.selection is None


def test_a_stem_dropped_back_on_the_editor_is_ignored(qtbot, window, recording, tmp_path):
    separated(qtbot, window, recording)
    mime = window.lane_mime("Dishes")
    asked = []
    window.confirm_discard = lambda: asked.append(1) or True
    enter = QDragEnterEvent(
        QPoint(50, 50),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, enter)
    assert not enter.isAccepted()
    drop = QDropEvent(
        QPointF(50, 50),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, drop)
    assert window.model.project.recording == str(recording) and not asked
    # A file from elsewhere still opens.
    from PyQt6.QtCore import QMimeData, QUrl

    outside = QMimeData()
    outside.setUrls([QUrl.fromLocalFile(str(recording))])
    enter = QDragEnterEvent(
        QPoint(50, 50),
        Qt.DropAction.CopyAction,
        outside,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()


def test_separate_again_asks_before_replacing_corrections(qtbot, window, recording):
    separated(qtbot, window, recording)
    window.timeline.removeClipRequested.emit("c2")
    wait_job(qtbot, window)
    assert window.model.project.version == 2 and window.session.undo.count() == 1

    texts: list[str] = []
    answer_dialog(QMessageBox.StandardButton.Cancel, texts)
    window.act_separate.trigger()
    settle(qtbot, window, 300)
    assert "corrections" in texts[0]
    assert window.model.project.version == 2 and window.session.undo.count() == 1

    answer_dialog(QMessageBox.StandardButton.Ok, texts)
    window.act_separate.trigger()
    qtbot.waitUntil(lambda: len(texts) == 2, timeout=5000)
    wait_job(qtbot, window)
    # The new job's result alone: no stale version of the old job left beside its v1.
    assert window.model.project.version == 1 and sorted(window.model.project.versions) == [1]
    assert window.session.undo.count() == 0


def test_nothing_found_is_said_where_the_lanes_would_be(qtbot, window, recording, fake_engine):
    fake_engine.client.first_clips = []
    assert window.open_path(str(recording))
    assert not window.timeline.empty_note.isVisible()  # not separated yet: nothing to say
    window.act_separate.trigger()
    wait_job(qtbot, window)
    note = window.timeline.empty_note
    assert note.isVisible() and "No sound events were found" in note.text()
    assert "Add class over" in note.text()
    assert not window.act_export.isEnabled() and not window.act_export_session.isEnabled()
    screenshot(window, "nothing_found")
    # The hint's way works: select a range on the ruler and add a class over it.
    window.model.set_selection(2.0, 4.0)
    add = window.timeline.range_menu().actions()[0]
    assert add.text().startswith("Add class over 2.0-4.0 s")


def test_toolbar_keeps_every_button_at_1024_px_after_a_correction(qtbot, window, recording):
    from PyQt6.QtWidgets import QToolBar, QToolButton

    window.resize(1024, 700)
    separated(qtbot, window, recording)
    window.timeline.removeClipRequested.emit("c2")
    wait_job(qtbot, window)
    toolbar = window.findChild(QToolBar)
    buttons = {b.text(): b for b in toolbar.findChildren(QToolButton) if b.text()}
    undo = buttons["Undo"]
    # The command's words are in the tooltip, not on the button.
    assert undo.isEnabled() and "Remove" in undo.toolTip()
    assert "Zoom in" in buttons["+"].toolTip()
    for name in ("Open", "Export Stems", "Separate", "Play", "Undo", "Redo", "−", "+", "Fit"):
        button = buttons[name]
        assert button.isVisible(), name
        right = button.mapTo(toolbar, button.rect().topRight()).x()
        assert right <= toolbar.width(), name
    screenshot(window, "toolbar_1024")
    QTest.mouseClick(undo, Qt.MouseButton.LeftButton)
    settle(qtbot, window)
    assert window.model.project.version == 1


def test_shift_click_extends_the_selection_and_zoom_to_selection(qtbot, window, recording):
    separated(qtbot, window, recording)
    lane = window.timeline.lanes[0]
    viewport = lane.strip.plot.viewport()

    def pixel(t: float) -> QPoint:
        return lane.strip.plot.mapFromScene(lane.strip.box.mapViewToScene(QPointF(t, 0.2)))

    QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=pixel(2.0))
    qtbot.waitUntil(lambda: abs(window.model.playhead - 2.0) < 0.05, timeout=2000)
    assert not window.act_zoom_sel.isEnabled()
    shift = Qt.KeyboardModifier.ShiftModifier
    QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, shift, pixel(5.0))
    qtbot.waitUntil(lambda: window.model.selection is not None, timeout=2000)
    a, b = window.model.selection
    assert abs(a - 2.0) < 0.05 and abs(b - 5.0) < 0.05
    qtbot.wait(600)  # a pause, as a person makes (no double click)
    # extends the nearer end (the Dishes clip starts at 7 s: click beside it)
    QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, shift, pixel(6.5))
    qtbot.waitUntil(lambda: abs(window.model.selection[1] - 6.5) < 0.05, timeout=2000)
    assert abs(window.model.selection[0] - 2.0) < 0.05
    assert window.act_zoom_sel.isEnabled()
    qtbot.keyClick(window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    t0, t1 = window.model.view
    assert 1.7 < t0 < 2.0 and 6.5 < t1 < 6.8


def test_a_selection_edge_is_dragged_and_a_drag_elsewhere_starts_anew(qtbot, window, recording):
    separated(qtbot, window, recording)
    ruler = window.timeline.ruler
    viewport = ruler.plot.viewport()

    def pixel(t: float) -> QPoint:
        return ruler.plot.mapFromScene(ruler.box.mapViewToScene(QPointF(t, 0.5)))

    def drag(t0: float, t1: float) -> None:
        left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
        send_mouse(viewport, QEvent.Type.MouseButtonPress, pixel(t0), left, left)
        for k in (1, 2, 3):
            send_mouse(viewport, QEvent.Type.MouseMove, pixel(t0 + (t1 - t0) * k / 3), none, left)
            qtbot.wait(20)
        send_mouse(viewport, QEvent.Type.MouseButtonRelease, pixel(t1), left, none)

    def selected(a: float, b: float) -> bool:
        sel = window.model.selection
        return sel is not None and abs(sel[0] - a) < 0.05 and abs(sel[1] - b) < 0.05

    drag(2.0, 4.0)
    qtbot.waitUntil(lambda: selected(2.0, 4.0), timeout=2000)
    drag(4.0, 6.0)  # grabs the right end
    qtbot.waitUntil(lambda: selected(2.0, 6.0), timeout=2000)
    drag(2.0, 1.0)  # the left end
    qtbot.waitUntil(lambda: selected(1.0, 6.0), timeout=2000)
    drag(8.0, 9.0)  # away from both ends: a new selection
    qtbot.waitUntil(lambda: selected(8.0, 9.0), timeout=2000)
    # Hovering an end shows the resize cursor.
    QTest.mouseMove(viewport, pixel(9.0))
    qtbot.waitUntil(
        lambda: ruler.box.cursor().shape() == Qt.CursorShape.SizeHorCursor, timeout=2000
    )


def test_lanes_resize_by_their_handle_and_from_the_keyboard(qtbot, window, recording):
    separated(qtbot, window, recording)
    lane = window.timeline.lanes[0]
    handle = lane.handle
    start = lane.strip.plot.height()
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    centre = QPoint(handle.width() // 2, 2)
    send_mouse(handle, QEvent.Type.MouseButtonPress, centre, left, left)
    for dy in (10, 30, 60):
        send_mouse(handle, QEvent.Type.MouseMove, centre + QPoint(0, dy), none, left)
    send_mouse(handle, QEvent.Type.MouseButtonRelease, centre + QPoint(0, 60), left, none)
    assert all(x.strip.plot.height() == start + 60 for x in window.timeline.lanes)
    assert all(x.header.height() == start + 60 for x in window.timeline.lanes)
    settle(qtbot, window)
    assert lane.row.height() == start + 60 + lane.handle.height()
    screenshot(window, "lanes_taller")
    for _ in range(8):
        qtbot.keyClick(window, Qt.Key.Key_Down, CTRL_SHIFT)
    assert lane.strip.plot.height() == 40  # the smallest: name, M and S still shown
    assert not lane.header.combo.isVisible() and lane.header.mute.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_Up, CTRL_SHIFT)
    assert lane.strip.plot.height() == 50


def test_the_mixture_strip_resizes_by_its_handle(qtbot, window, recording):
    assert window.open_path(str(recording))
    handle = window.timeline.mixture_handle
    plot = window.timeline.mixture.plot
    start = plot.height()
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    centre = QPoint(handle.width() // 2, 2)
    send_mouse(handle, QEvent.Type.MouseButtonPress, centre, left, left)
    send_mouse(handle, QEvent.Type.MouseMove, centre + QPoint(0, 120), none, left)
    send_mouse(handle, QEvent.Type.MouseButtonRelease, centre + QPoint(0, 120), left, none)
    assert plot.height() == start + 120
    assert window.timeline.mixture_header.height() == start + 120
