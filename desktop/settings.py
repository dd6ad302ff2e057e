"""Engine settings: local process or remote engine (URL + token file), remembered in QSettings."""

from __future__ import annotations

from dataclasses import replace

from PyQt6.QtCore import QSettings
from PyQt6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from desktop.engine_link import EngineSettings

_URL, _TOKEN = "engine/url", "engine/token_file"


def store() -> QSettings:
    """Where the editor keeps its settings."""
    return QSettings("Scenesplit", "editor")


def load_engine_settings(base: EngineSettings, settings: QSettings | None = None) -> EngineSettings:
    """`base` (from the command line) completed with the remembered remote engine, if any."""
    if base.url:
        return base
    settings = settings or store()
    url = settings.value(_URL, "", str)
    if not url:
        return base
    return replace(base, url=url, token_file=settings.value(_TOKEN, "", str) or None)


def save_engine_settings(engine: EngineSettings, settings: QSettings | None = None) -> None:
    """Remember a remote engine (or, with no URL, that the local engine is used)."""
    settings = settings or store()
    settings.setValue(_URL, engine.url or "")
    settings.setValue(_TOKEN, engine.token_file or "")
    settings.sync()


class EngineDialog(QDialog):
    """Choose a local engine or a remote one (`scenesplit serve` on a GPU host)."""

    def __init__(self, current: EngineSettings, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Engine")
        self.current = current
        col = QVBoxLayout(self)
        self.local = QRadioButton("Local engine (started by the editor on this machine)")
        self.remote = QRadioButton("Remote engine")
        col.addWidget(self.local)
        col.addWidget(self.remote)
        form = QFormLayout()
        self.url = QLineEdit(current.url or "")
        self.url.setPlaceholderText("http://gpu-host:8765")
        self.token = QLineEdit(current.token_file or "")
        self.token.setPlaceholderText("file holding the engine's token")
        browse = QPushButton("…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.token, 1)
        row.addWidget(browse)
        form.addRow("URL", self.url)
        form.addRow("Token file", row)
        col.addLayout(form)
        self.error = QLabel("")
        self.error.setStyleSheet("color: #ff8a80;")
        col.addWidget(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        col.addWidget(buttons)
        (self.remote if current.url else self.local).setChecked(True)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Token file")
        if path:
            self.token.setText(path)

    def chosen(self) -> EngineSettings | None:
        """The settings the dialog describes; None (with a message shown) if incomplete."""
        if self.local.isChecked():
            return replace(self.current, url=None, token_file=None)
        url, token = self.url.text().strip(), self.token.text().strip()
        if not url.startswith(("http://", "https://")):
            self.error.setText("the URL must start with http:// or https://")
            return None
        if not token:
            self.error.setText("a remote engine needs its token file")
            return None
        return replace(self.current, url=url, token_file=token)

    def accept(self) -> None:  # noqa: D102 - Qt API
        if self.chosen() is not None:
            super().accept()
