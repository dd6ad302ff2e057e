"""Measuring the editor on a long file (run by `scenesplit bench editor` in a child process)."""

from __future__ import annotations

import json
import os
import resource
import time
from pathlib import Path


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_open(path: str, shots: str | None = None) -> None:
    """Open `path` in the editor offscreen and print the measurements as one JSON line."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PyQt6.QtCore import QTimer
    from PyQt6.QtWidgets import QApplication

    app = QApplication([])
    from desktop import theme, workers
    from desktop.app import AppOptions, create_window

    theme.apply(app)
    window = create_window(AppOptions(use_engine=False))
    window.resize(1600, 900)
    window.show()
    app.processEvents()
    base = peak_rss_mb()
    marks: dict[str, float] = {}
    timeline = window.timeline

    def grab(name: str) -> None:
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            window.grab().save(str(Path(shots) / f"{name}.png"))

    def first_draw() -> None:
        marks.setdefault("first_draw_s", time.perf_counter())
        grab("long-file-first-draw")

    def complete() -> None:
        marks.setdefault("complete_s", time.perf_counter())
        grab("long-file-complete")

    timeline.waveformDrawn.connect(first_draw)
    timeline.peaksReady.connect(complete)
    timeline.peaksReady.connect(lambda: QTimer.singleShot(0, app.quit))
    QTimer.singleShot(600_000, app.quit)  # never hang a benchmark
    start = time.perf_counter()
    if not window.open_path(path):
        raise SystemExit(f"could not open {path}: {window.last_error}")
    opened = time.perf_counter()
    app.exec()
    workers.wait_all(10_000)

    # Redraw cost for new views, as when zooming and scrolling (whole file, 1 min, 1 s).
    model = window.model
    total = model.duration_s
    redraws = []
    for span in (total, 60.0, 1.0):
        for k in range(5):
            t0 = (total - span) * k / 5
            model.set_view(t0, t0 + span)
            t = time.perf_counter()
            timeline.refresh_waveforms()
            app.processEvents()
            redraws.append(time.perf_counter() - t)
    peaks = timeline.mixture_peaks
    print(
        json.dumps(
            {
                "duration_s": total,
                "channels": peaks.channels,
                "open_call_s": opened - start,
                "first_draw_s": marks.get("first_draw_s", float("nan")) - start,
                "complete_s": marks.get("complete_s", float("nan")) - start,
                "redraw_ms_mean": 1000 * sum(redraws) / len(redraws),
                "redraw_ms_max": 1000 * max(redraws),
                "pyramid_mb": peaks.nbytes() / 2**20,
                "peak_rss_mb": peak_rss_mb(),
                "rss_before_open_mb": base,
            }
        ),
        flush=True,
    )
    window.close()
