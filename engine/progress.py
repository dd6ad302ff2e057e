"""Progress reporting and cancellation shared by every long job (synthesis, training, separation).

A job takes `progress: ProgressCallback | None` and `cancel: CancelToken | None`, reports after
each chunk/batch and calls `cancel.check()` between them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from engine.errors import Cancelled


@dataclass(frozen=True)
class Progress:
    """One progress report: `done` of `total` units of `stage` finished."""

    stage: str
    done: float
    total: float
    message: str = ""
    elapsed_s: float = 0.0

    @property
    def fraction(self) -> float:
        """Share done in [0, 1] (0 when the total is unknown)."""
        return min(1.0, self.done / self.total) if self.total > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        """Estimated seconds left, from the average rate so far (None before any progress)."""
        if self.done <= 0 or self.total <= 0 or self.elapsed_s <= 0:
            return None
        return self.elapsed_s * (self.total - self.done) / self.done


ProgressCallback = Callable[[Progress], None]


class CancelToken:
    """Thread-safe flag a caller sets to stop a job at its next checkpoint."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask the job to stop."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        """Whether cancel() was called."""
        return self._event.is_set()

    def check(self) -> None:
        """Raise `Cancelled` if cancel() was called."""
        if self._event.is_set():
            raise Cancelled()


@dataclass
class ProgressReporter:
    """Helper for a job: tracks elapsed time and forwards reports to an optional callback."""

    stage: str
    total: float
    callback: ProgressCallback | None = None
    cancel: CancelToken | None = None
    _start: float = field(default_factory=time.monotonic)

    def update(self, done: float, message: str = "") -> None:
        """Report progress, then honour a pending cancel."""
        if self.callback is not None:
            self.callback(
                Progress(self.stage, done, self.total, message, time.monotonic() - self._start)
            )
        self.check()

    def check(self) -> None:
        """Raise `Cancelled` if the token was set."""
        if self.cancel is not None:
            self.cancel.check()
