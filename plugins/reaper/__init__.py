"""REAPER integration: two ReaScripts (Lua) that run the `scenesplit` command line.

"Scenesplit - separate selected item.lua" splits the selected item into a folder of class
tracks; "Scenesplit - re-extract renamed stem track.lua" re-extracts a stem track renamed to
another class. `install` copies them (with their shared `scenesplit_lib.lua`) into REAPER's
Scripts folder and records which `scenesplit` command they should run.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = (
    "Scenesplit - separate selected item.lua",
    "Scenesplit - re-extract renamed stem track.lua",
)
LIBRARY = "scenesplit_lib.lua"
CONFIG = "scenesplit_config.lua"


def default_scripts_dir() -> Path:
    """REAPER's Scripts/Scenesplit folder for this user (Linux, macOS, Windows)."""
    home = Path.home()
    if sys.platform == "darwin":
        base = home / "Library" / "Application Support" / "REAPER"
    elif sys.platform == "win32":
        base = Path(os.environ.get("APPDATA", home / "AppData" / "Roaming")) / "REAPER"
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME", home / ".config")) / "REAPER"
    return base / "Scripts" / "Scenesplit"


def install(dest: str | os.PathLike | None = None, command: str | None = None) -> list[Path]:
    """Copy the scripts to `dest` (default: `default_scripts_dir()`); returns the action files.

    Args:
        dest: folder to copy into (created).
        command: the `scenesplit` executable the scripts run; None: the one on PATH, if any
            (REAPER started from a desktop menu may not see a virtual environment's PATH).
    """
    dest = Path(dest) if dest is not None else default_scripts_dir()
    dest.mkdir(parents=True, exist_ok=True)
    for name in (*SCRIPTS, LIBRARY):
        shutil.copyfile(HERE / name, dest / name)
    command = command or shutil.which("scenesplit")
    config = dest / CONFIG
    if command:
        # A JSON string is a valid Lua string literal for any path (escapes included).
        config.write_text(
            "-- written by `scenesplit plugins install reaper`\n"
            f"return {{ command = {json.dumps(str(command))} }}\n"
        )
    else:
        config.unlink(missing_ok=True)
    return [dest / name for name in SCRIPTS]
