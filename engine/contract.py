"""What the editor, the plugins, the client, the server and the pipeline agree on, in one place.

Torch-free and Qt-free (front ends import it through `engine.client`): the separation options
with their one set of defaults and limits, and the names of the engine protocol (job states,
the READY line of `scenesplit serve`, result version folders).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from engine import paths

# -- separation options --------------------------------------------------------------------


@dataclass(frozen=True)
class SeparationOptions:
    """How a recording is separated. Defaults are the report's (METHOD.md): 2 TSE rounds,
    10 s windows with a 7.5 s hop; 2 windows per forward pass."""

    tse_rounds: int = 2
    window_s: float = 10.0
    hop_s: float = 7.5
    batch_windows: int = 2

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready)."""
        return asdict(self)


DEFAULTS = SeparationOptions()
# Bounds every front end checks the same way (the server's schema uses them as its limits).
TSE_ROUNDS_MAX = 8
WINDOW_S_MIN, WINDOW_S_MAX = 0.5, 120.0
BATCH_WINDOWS_MAX = 64


# -- protocol names ------------------------------------------------------------------------

JOB_STATES = ("queued", "running", "done", "failed", "cancelled", "interrupted")
TERMINAL_STATES = frozenset({"done", "failed", "cancelled", "interrupted"})
READY_PREFIX = "SCENESPLIT_ENGINE_READY"
"""`scenesplit serve` prints `READY_PREFIX {json}` on stdout once it accepts requests."""


def version_folder(number: int) -> str:
    """The folder name of result version `number` (`v1`, `v2`, ...)."""
    return f"v{int(number)}"


def default_engine_workdir() -> Path:
    """Where a local engine keeps its jobs unless told otherwise (follows $SCENESPLIT_CACHE)."""
    return paths.cache_dir() / "engine"


def example_recording() -> Path:
    """The example recording the engine ships (opened by `scenesplit app` without a file)."""
    return paths.example_recording()
