"""Console progress for long commands: one updating line on a terminal, sparse lines otherwise."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

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


def job_progress(where: str, console: ConsoleProgress | None = None) -> Callable[[dict], None]:
    """An `on_update` for `EngineClient.wait`: a note while the job is queued on `where`, then
    its progress (from the job's API view) on a `ConsoleProgress`."""
    console = console or ConsoleProgress()
    queued_note = False

    def show(job: dict) -> None:
        nonlocal queued_note
        p = job["progress"]
        if job["state"] == "queued" and not queued_note:
            print(f"queued on {where} (position {job['queue_position']})", file=console.stream)
            queued_note = True
        elif job["state"] == "running" and p["total"] > 0:
            console(Progress(p["stage"], p["done"], p["total"], p["message"], p["elapsed_s"]))

    return show
