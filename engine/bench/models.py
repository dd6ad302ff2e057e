"""Separator cost: parameters, GFLOP per second of audio, forward time and memory per config.

Each config is measured in a fresh child process, so the peak RSS it reports is its own.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

MODEL = "deft_mamba_uss"


def register(sub: argparse._SubParsersAction) -> None:
    """Add `bench models`."""
    p = sub.add_parser("models", help="DeFT-Mamba-USS size, FLOPs, speed and memory per config")
    p.add_argument("--configs", default="paper,lite", help="comma-separated named configs")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    p.add_argument("--seconds", type=float, default=10.0, help="input length in seconds")
    p.add_argument("--dtype", default="float32", choices=("float32", "bfloat16"))
    p.add_argument("--repeats", type=int, default=1, help="timed forward passes (best is kept)")
    p.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch's default)")
    p.add_argument("--model", default=MODEL, choices=("deft_mamba_uss", "deft_mamba_tse"))
    p.set_defaults(func=run)


def measure(
    model_name: str,
    config: str,
    device: str,
    seconds: float,
    dtype: str,
    repeats: int,
    threads: int = 0,
) -> dict:
    """Build, count, time and measure one config in this process."""
    import time

    import torch
    from torch.utils.flop_counter import FlopCounterMode, sdpa_flop_count

    from engine.bench.machine import peak_rss_mb
    from engine.constants import N_CHANNELS, N_FOREGROUND, NUM_CLASSES, SAMPLE_RATE
    from engine.models.registry import build_model

    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    dt = getattr(torch, dtype)
    model = build_model(model_name, config).to(device).eval()
    params = sum(p.numel() for p in model.parameters())
    n = int(seconds * SAMPLE_RATE)

    def inputs(length: int) -> tuple[torch.Tensor, ...]:
        mix = 0.01 * torch.randn(1, N_CHANNELS, length, device=device)
        if model_name == "deft_mamba_tse":
            enr = 0.01 * torch.randn(1, N_FOREGROUND, length, device=device)
            clue = torch.zeros(1, N_FOREGROUND, NUM_CLASSES, device=device)
            return mix, enr, clue
        return (mix,)

    def forward(args: tuple[torch.Tensor, ...]) -> None:
        with torch.inference_mode(), torch.autocast(device, dt, enabled=dt != torch.float32):
            model(*args)
        if device == "cuda":
            torch.cuda.synchronize()

    args = inputs(n)
    # The counted pass doubles as warm-up. FLOPs: matrix products, convolutions, attention
    # (torch has no formula for the CPU flash-attention kernel; the generic one is added).
    cpu_sdpa = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu
    mapping = {cpu_sdpa: lambda q, k, v, *a, **kw: sdpa_flop_count(q, k, v)}
    with FlopCounterMode(display=False, custom_mapping=mapping) as counter:
        forward(args)
    flops = counter.get_total_flops()
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    times, cpu_times = [], []
    for _ in range(repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        forward(args)
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
    memory = torch.cuda.max_memory_allocated() / 2**20 if device == "cuda" else peak_rss_mb()
    return {
        "config": config,
        "params": params,
        "weights_mb": params * 4 / 2**20,
        "gflop_per_audio_s": flops / 1e9 / seconds,
        "forward_s": min(times),
        "forward_cpu_s": min(cpu_times),  # CPU time of all threads: robust to shared cores
        "gflops": flops / 1e9 / min(times),
        "peak_mb": memory,
        "threads": torch.get_num_threads(),
    }


def _child(*args) -> None:
    print(json.dumps(measure(*args)))


def run(args: argparse.Namespace) -> int:
    """Measure each config in a child process and print a table."""
    from engine.bench.machine import describe

    print(f"machine: {describe()} (shared with other jobs: timings are upper bounds)")
    mem = "peak GPU alloc MB" if args.device == "cuda" else "peak RSS MB"
    print(
        f"{args.model}, {args.seconds:g} s of 4-channel 32 kHz audio, {args.device}, {args.dtype}"
    )
    header = (
        f"{'config':8} {'params':>10} {'MB fp32':>8} {'GFLOP/audio s':>14} "
        f"{'fwd s':>8} {'fwd CPU s':>9} {'GFLOP/s':>8} {mem:>18} {'threads':>7}"
    )
    print(header)
    for config in [c.strip() for c in args.configs.split(",") if c.strip()]:
        code = (
            "from engine.bench.models import _child; "
            f"_child({args.model!r}, {config!r}, {args.device!r}, {args.seconds!r}, "
            f"{args.dtype!r}, {args.repeats!r}, {args.threads!r})"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if out.returncode:
            print(out.stderr, file=sys.stderr)
            return out.returncode
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{r['config']:8} {r['params']:>10,} {r['weights_mb']:>8.2f} "
            f"{r['gflop_per_audio_s']:>14.1f} {r['forward_s']:>8.2f} {r['forward_cpu_s']:>9.2f} "
            f"{r['gflops']:>8.1f} "
            f"{r['peak_mb']:>18.0f} {r['threads']:>7}",
            flush=True,
        )
    return 0
