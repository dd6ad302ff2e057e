"""Recently opened recordings and projects, and the folder the Open dialog starts in."""

from __future__ import annotations

import os
from pathlib import Path

from PyQt6.QtCore import QSettings

MAX_RECENT = 8
_RECENT, _FOLDER = "open/recent", "open/folder"


class RecentFiles:
    """The editor's recent-files list, newest first, kept in `settings`."""

    def __init__(self, settings: QSettings):
        self.settings = settings

    def paths(self) -> list[str]:
        """Recent files that still exist, newest first."""
        stored = self.settings.value(_RECENT, [], list) or []
        return [p for p in stored if isinstance(p, str) and os.path.isfile(p)]

    def add(self, path: str | os.PathLike) -> None:
        """Put `path` first (once), keep at most MAX_RECENT, remember its folder."""
        path = str(Path(path).absolute())
        kept = [p for p in self.paths() if p != path]
        self.settings.setValue(_RECENT, [path, *kept][:MAX_RECENT])
        self.settings.setValue(_FOLDER, str(Path(path).parent))
        self.settings.sync()

    def folder(self) -> str:
        """Where the Open dialog starts: the folder of the last file opened ("" if none)."""
        folder = self.settings.value(_FOLDER, "", str)
        return folder if folder and os.path.isdir(folder) else ""
