"""Status bar texts: job progress with ETA or queue position, engine state."""

from PyQt6.QtWidgets import QStatusBar

from desktop.statusbar import StatusPanel, describe_engine, format_eta


def test_progress_eta_and_queue_texts(qtbot):
    bar = QStatusBar()
    qtbot.addWidget(bar)
    panel = StatusPanel(bar, "no audio output (QtMultimedia unavailable)", lambda: None)
    assert panel.audio_label.text() == "no audio output"
    panel.job_started("separate")
    assert not panel.progress.isHidden() and panel.cancel_button.isEnabled()
    panel.job_progress("separate", {"state": "queued", "queue_position": 1, "progress": {}})
    assert panel.progress_text.text() == "Separating · queued (#2)"
    job = {
        "state": "running",
        "progress": {"fraction": 0.25, "message": "window 3/12", "eta_s": 95.4},
    }
    panel.job_progress("separate", job)
    assert panel.progress.value() == 250
    assert panel.progress_text.text() == "Separating · window 3/12 · ETA 1:35"
    panel.job_finished()
    assert panel.progress.isHidden() and panel.cancel_button.isHidden()
    panel.job_started("export")
    assert panel.progress.maximum() == 0 and not panel.cancel_button.isEnabled()


def test_engine_description_and_eta_edge_cases():
    health = {"device": "cuda:0", "bundle": {"name": "paper"}, "busy": True, "queued": 2}
    assert describe_engine(health, "remote http://gpu:8765") == (
        "engine remote http://gpu:8765: cuda:0 · paper · busy · 2 queued"
    )
    assert describe_engine({"device": "cpu", "busy": False}) == "engine: cpu · ? · idle"
    assert (
        format_eta(None) == "" and format_eta(0.4) == "ETA 0:00" and format_eta(3600) == "ETA 60:00"
    )
