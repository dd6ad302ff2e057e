"""`scenesplit bench sc` as a user runs it: the tiny ViT's row, FLOPs including attention."""

import os
import re
import subprocess
import sys


def scenesplit(*args):
    # One thread: the figures checked here do not depend on it, and it keeps a loaded
    # machine from slowing the run by thread synchronisation.
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "engine.cli.main", *args], capture_output=True, text=True, env=env
    )


def test_bench_sc_reports_params_flops_time_and_memory_for_tiny():
    out = scenesplit("bench", "sc", "--sizes", "tiny", "--repeats", "1")
    assert out.returncode == 0, out.stderr
    assert "machine:" in out.stdout and "shared" in out.stdout
    row = re.search(r"^tiny\s+([\d.]+)M\s+([\d.]+)\s+([\d.]+)\s+(\d+)MB", out.stdout, re.M)
    assert row, out.stdout
    params, gflop = float(row[1]), float(row[2])
    assert abs(params - 5.45) < 0.05
    # 3 x 311 tokens x 12 layers: 9.9 GFLOP of linear layers + 2.8 of attention products.
    assert 12.5 < gflop < 13.3


def test_bench_sc_rejects_unknown_sizes():
    out = scenesplit("bench", "sc", "--sizes", "huge")
    assert out.returncode == 2 and "huge" in out.stderr
