"""Where Scenesplit keeps things: shipped assets, the default model bundle, caches."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
ASSETS_DIR = PACKAGE_DIR / "assets"


def cache_dir() -> Path:
    """Cache root: $SCENESPLIT_CACHE, else $XDG_CACHE_HOME/scenesplit, else ~/.cache/scenesplit."""
    env = os.environ.get("SCENESPLIT_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "scenesplit"


def default_bundle_dir() -> Path:
    """The model bundle used when none is named: $SCENESPLIT_BUNDLE or the shipped one."""
    env = os.environ.get("SCENESPLIT_BUNDLE")
    return Path(env).expanduser() if env else ASSETS_DIR / "bundle"


def example_recording() -> Path:
    """The bundled example recording (4-channel FOA, redistributable sources only)."""
    return ASSETS_DIR / "example" / "example_scene.wav"
