"""Editor benchmark: open a long 4-channel file in the real editor window (offscreen).

Measures, in a fresh child process (so peak RSS is the editor's alone): time from opening to the
first drawn waveform, to the complete peak pyramid (whole-file overview drawn), the cost of a
redraw for a new view (zoom/scroll), and peak memory. The editor runs without an engine.
The measuring itself lives in `desktop.benchmark` (Qt code); this runner only starts it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    """Add `bench editor`."""
    p = sub.add_parser("editor", help="time to first waveform and peak memory opening a long file")
    p.add_argument("--minutes", type=float, default=60.0, help="length of the test file")
    p.add_argument("--rate", type=int, default=32_000, help="its sample rate")
    p.add_argument("--file", help="open this file instead of a generated one")
    p.add_argument("--screenshots", help="save the window at first draw and when complete here")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Generate (or take) the file, open it in a child process, print the figures."""
    from engine.bench.io import long_file
    from engine.bench.machine import describe

    with tempfile.TemporaryDirectory() as tmp:
        path = long_file(args, tmp)
        shots = str(Path(args.screenshots).resolve()) if args.screenshots else None
        code = f"from desktop.benchmark import measure_open; measure_open({str(path)!r}, {shots!r})"
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
