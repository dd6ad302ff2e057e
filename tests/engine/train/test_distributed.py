"""Two-process DDP on CPU (gloo) through torchrun, and the single-process collectives."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import torch

from engine.train import distributed
from engine.train.checkpoints import BEST, LAST

ROOT = Path(__file__).resolve().parents[3]


def test_torchrun_two_ranks_end_with_identical_weights(tmp_path, room_cache):
    out = tmp_path / "run"
    overrides = [
        "data.seconds=0.5",
        "data.valid_scenes=3",
        f"data.room_cache_dir={room_cache}",
        "max_steps=3",
        "valid_every=2",
    ]
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": str(ROOT),
        "SCENESPLIT_CACHE": str(room_cache),
    }
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node",
            "2",
            str(Path(__file__).with_name("ddp_worker.py")),
            str(out),
            *overrides,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    ranks = json.loads((out / "ranks.json").read_text())
    assert [r["rank"] for r in ranks] == [0, 1]
    assert ranks[0]["digest"] == ranks[1]["digest"]
    # Each rank trained on its own scenes (different losses) yet the weights agree.
    assert ranks[0]["losses"] != ranks[1]["losses"] and len(ranks[0]["losses"]) == 3
    # Only rank 0 wrote the run folder; its checkpoints hold the shared weights.
    assert (out / LAST).is_file() and (out / BEST).is_file()
    assert torch.load(out / LAST, weights_only=True)["step"] == 3


def test_single_process_collectives_are_identities():
    info = distributed.init_distributed("cpu")
    assert (info.rank, info.world_size, info.is_main, info.distributed) == (0, 1, True, False)
    assert distributed.all_reduce_sum({"a": 2.0}, info.device) == {"a": 2.0}
    t = torch.arange(3.0)
    assert torch.equal(distributed.all_gather_tensor(t), t)
    assert distributed.broadcast_int(2, info.device) == 2
