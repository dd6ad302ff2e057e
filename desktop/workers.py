"""The one place where work runs off the GUI thread.

`start(fn, *args, on_done=..., on_progress=...)` runs `fn` on a thread pool and hands
`(result, error)` back on the GUI thread. When `fn` is a generator function, every value it
yields is passed to `on_progress` (on the GUI thread) and the worker's cancel flag is checked
between yields; the generator's return value is the result. Tests may switch to a synchronous
pool (`use_synchronous(True)`) that runs each job inline, so a job's callbacks have run when
`start` returns.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from typing import Any

from PyQt6.QtCore import QObject, QRunnable, QThreadPool, pyqtSignal

from engine.errors import Cancelled


class _Signals(QObject):
    progress = pyqtSignal(object)
    finished = pyqtSignal(object, object)  # (result, error)


class Worker(QRunnable):
    """One background job; `cancel()` asks a generator job to stop at its next yield."""

    def __init__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any):
        super().__init__()
        self.setAutoDelete(False)
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.signals = _Signals()
        self._cancel = threading.Event()
        self.done = threading.Event()

    @property
    def cancelled(self) -> bool:
        """Whether cancel() was called (generator jobs may also read it)."""
        return self._cancel.is_set()

    def cancel(self) -> None:
        """Ask the job to stop; a cancelled generator job finishes with a `Cancelled` error."""
        self._cancel.set()

    def run(self) -> None:
        """Run the job and emit `finished(result, error)` exactly once."""
        result, error = None, None
        try:
            out = self.fn(*self.args, **self.kwargs)
            if inspect.isgenerator(out):
                result = self._drain(out)
            else:
                result = out
        except BaseException as exc:  # handed to the GUI thread, never lost
            error = exc
        self.done.set()
        self.signals.finished.emit(result, error)

    def _drain(self, gen) -> Any:
        while True:
            if self._cancel.is_set():
                gen.close()
                raise Cancelled()
            try:
                value = next(gen)
            except StopIteration as stop:
                return stop.value
            self.signals.progress.emit(value)


_pool: QThreadPool | None = None
_synchronous = False
_live: set[Worker] = set()


def use_synchronous(on: bool) -> None:
    """Run jobs inline on the calling thread (for tests)."""
    global _synchronous
    _synchronous = on


def pool() -> QThreadPool:
    """The editor's thread pool (separate from Qt's global one)."""
    global _pool
    if _pool is None:
        _pool = QThreadPool()
        _pool.setMaxThreadCount(4)
    return _pool


def start(
    fn: Callable[..., Any],
    *args: Any,
    on_done: Callable[[Any, BaseException | None], None] | None = None,
    on_progress: Callable[[Any], None] | None = None,
    **kwargs: Any,
) -> Worker:
    """Run `fn(*args, **kwargs)` in the background; callbacks run on the GUI thread."""
    worker = Worker(fn, *args, **kwargs)
    if on_progress is not None:
        worker.signals.progress.connect(on_progress)

    def finished(result: Any, error: BaseException | None) -> None:
        _live.discard(worker)
        if on_done is not None:
            on_done(result, error)

    worker.signals.finished.connect(finished)
    _live.add(worker)  # keep the runnable and its signals alive until it reports
    if _synchronous:
        worker.run()
    else:
        pool().start(worker)
    return worker


def wait_all(timeout_ms: int = 30_000) -> bool:
    """Wait for every running job (used on shutdown and in tests)."""
    return pool().waitForDone(timeout_ms) if _pool is not None else True
