"""Console progress for long commands: one updating line on a terminal, sparse lines otherwise."""

from __future__ import annotations

import sys
import time

from engine.progress import Progress


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    m, s = divmod(int(seconds + 0.5), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class ConsoleProgress:
    """A progress callback printing `stage  42%  done/total  elapsed<eta  message` to stderr."""

    def __init__(self, stream=None, min_interval_s: float = 0.5):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.min_interval_s = min_interval_s if self.tty else 5.0
        self._last = 0.0

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        final = p.total > 0 and p.done >= p.total
        if not final and now - self._last < self.min_interval_s and p.done > 0:
            return
        self._last = now
        line = (
            f"{p.stage}  {100 * p.fraction:5.1f}%  {p.done:g}/{p.total:g}  "
            f"{_clock(p.elapsed_s)}<{_clock(p.eta_s)}  {p.message}"
        )
        if self.tty:
            self.stream.write("\r" + line[:120].ljust(120) + ("\n" if final else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
