"""Process-group plumbing for `torchrun`: one process per GPU (or CPU process), world size 1 alike.

`torchrun` sets RANK, WORLD_SIZE and LOCAL_RANK; without them the run is a single process and
every collective below is a no-op, so the training loop has one code path. NCCL on CUDA, gloo
on CPU.
"""

from __future__ import annotations

import datetime
import gc
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    """Where this process sits: global rank, world size, local rank and its device."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        """Rank 0 writes checkpoints and logs."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """Whether a process group is in use."""
        return self.world_size > 1


def pick_device(preference: str = "auto", local_rank: int = 0) -> torch.device:
    """ "auto": this rank's GPU when CUDA is available, else the CPU; or an explicit device."""
    if preference == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", local_rank % torch.cuda.device_count())
        return torch.device("cpu")
    device = torch.device(preference)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", local_rank % max(torch.cuda.device_count(), 1))
    return device


def init_distributed(device: str = "auto", timeout_s: float = 1800.0) -> DistInfo:
    """Join the process group described by torchrun's variables (idempotent)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    dev = pick_device(device, local_rank)
    if world > 1 and not dist.is_initialized():
        if dev.type == "cuda":
            torch.cuda.set_device(dev)
        dist.init_process_group(
            backend="nccl" if dev.type == "cuda" else "gloo",
            timeout=datetime.timedelta(seconds=timeout_s),
        )
    return DistInfo(rank, world, local_rank, dev)


def shutdown() -> None:
    """Leave the process group, if any, once every rank is done with it."""
    if dist.is_available() and dist.is_initialized():
        # A DDP wrapper sits in reference cycles and keeps the gloo group alive; left to the
        # interpreter's final teardown, its worker threads die with it and the rank aborts
        # (SIGABRT, "terminate called without an active exception") after a good run.
        gc.collect()
        dist.barrier()
        dist.destroy_process_group()
        gc.collect()


def barrier() -> None:
    """Wait for every rank (no-op in a single process)."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def all_reduce_sum(values: dict[str, float], device: torch.device) -> dict[str, float]:
    """Sum each value over the ranks (keys must match on every rank)."""
    if not (dist.is_available() and dist.is_initialized()) or not values:
        return dict(values)
    keys = sorted(values)
    t = torch.tensor([float(values[k]) for k in keys], dtype=torch.float64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return dict(zip(keys, t.tolist(), strict=True))


def all_gather_tensor(t: torch.Tensor) -> torch.Tensor:
    """Concatenate a 1-D tensor of any length from every rank, in rank order."""
    if not (dist.is_available() and dist.is_initialized()):
        return t
    sizes = [
        torch.zeros(1, dtype=torch.long, device=t.device) for _ in range(dist.get_world_size())
    ]
    dist.all_gather(sizes, torch.tensor([t.numel()], device=t.device))
    longest = max(int(s) for s in sizes)
    padded = torch.zeros(longest, dtype=t.dtype, device=t.device)
    padded[: t.numel()] = t
    parts = [torch.empty_like(padded) for _ in sizes]
    dist.all_gather(parts, padded)
    return torch.cat([p[: int(s)] for p, s in zip(parts, sizes, strict=True)])


def broadcast_int(value: int, device: torch.device) -> int:
    """Rank 0's `value` on every rank (e.g. its decision to stop: time budget, cancel)."""
    if not (dist.is_available() and dist.is_initialized()):
        return value
    t = torch.tensor([int(value)], dtype=torch.long, device=device)
    dist.broadcast(t, src=0)
    return int(t.item())
