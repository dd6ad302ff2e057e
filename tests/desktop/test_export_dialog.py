"""The Export dialog as a person uses it: Ctrl+Shift+E, type a folder, pick a rate, a format and
the recording's channels with the keyboard, click Export, answer "replace?"; the stems land in
that format and the dialog remembers the choice."""

from __future__ import annotations

import soundfile as sf
from PyQt6.QtCore import QSettings, Qt, QTimer
from PyQt6.QtTest import QTest
from PyQt6.QtWidgets import QApplication, QMessageBox

from desktop.export_dialog import ExportDialog
from tests.desktop.conftest import screenshot, wait_job
from tests.desktop.test_clip_mouse import answer_dialog
from tests.desktop.test_window import separated


def when_dialog_opens(act) -> None:
    """Run `act(dialog)` once the export dialog is the active modal window."""

    def poll():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, ExportDialog):
            QTimer.singleShot(50, poll)
            return
        act(dialog)

    QTimer.singleShot(100, poll)


def choose(combo, presses: int) -> None:
    """Move a combo box down `presses` entries with the keyboard, as a person would."""
    combo.setFocus()
    for _ in range(presses):
        QTest.keyClick(combo, Qt.Key.Key_Down)


def test_export_dialog_writes_the_chosen_format_and_asks_before_replacing(
    qtbot, window, recording, tmp_path
):
    separated(qtbot, window, recording)
    folder = tmp_path / "delivery"
    folder.mkdir()
    (folder / "scene_Speech.wav").write_bytes(b"an older take")
    seen, texts = {}, []

    def fill(dialog):
        dialog.folder.clear()
        QTest.keyClicks(dialog.folder, str(folder))
        choose(dialog.rate, 1)  # Recording's rate -> 48 kHz
        choose(dialog.encoding, 1)  # WAV 32-bit float -> WAV 24-bit
        choose(dialog.channels, 1)  # mono -> the recording's 4 channels
        seen["summary"] = dialog.summary.text()
        screenshot(dialog, "export_dialog")
        answer_dialog(QMessageBox.StandardButton.Yes, texts)
        QTest.mouseClick(dialog.buttons.buttons()[0], Qt.MouseButton.LeftButton)

    when_dialog_opens(fill)
    qtbot.keyClick(
        window,
        Qt.Key.Key_E,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    wait_job(qtbot, window)
    assert window.last_error is None
    assert seen["summary"] == "3 stems: 48 kHz 24-bit WAV, 4 channels (FOA)"
    assert texts and "scene_Speech.wav" in texts[0] and "replaced" in texts[0]
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["scene_Dishes.wav", "scene_Doorbell.wav", "scene_Speech.wav"]
    info = sf.info(str(folder / "scene_Speech.wav"))
    assert (info.samplerate, info.channels, info.subtype) == (48_000, 4, "PCM_24")
    assert "(48 kHz 24-bit WAV, 4 channels (FOA))" in window.statusBar().currentMessage()

    # The next export starts from the same folder and format; "No" to replacing keeps the files.
    remembered = {}

    def check(dialog):
        remembered["folder"] = dialog.folder.text()
        remembered["format"] = dialog.stem_format()
        answer_dialog(QMessageBox.StandardButton.No, texts)
        QTest.mouseClick(dialog.buttons.buttons()[0], Qt.MouseButton.LeftButton)
        QTimer.singleShot(400, dialog.reject)

    before = (folder / "scene_Speech.wav").stat().st_mtime_ns
    when_dialog_opens(check)
    window.act_export.trigger()
    assert remembered["folder"] == str(folder)
    assert remembered["format"].spatial and remembered["format"].sample_rate == 48_000
    assert (folder / "scene_Speech.wav").stat().st_mtime_ns == before


def test_mono_recordings_offer_no_spatial_choice(qtbot):
    dialog = ExportDialog(
        {"name": "m", "source_sample_rate": 44_100, "source_channels": 1, "layout": "mono"},
        ["Speech"],
        QSettings("Scenesplit", "editor"),
    )
    qtbot.addWidget(dialog)
    assert dialog.channels.count() == 1
    assert dialog.rate.itemText(0) == "Recording's rate (44.1 kHz)"
    dialog.show()
    dialog.folder.clear()
    QTest.mouseClick(dialog.buttons.buttons()[0], Qt.MouseButton.LeftButton)
    assert dialog.error.text() == "choose a folder" and dialog.isVisible()
