"""Editor benchmark: open a long 4-channel file in the real editor window (offscreen).

Measures, in a fresh child process (so peak RSS is the editor's alone): time from opening to the
first drawn waveform, to the complete peak pyramid (whole-file overview drawn), the cost of a
redraw for a new view (zoom/scroll), and peak memory. The editor runs without an engine.
Imports the desktop package lazily (this is a benchmark runner, not engine code).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    """Add `bench editor`."""
    p = sub.add_parser("editor", help="time to first waveform and peak memory opening a long file")
    p.add_argument("--minutes", type=float, default=60.0, help="length of the test file")
    p.add_argument("--rate", type=int, default=32_000, help="its sample rate")
    p.add_argument("--file", help="open this file instead of a generated one")
    p.add_argument("--screenshots", help="save the window at first draw and when complete here")
    p.set_defaults(func=run)


def _child(path: str, shots: str | None = None) -> None:
    """Open `path` in the editor offscreen and print the measurements as one JSON line."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PyQt6.QtCore import QTimer
    from PyQt6.QtWidgets import QApplication

    from engine.bench.machine import peak_rss_mb

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


def run(args: argparse.Namespace) -> int:
    """Generate (or take) the file, open it in a child process, print the figures."""
    from engine.bench.io import make_long_file
    from engine.bench.machine import describe

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.file) if args.file else Path(tmp) / "long.wav"
        if not args.file:
            print(f"writing {args.minutes:g} min of 4-channel {args.rate} Hz audio ...", flush=True)
            make_long_file(path, args.minutes, args.rate)
        shots = str(Path(args.screenshots).resolve()) if args.screenshots else None
        code = f"from engine.bench.editor import _child; _child({str(path)!r}, {shots!r})"
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
        if out.returncode:
            print(out.stderr, file=sys.stderr)
            return out.returncode
        r = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"machine: {describe()} (shared with other jobs: timings are upper bounds)")
    what = args.file or f"{args.minutes:g} min, 4 ch, {args.rate} Hz, PCM-16 WAV"
    print(f"file: {what} ({r['duration_s'] / 60:.1f} min, {r['channels']} ch)")
    print(
        f"first waveform drawn after {r['first_draw_s']:.2f} s (open call {r['open_call_s']:.3f} s)"
    )
    print(f"whole-file peak pyramid ready, overview drawn after {r['complete_s']:.1f} s")
    print(
        f"redraw for a new view: {r['redraw_ms_mean']:.1f} ms mean, {r['redraw_ms_max']:.1f} ms max"
    )
    print(
        f"peak RSS {r['peak_rss_mb']:.0f} MB (editor window before opening: "
        f"{r['rss_before_open_mb']:.0f} MB; pyramid {r['pyramid_mb']:.1f} MB)"
    )
    return 0
