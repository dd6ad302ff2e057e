"""Feedback on long work (issue 16 item 6): a busy indicator from the first moment, a smoothed
ETA, and a cancel that is acknowledged until the engine has really stopped."""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtTest import QTest

from desktop.statusbar import StatusPanel
from tests.desktop.conftest import make_window, settle


def test_cancel_is_acknowledged_until_the_job_stops(qtbot, tmp_path, gated_engine, gate, recording):
    window = make_window(qtbot, gated_engine, tmp_path, recording)
    gated_engine.client.slow_cancel = True
    status = window.status
    window.act_separate.trigger()
    # Before the engine says anything: a busy indicator, not a bar stuck at 0.
    assert status.progress.maximum() == 0 and status.progress.isVisible()
    qtbot.waitUntil(lambda: status.progress.value() == 500, timeout=10_000)
    assert "ETA" in status.progress_text.text()
    QTest.mouseClick(status.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.wait(100)
    # Asked once: the button and Esc are off, the text says the engine is stopping.
    assert not status.cancel_button.isEnabled() and not window.act_cancel.isEnabled()
    assert status.progress_text.text().startswith("Cancelling")
    assert window.session.busy
    with qtbot.waitSignal(window.session.jobFinished, timeout=10_000) as sig:
        gate.set()  # the engine stops now
    assert sig.args == ["separate", "cancelled"]
    settle(qtbot, window)
    assert not status.progress.isVisible() and window.act_separate.isEnabled()
    assert [c for c in gated_engine.client.calls if c[0] == "cancel"] == [("cancel", "separate1")]
    window.close()


def test_eta_counts_down_and_moves_a_third_towards_new_estimates():
    from PyQt6.QtWidgets import QStatusBar

    panel = StatusPanel(QStatusBar(), None, lambda: None)
    panel.job_started("separate")
    assert panel.smooth_eta(60.0, now=0.0) == 60.0
    # 10 s later the old estimate says 50 s; a jumpy new one (80 s) moves it only by a third.
    assert panel.smooth_eta(80.0, now=10.0) == 60.0
    assert panel.smooth_eta(None, now=20.0) == 50.0
