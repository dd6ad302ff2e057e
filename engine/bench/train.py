"""Training throughput: audio-seconds trained per second per config, and what the step options buy.

One training step = forward + the task's loss + backward + clip + AdamW, on random 4-channel
scenes of `--seconds` at batch `--batch`. Every config is measured in a fresh child process:
first the plain eager fp32 step on one thread (the baseline), then each step option
(`--variants`: two threads, bf16 autocast, torch.compile, and two one-thread DDP processes on
gloo, each stepping half the batch, plain or compiled), each after its own warm-up.
`speedup_vs_eager_fp32` is the best variant's rate over the baseline's, measured in the same
run; the variant that won is named. The load average is printed with the machine, because a
shared CPU slows every figure (training runs ~5x slower beside other heavy work).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

TASK_MODELS = {"uss": "deft_mamba_uss", "tse": "deft_mamba_tse", "sc": "m2d_sc"}
VARIANTS = ("threads2", "bf16", "compile", "ddp2", "ddp2_compile")
DDP_WORLD = 2
"""Processes of the `ddp2*` variants: one per core of the 2-core machines this is for."""


def register(sub: argparse._SubParsersAction) -> None:
    """Add `bench train`."""
    p = sub.add_parser("train", help="training throughput (audio-s per s) per config")
    p.add_argument("--task", default="uss", choices=tuple(TASK_MODELS))
    p.add_argument("--configs", default="lite,cpu", help="comma-separated named model configs")
    p.add_argument("--seconds", type=float, default=4.0, help="scene length")
    p.add_argument("--batch", type=int, default=4, help="scenes per step")
    p.add_argument("--steps", type=int, default=3, help="timed steps per variant (median kept)")
    p.add_argument(
        "--variants",
        default="threads2,bf16",
        help=f"step options to try against eager fp32 on one thread: {','.join(VARIANTS)} "
        "('compile' takes minutes to compile)",
    )
    p.add_argument("--json", action="store_true", help="one JSON object per config and line")
    p.set_defaults(func=run)


def _inputs(task: str, batch: int, n: int):
    import torch

    from engine.constants import N_CHANNELS, N_FOREGROUND, NUM_CLASSES

    g = torch.Generator().manual_seed(0)
    mix = 0.05 * torch.randn(batch, N_CHANNELS, n, generator=g)
    targets = 0.02 * torch.randn(batch, N_FOREGROUND, n, generator=g)
    if task == "uss":
        return (mix,), targets
    if task == "tse":
        clue = torch.zeros(batch, N_FOREGROUND, NUM_CLASSES)
        clue[:, :, 0] = 1.0
        return (mix, targets + 0.01 * torch.randn(targets.shape, generator=g), clue), targets
    return (targets.reshape(batch * N_FOREGROUND, n),), torch.arange(batch * N_FOREGROUND) % 18


def _loss(task: str, model, args, targets):
    """A loss of the task's shape: separation SNR terms for separators, CE for the classifier."""
    import torch.nn.functional as F

    from engine.losses import neg_sdr_soft

    if task == "sc":
        return F.cross_entropy(model(*args).float(), targets)
    out = model(*args)
    mix0 = args[0][:, 0]
    loss = neg_sdr_soft(out.foreground.float(), targets, mix0, dims=(-2, -1)).mean()
    loss = loss + 0.01 * neg_sdr_soft(out.noise.float()[:, 0], 0 * mix0, mix0).mean()
    if out.class_logits is not None:
        loss = loss + 0.1 * out.class_logits.float().logsumexp(-1).mean()
    return loss


def _median_step_s(task, model, run, args, targets, steps: int, bf16: bool = False) -> float:
    """Median seconds of `steps` training steps of `run` (the model, compiled or wrapped),
    after one warm-up step (which compiles)."""
    import contextlib

    import torch

    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    ctx = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if bf16 else contextlib.nullcontext

    def step() -> None:
        with ctx():
            loss = _loss(task, run, args, targets)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()

    step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2]


def _ddp_worker(rank: int, task, config, seconds, batch, steps, compiled, folder) -> None:
    """One of `DDP_WORLD` one-thread processes: its share of the batch, gradients all-reduced
    (the mean over the world: the same step as the whole batch in one process)."""
    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    from engine.constants import SAMPLE_RATE
    from engine.models.registry import build_model

    torch.set_num_threads(1)
    store = f"file://{os.path.join(folder, 'store')}"
    dist.init_process_group("gloo", init_method=store, rank=rank, world_size=DDP_WORLD)
    try:
        args, targets = _inputs(task, batch, int(seconds * SAMPLE_RATE))

        def share(t):
            rows = len(t) // DDP_WORLD
            return t[rank * rows : (rank + 1) * rows]

        args, targets = tuple(share(a) for a in args), share(targets)
        torch.manual_seed(0)
        model = build_model(TASK_MODELS[task], config).train()
        wrapped = DistributedDataParallel(model)
        run = torch.compile(wrapped) if compiled else wrapped
        dist.barrier()
        t = _median_step_s(task, model, run, args, targets, steps)
        if rank == 0:
            with open(os.path.join(folder, "seconds"), "w") as f:
                f.write(repr(t))
    finally:
        dist.destroy_process_group()


