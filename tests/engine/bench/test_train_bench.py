"""`scenesplit bench train`: the figures it reports, on toy sizes."""

import json
import subprocess
import sys

import pytest
import torch

from engine.bench.train import measure
from engine.cli.bench import BENCHMARKS


@pytest.fixture
def one_thread():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("task", ["uss", "tse"])
def test_measure_reports_rates_and_the_speedup_of_the_best_variant(task, one_thread):
    r = measure(task, "tiny", 0.5, 2, 1, ["threads2"])
    assert r["task"] == task and r["config"] == "tiny" and r["params"] > 0
    assert r["gflop_per_audio_s"] > 0
    assert r["eager_fp32_audio_s_per_s"] > 0 and r["threads2_audio_s_per_s"] > 0
    best = max(r["eager_fp32_audio_s_per_s"], r["threads2_audio_s_per_s"])
    assert r["audio_s_per_s"] == best
    assert r["speedup_vs_eager_fp32"] == pytest.approx(best / r["eager_fp32_audio_s_per_s"], 1e-2)
    assert r["best_variant"] in ("eager_fp32", "threads2")


def test_two_ddp_processes_train_the_batch_in_halves(one_thread):
    r = measure("uss", "tiny", 0.5, 2, 1, ["ddp2"])
    assert r["ddp2_audio_s_per_s"] > 0
    assert r["best_variant"] in ("eager_fp32", "ddp2")
    with pytest.raises(ValueError, match="batch"):
        measure("uss", "tiny", 0.5, 3, 1, ["ddp2"])


def test_cli_prints_one_json_object_per_config_with_the_machine():
    assert "train" in BENCHMARKS
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "engine.cli.main",
            "bench",
            "train",
            "--task",
            "uss",
            "--configs",
            "tiny",
            "--seconds",
            "0.5",
            "--batch",
            "1",
            "--steps",
            "1",
            "--variants",
            "bf16",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(rows) == 1
    for key in ("task", "config", "audio_s_per_s", "speedup_vs_eager_fp32", "machine"):
        assert key in rows[0]
    assert "cores" in rows[0]["machine"]


def test_cli_refuses_an_unknown_variant():
    out = subprocess.run(
        [sys.executable, "-m", "engine.cli.main", "bench", "train", "--variants", "turbo"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2 and "turbo" in out.stderr
