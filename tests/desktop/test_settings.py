"""Engine settings: remembered remote engine, dialog validation, switching engines live."""

from PyQt6.QtCore import QSettings

from desktop.engine_link import EngineSettings
from desktop.settings import EngineDialog, load_engine_settings, save_engine_settings
from tests.desktop.fake_engine import FakeEngine


def test_remote_engine_is_remembered_unless_the_command_line_names_one(tmp_path):
    store = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    base = EngineSettings(device="cpu")
    assert load_engine_settings(base, store) == base
    save_engine_settings(EngineSettings(url="http://gpu:8765", token_file="/t"), store)
    got = load_engine_settings(base, store)
    assert (got.url, got.token_file, got.device) == ("http://gpu:8765", "/t", "cpu")
    explicit = EngineSettings(url="http://other:1", token_file="/x")
    assert load_engine_settings(explicit, store) == explicit


def test_dialog_checks_url_and_token(qtbot):
    dialog = EngineDialog(EngineSettings())
    qtbot.addWidget(dialog)
    assert dialog.local.isChecked() and dialog.chosen().url is None
    dialog.remote.setChecked(True)
    dialog.url.setText("gpu:8765")
    assert dialog.chosen() is None and "http://" in dialog.error.text()
    dialog.url.setText("http://gpu:8765")
    assert dialog.chosen() is None and "token" in dialog.error.text()
    dialog.token.setText("/tmp/token")
    assert dialog.chosen() == EngineSettings(url="http://gpu:8765", token_file="/tmp/token")


def test_switching_engines_keeps_the_project(qtbot, window, recording, tmp_path):
    from tests.desktop.test_window import labels, separated

    separated(qtbot, window, recording)
    other = FakeEngine(tmp_path / "other")
    chosen = EngineSettings(url="http://gpu:8765", token_file="/tmp/token")
    assert window.switch_engine(chosen, engine_factory=lambda: other)
    qtbot.waitUntil(lambda: window.session.link.is_connected, timeout=10_000)
    assert "remote http://gpu:8765" in window.engine_label.text()
    assert labels(window) == ["Dishes", "Doorbell", "Speech"]
    window.act_separate.trigger()
    qtbot.waitUntil(lambda: not window.session.busy, timeout=10_000)
    assert other.client.calls[0][0] == "submit"