def _ddp_rate(task, config, seconds, batch, steps, compiled: bool) -> float:
    """Audio-seconds per second of `DDP_WORLD` one-thread DDP processes on gloo."""
    import tempfile

    import torch.multiprocessing as mp

    with tempfile.TemporaryDirectory() as folder:
        mp.spawn(
            _ddp_worker,
            args=(task, config, seconds, batch, steps, compiled, folder),
            nprocs=DDP_WORLD,
            join=True,
        )
        with open(os.path.join(folder, "seconds")) as f:
            return batch * seconds / float(f.read())


def measure(task: str, config: str, seconds: float, batch: int, steps: int, variants: list[str]):
    """Baseline and variants of one config, in this process."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from engine.constants import SAMPLE_RATE
    from engine.models.registry import build_model

    n = int(seconds * SAMPLE_RATE)
    args, targets = _inputs(task, batch, n)
    if any(v.startswith("ddp") for v in variants) and batch % DDP_WORLD:
        raise ValueError(f"the ddp variants split the batch over {DDP_WORLD}: got batch {batch}")

    def rate(variant: str) -> float:
        if variant.startswith("ddp"):
            return _ddp_rate(task, config, seconds, batch, steps, variant.endswith("compile"))
        torch.set_num_threads(2 if variant == "threads2" else 1)
        torch.manual_seed(0)
        model = build_model(TASK_MODELS[task], config).train()
        run = torch.compile(model) if variant == "compile" else model
        t = _median_step_s(task, model, run, args, targets, steps, bf16=variant == "bf16")
        return batch * seconds / t

    torch.set_num_threads(1)
    model = build_model(TASK_MODELS[task], config)
    params = sum(p.numel() for p in model.parameters())
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(*[a[:1] for a in args])
    gflop = counter.get_total_flops() / 1e9 / seconds
    del model
    base = rate("eager_fp32")
    rates = {v: rate(v) for v in variants}
    best = max(rates, key=rates.get, default="eager_fp32")
    best_rate = max(base, rates.get(best, 0.0))
    return {
        "task": task,
        "config": config,
        "params": params,
        "gflop_per_audio_s": round(gflop, 2),
        "eager_fp32_audio_s_per_s": round(base, 3),
        **{f"{v}_audio_s_per_s": round(r, 3) for v, r in rates.items()},
        "audio_s_per_s": round(best_rate, 3),
        "best_variant": best if rates.get(best, 0.0) > base else "eager_fp32",
        "speedup_vs_eager_fp32": round(best_rate / base, 3),
        "seconds": seconds,
        "batch": batch,
    }


def _child(*args) -> None:
    print(json.dumps(measure(*args)))


def run(args: argparse.Namespace) -> int:
    """Measure each config in a child process; print a table or JSON lines."""
    from engine.bench.machine import describe

    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        print(f"error: unknown variants {unknown}; known: {', '.join(VARIANTS)}", file=sys.stderr)
        return 2
    machine = f"{describe()}, load average {os.getloadavg()[0]:.2f} at start"
    if not args.json:
        print(f"machine: {machine}")
        print(f"{args.task}: {args.seconds:g} s scenes, batch {args.batch}, forward+backward+AdamW")
        print(
            f"{'config':10} {'params':>9} {'GFLOP/audio s':>13} {'eager fp32':>10} "
            f"{'best':>8} {'variant':>10} {'speedup':>8}   (audio-s trained per s)"
        )
    for config in [c.strip() for c in args.configs.split(",") if c.strip()]:
        code = (
            "from engine.bench.train import _child; "
            f"_child({args.task!r}, {config!r}, {args.seconds!r}, {args.batch!r}, "
            f"{args.steps!r}, {variants!r})"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if out.returncode:
            print(out.stderr, file=sys.stderr)
            return out.returncode
        r = json.loads(out.stdout.strip().splitlines()[-1])
        r["machine"] = machine
        if args.json:
            print(json.dumps(r), flush=True)
        else:
            print(
                f"{r['config']:10} {r['params']:>9,} {r['gflop_per_audio_s']:>13.1f} "
                f"{r['eager_fp32_audio_s_per_s']:>10.3f} {r['audio_s_per_s']:>8.3f} "
                f"{r['best_variant']:>10} {r['speedup_vs_eager_fp32']:>8.2f}",
                flush=True,
            )
    return 0
