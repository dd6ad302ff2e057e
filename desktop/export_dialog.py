"""The Export dialog: where stems go and in what format (rate, bit depth, channels).

Remembers the last folder and format in the editor's settings; asks before replacing files.
"""

from __future__ import annotations

import json
from pathlib import Path

from PyQt6.QtCore import QSettings
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.export import export_targets
from engine.client import StemFormat
from engine.errors import ScenesplitError

_FOLDER, _FORMAT = "export/folder", "export/format"

RATES = (None, 48_000, 44_100, 96_000, 32_000)
ENCODINGS = (
    ("WAV 32-bit float", "wav", "FLOAT"),
    ("WAV 24-bit", "wav", "PCM_24"),
    ("WAV 16-bit", "wav", "PCM_16"),
    ("FLAC 24-bit", "flac", "PCM_24"),
    ("FLAC 16-bit", "flac", "PCM_16"),
)
DAW_SESSION_SUFFIXES = (".rpp", ".lof")


def load_format(settings: QSettings) -> StemFormat:
    """The remembered stem format (the default when none or unreadable)."""
    try:
        return StemFormat.from_dict(json.loads(settings.value(_FORMAT, "{}", str)))
    except (ValueError, TypeError, ScenesplitError):
        return StemFormat()


class ExportDialog(QDialog):
    """Choose a folder, a stem format and whether to write DAW sessions.

    `recording` is the manifest's recording facts of the version on screen (rate, channels);
    `labels` the lanes to export (to name the files and find ones that would be replaced).
    """

    def __init__(
        self,
        recording: dict,
        labels: list[str],
        settings: QSettings,
        daw_session: bool = False,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.setWindowTitle("Export stems")
        self.recording, self.labels, self.settings = recording, labels, settings
        remembered = load_format(settings)
        col = QVBoxLayout(self)
        form = QFormLayout()
        self.folder = QLineEdit(settings.value(_FOLDER, "", str))
        self.folder.setPlaceholderText("folder to write the stems into")
        browse = QPushButton("…")
        browse.setToolTip("choose the folder")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        form.addRow("Folder", row)

        source_rate = int(recording.get("source_sample_rate") or 32_000)
        self.rate = QComboBox()
        for rate in RATES:
            text = (
                f"Recording's rate ({source_rate / 1000:g} kHz)"
                if rate is None
                else f"{rate / 1000:g} kHz" + (" (as separated)" if rate == 32_000 else "")
            )
            self.rate.addItem(text, rate)
        self.rate.setCurrentIndex(max(0, self.rate.findData(remembered.sample_rate)))
        form.addRow("Sample rate", self.rate)

        self.encoding = QComboBox()
        for text, container, subtype in ENCODINGS:
            self.encoding.addItem(text, (container, subtype))
        found = self.encoding.findData((remembered.container, remembered.subtype))
        self.encoding.setCurrentIndex(max(0, found))
        form.addRow("Format", self.encoding)

        n = len(recording.get("channels") or []) or int(recording.get("source_channels") or 1)
        layout = str(recording.get("layout", "")).upper()
        self.channels = QComboBox()
        self.channels.addItem("Mono (the separated reference channel)", False)
        if n > 1:
            self.channels.addItem(f"Recording's {n} channels ({layout}, spatial image kept)", True)
        self.channels.setCurrentIndex(1 if remembered.spatial and n > 1 else 0)
        form.addRow("Channels", self.channels)
        col.addLayout(form)

        self.daw = QCheckBox("Also write a REAPER project and an Audacity file list")
        self.daw.setChecked(daw_session)
        col.addWidget(self.daw)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        col.addWidget(self.summary)
        self.error = QLabel("")
        self.error.setStyleSheet("color: #ff8a80;")
        col.addWidget(self.error)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        col.addWidget(self.buttons)
        for combo in (self.rate, self.encoding, self.channels):
            combo.currentIndexChanged.connect(self._describe)
        self._describe()

    def stem_format(self) -> StemFormat:
        """The format the dialog shows."""
        container, subtype = self.encoding.currentData()
        return StemFormat(
            sample_rate=self.rate.currentData(),
            container=container,
            subtype=subtype,
            spatial=bool(self.channels.currentData()),
        )

    def targets(self) -> list[Path]:
        """Every file the export would write into the chosen folder."""
        folder = Path(self.folder.text().strip())
        name = self.recording.get("name", "recording")
        files = export_targets(name, self.labels, folder, self.stem_format())
        if self.daw.isChecked():
            files += [folder / f"{name}{suffix}" for suffix in DAW_SESSION_SUFFIXES]
        return files

    def _describe(self) -> None:
        fmt = self.stem_format()
        self.summary.setText(
            f"{len(self.labels)} stem{'s' * (len(self.labels) != 1)}: {fmt.describe(self.recording)}"
        )

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Export stems to folder", self.folder.text()
        )
        if folder:
            self.folder.setText(folder)

    def accept(self) -> None:  # noqa: D102 - Qt API
        text = self.folder.text().strip()
        if not text:
            self.error.setText("choose a folder")
            return
        folder = Path(text)
        if folder.exists() and not folder.is_dir():
            self.error.setText(f"{folder} is a file, not a folder")
            return
        existing = [p for p in self.targets() if p.exists()]
        if existing:
            names = ", ".join(p.name for p in existing[:4]) + (" …" if len(existing) > 4 else "")
            answer = QMessageBox.question(
                self,
                "Replace files?",
                f"{len(existing)} file{'s' * (len(existing) != 1)} in {folder} will be "
                f"replaced: {names}",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.settings.setValue(_FOLDER, str(folder))
        self.settings.setValue(_FORMAT, json.dumps(self.stem_format().to_dict()))
        self.settings.sync()
        super().accept()
