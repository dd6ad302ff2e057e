"""The status bar: job progress with ETA and cancel, engine state, audio output, messages."""

from __future__ import annotations

import time

from PyQt6.QtWidgets import QLabel, QProgressBar, QPushButton, QStatusBar

from desktop.meter import LevelMeter

VERBS = {"separate": "Separating", "refine": "Re-extracting", "export": "Exporting"}


def format_eta(seconds: float | None) -> str:
    """`ETA 1:05`, or "" when unknown."""
    if seconds is None or seconds < 0:
        return ""
    m, s = divmod(int(round(seconds)), 60)
    return f"ETA {m}:{s:02d}"


def describe_engine(health: dict, where: str = "") -> str:
    """`engine local: cpu · bundle · idle` from a health dict."""
    bundle = health.get("bundle") or {}
    name = bundle.get("name", "?") if isinstance(bundle, dict) else str(bundle)
    busy = "busy" if health.get("busy") else "idle"
    queued = f" · {health['queued']} queued" if health.get("queued") else ""
    prefix = f"engine {where}" if where else "engine"
    return f"{prefix}: {health.get('device', '?')} · {name} · {busy}{queued}"


class StatusPanel:
    """Owns the widgets of the window's status bar."""

    def __init__(self, bar: QStatusBar, audio_reason: str | None, on_cancel):
        self.bar = bar
        self.cancelling = False
        self._eta: tuple[float, float] | None = None
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setFixedWidth(220)
        self.progress.setTextVisible(False)
        self.progress_text = QLabel("")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(on_cancel)
        for w in self._job_widgets():
            bar.addPermanentWidget(w)
            w.hide()
        self.audio_label = QLabel("no audio output" if audio_reason else "")
        self.audio_label.setToolTip(audio_reason or "")
        self.engine_label = QLabel("engine: starting…")
        self.meter = LevelMeter()
        self.meter.setVisible(audio_reason is None)  # no output: nothing is ever heard
        bar.addPermanentWidget(self.meter)
        bar.addPermanentWidget(self.audio_label)
        bar.addPermanentWidget(self.engine_label)

    def _job_widgets(self):
        return (self.progress_text, self.progress, self.cancel_button)

    def message(self, text: str, ms: int = 6000) -> None:
        """A passing message."""
        self.bar.setStyleSheet("")
        self.bar.showMessage(text, ms)

    def error(self, text: str) -> None:
        """A message that says something went wrong (highlighted)."""
        self.bar.setStyleSheet("QStatusBar { color: #ff8a80; }")
        self.bar.showMessage(text, 10000)

    def job_started(self, kind: str) -> None:
        """Show a busy indicator until the job reports a first fraction of its work."""
        self.bar.setStyleSheet("")
        self.progress.setRange(0, 0)
        self.progress.setValue(0)
        self.progress_text.setText(f"{VERBS.get(kind, kind)}…")
        for w in self._job_widgets():
            w.show()
        self.cancel_button.setEnabled(kind != "export")
        self.cancelling = False
        self._eta: tuple[float, float] | None = None  # (smoothed ETA, when) of the last update

    def job_cancelling(self) -> None:
        """The user asked to cancel: say so until the job has really stopped."""
        self.cancelling = True
        self.cancel_button.setEnabled(False)
        self.progress.setRange(0, 0)
        self.progress_text.setText("Cancelling… (waiting for the engine to stop)")

    def smooth_eta(self, eta_s: float | None, now: float | None = None) -> float | None:
        """The engine's ETA, smoothed: the last estimate counts down with the clock and moves a
        third of the way towards each new one, so the display does not jump per window."""
        now = time.monotonic() if now is None else now
        if eta_s is None:
            return None if self._eta is None else max(0.0, self._eta[0] - (now - self._eta[1]))
        if self._eta is None:
            value = float(eta_s)
        else:
            counted = max(0.0, self._eta[0] - (now - self._eta[1]))
            value = counted + (float(eta_s) - counted) / 3
        self._eta = (value, now)
        return value

    def job_progress(self, kind: str, job: dict) -> None:
        """Show an engine job dict: fraction, stage message or queue position, ETA."""
        if self.cancelling:
            return
        prog = job.get("progress") or {}
        if prog.get("fraction"):
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * float(prog["fraction"])))
        parts = [VERBS.get(kind, "Working")]
        if job.get("state") == "queued" and job.get("queue_position") is not None:
            parts.append(f"queued (#{job['queue_position'] + 1})")
        elif prog.get("message"):
            parts.append(str(prog["message"]))
        eta = format_eta(self.smooth_eta(prog.get("eta_s")))
        if eta:
            parts.append(eta)
        self.progress_text.setText(" · ".join(parts))

    def job_finished(self) -> None:
        """Hide the progress widgets."""
        for w in self._job_widgets():
            w.hide()

    def engine_state(self, health: dict | None, where: str = "") -> None:
        """Show the engine's device, bundle and busy/idle state."""
        if health is not None:
            self.engine_label.setText(describe_engine(health, where))

    def engine_text(self, text: str) -> None:
        """Show a plain engine state ("stopped", "connecting…")."""
        self.engine_label.setText(text)
