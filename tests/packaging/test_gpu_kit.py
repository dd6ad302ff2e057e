"""The GPU training kit proven on CPU: the dry run trains both separators at once, brings back
the device layout, and what a device call would carry fits its limit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import torch

from engine.train import gpu_kit

ROOT = Path(__file__).resolve().parents[2]


def test_dry_run_trains_both_and_brings_back_the_device_layout(tmp_path):
    out = tmp_path / "out"
    env = {
        **os.environ,
        "PYTHON": sys.executable,
        "SCENESPLIT_CACHE": str(tmp_path / "cache"),
    }
    proc = subprocess.run(
        [
            "bash",
            str(ROOT / "packaging/gpu/train_all.sh"),
            "--dry-run",
            "--out",
            str(out),
            "--runs",
            str(tmp_path / "runs"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    files = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    # The device tool brings back at most 8 files of < 16 MiB.
    assert len(files) <= gpu_kit.MAX_FILES and all(
        (out / f).stat().st_size < 16 * 2**20 for f in files
    )
    assert {"uss_best.pt", "tse_best.pt", "uss_last.pt", "tse_last.pt", "summary.json"} <= set(
        files
    )
    for task in ("uss", "tse"):
        best = torch.load(out / f"{task}_best.pt", weights_only=True)
        assert best["extra"]["train"]["task"] == task and best["state_dict"]
        # the trainer state travels in last.pt only, so a campaign can resume from it
        assert "trainer" in torch.load(out / f"{task}_last.pt", weights_only=True)["extra"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["exit_codes"] == {"uss": 0, "tse": 0}
    assert summary["plan"]["precision"] == "bf16" and summary["dry_run"] is True
    for task in ("uss", "tse"):
        report = summary[task]
        assert report["scenes_per_s"] > 0 and report["steps"][1] == 6  # smoke: 6 steps
        assert "si_sdri" in report["last_valid"]
    # The TSE drew its enrollment from the campaign's USS (the state in the repository).
    assert summary["tse_enrollment"].endswith("uss_best.pt")
    assert summary["inference"]["tiny"]["rtf"] > 0
    assert "===== uss train.log" in (out / "train_all.log").read_text()


def test_campaign_state_resumes_only_runs_of_the_same_sizes(tmp_path):
    state = gpu_kit.STATE
    assert gpu_kit.state_matches(state / "uss_last.pt", "uss", "cpu")
    assert not gpu_kit.state_matches(state / "uss_last.pt", "uss", "smoke")
    assert not gpu_kit.state_matches(state / "uss_last.pt", "tse", "cpu")
    assert gpu_kit.seed_run("uss", tmp_path / "a", state, "cpu").startswith("resumes")
    assert (tmp_path / "a" / "last.pt").is_file()
    assert gpu_kit.seed_run("uss", tmp_path / "b", state, "smoke").startswith("starts fresh")
    assert not (tmp_path / "b" / "last.pt").exists()


def test_gpu_plan_splits_the_cores_between_the_two_feeds():
    plan = gpu_kit.make_plan(dry_run=False, cores=16)
    assert plan.device == "cuda" and plan.precision == "bf16" and plan.config == "cpu"
    assert 2 * plan.workers + 2 <= 16
    assert f"data.num_workers={plan.workers}" in gpu_kit.overrides(plan, "")


def test_what_travels_fits_the_device_limit_with_wheels_and_pack():
    sizes = gpu_kit.travel_bytes(ROOT, [])
    budget = sizes["working tree"] + gpu_kit.WHEELS_BYTES + gpu_kit.PACK_MB * 2**20
    assert budget <= gpu_kit.TRAVEL_LIMIT_BYTES, sizes
    pack = ROOT / "packaging/gpu/README.md"
    assert f"--max-mb {gpu_kit.PACK_MB}" in pack.read_text()
