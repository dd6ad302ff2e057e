"""`scenesplit bench models`: the figures it reports for a toy config."""

import torch

from engine.bench.models import measure
from engine.cli.bench import BENCHMARKS


def test_models_benchmark_is_registered():
    assert "models" in BENCHMARKS


def test_measure_reports_size_flops_time_and_memory():
    threads = torch.get_num_threads()
    try:
        r = measure("deft_mamba_uss", "tiny", "cpu", 1.0, "float32", 1, threads=1)
    finally:
        torch.set_num_threads(threads)
    assert r["params"] > 0 and abs(r["weights_mb"] - r["params"] * 4 / 2**20) < 1e-9
    assert r["gflop_per_audio_s"] > 0 and r["forward_s"] > 0 and r["forward_cpu_s"] > 0
    assert r["gflops"] > 0 and r["peak_mb"] > 0 and r["threads"] == 1
