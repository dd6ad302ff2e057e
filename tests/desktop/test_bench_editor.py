"""`scenesplit bench editor` runs end to end on a short file (the real figures need an hour)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_editor_reports_first_draw_and_memory():
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-m", "engine.cli.main", "bench", "editor", "--minutes", "0.2"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert "first waveform drawn after" in out.stdout
    assert "peak RSS" in out.stdout and "0.2 min, 4 ch" in out.stdout
