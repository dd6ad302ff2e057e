"""Background jobs: (result, error) handed back on the GUI thread, progress and cancel."""

import threading

from PyQt6.QtCore import QThread

from desktop import workers
from engine.errors import Cancelled


def test_result_and_error_come_back_on_the_gui_thread(qtbot):
    gui = QThread.currentThread()
    got = []

    def record(result, error):
        got.append((result, error, QThread.currentThread() is gui))

    workers.start(lambda a, b: a + b, 2, 3, on_done=record)
    workers.start(lambda: 1 / 0, on_done=record)
    qtbot.waitUntil(lambda: len(got) == 2, timeout=5000)
    ok = next(g for g in got if g[1] is None)
    bad = next(g for g in got if g[1] is not None)
    assert ok[0] == 5 and ok[2]
    assert isinstance(bad[1], ZeroDivisionError) and bad[2]


def test_generator_progress_result_and_cancel(qtbot):
    seen, done = [], []

    def job(n):
        yield from range(n)
        return "finished"

    workers.start(job, 3, on_progress=seen.append, on_done=lambda r, e: done.append((r, e)))
    qtbot.waitUntil(lambda: bool(done), timeout=5000)
    assert seen == [0, 1, 2] and done == [("finished", None)]

    release = threading.Event()
    stopped = []

    def slow():
        while True:
            yield 1
            release.wait(5)

    w = workers.start(slow, on_done=lambda r, e: stopped.append(e))
    w.cancel()
    release.set()
    qtbot.waitUntil(lambda: bool(stopped), timeout=5000)
    assert isinstance(stopped[0], Cancelled)


def test_synchronous_pool_runs_inline(qtbot):
    workers.use_synchronous(True)
    try:
        out = []
        workers.start(lambda: 7, on_done=lambda r, e: out.append(r))
        assert out == [7]
    finally:
        workers.use_synchronous(False)
