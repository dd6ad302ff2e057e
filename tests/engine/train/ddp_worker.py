"""Run under torchrun by test_distributed: train the SC smoke config, report each rank's weights.

Usage: python -m torch.distributed.run --standalone --nproc_per_node 2 ddp_worker.py OUT [k=v ...]
Rank 0 writes OUT/ranks.json: per rank its weight digest and the losses it saw.
"""

from __future__ import annotations

import hashlib
import json
import sys

import torch.distributed as dist

from engine.train import distributed
from engine.train.config import apply_overrides, named_config
from engine.train.loop import train


def main() -> None:
    out, overrides = sys.argv[1], sys.argv[2:]
    cfg = apply_overrides(named_config("sc", "smoke"), overrides)
    result = train(cfg, out, echo=lambda line: None)
    state = result.model.state_dict()
    digest = hashlib.sha256(b"".join(state[k].cpu().numpy().tobytes() for k in sorted(state)))
    report = {"rank": dist.get_rank(), "digest": digest.hexdigest(), "losses": result.losses}
    gathered = [None] * dist.get_world_size()
    dist.all_gather_object(gathered, report)
    if dist.get_rank() == 0:
        with open(f"{out}/ranks.json", "w") as f:
            json.dump(gathered, f)
    distributed.shutdown()


if __name__ == "__main__":
    main()
