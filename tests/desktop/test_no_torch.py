"""The editor starts without torch (checked at run time, beside the static boundary test)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_importing_the_editor_does_not_import_torch():
    code = (
        "import sys, desktop.app, desktop.window, desktop.session, desktop.engine_link; "
        "from desktop.app import create_window; "
        "print('torch' in sys.modules)"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False"
