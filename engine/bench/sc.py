"""M2D-SC benchmark: parameters, GFLOP, time and peak memory to classify 3 separated 10 s sources.

Each size runs in a fresh child process so its peak RSS belongs to that model alone. Weights are
random (speed and memory do not depend on them). GFLOP counts matrix products and convolutions
with torch's FlopCounterMode (2 FLOP per multiply-add) plus the attention products
(`QK^T` and `AV`: 4 B N^2 D per layer), counted by hooks because FlopCounterMode does not see
the CPU kernel of scaled_dot_product_attention; the STFT is left out (well under 1 %).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

SIZES = ("tiny", "small", "base")


def register(sub: argparse._SubParsersAction) -> None:
    """Add `bench sc`."""
    p = sub.add_parser("sc", help="M2D-SC classifier cost per ViT size (3 x 10 s sources)")
    p.add_argument("--sizes", default=",".join(SIZES), help="comma-separated: tiny,small,base")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--repeats", type=int, default=3, help="timed passes (median reported)")
    p.set_defaults(func=run)


def _child(size: str, device: str, repeats: int) -> None:
    import statistics
    import time

    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from engine.bench.machine import peak_rss_mb
    from engine.constants import SCENE_SAMPLES
    from engine.models.m2d_sc import M2DSC, SCConfig
    from engine.models.vit import VIT_SIZES, Attention

    s = VIT_SIZES[size]
    model = M2DSC(SCConfig(embed_dim=s.embed_dim, depth=s.depth, num_heads=s.num_heads))
    model = model.to(device).eval()
    params = sum(p.numel() for p in model.parameters())
    wave = 0.1 * torch.randn(3, SCENE_SAMPLES, device=device)
    attention_flops = []

    def count_attention(module, inputs):
        b, n, d = inputs[0].shape
        attention_flops.append(4 * b * n * n * d)

    hooks = [
        m.register_forward_pre_hook(count_attention)
        for m in model.modules()
        if isinstance(m, Attention)
    ]
    with torch.inference_mode():
        counter = FlopCounterMode(display=False)
        with counter:
            model(wave)
        for h in hooks:
            h.remove()
        counted = {str(k) for k in counter.get_flop_counts()["Global"]}
        flops = counter.get_total_flops()
        if not any("attention" in k for k in counted):
            flops += sum(attention_flops)
        times = []
        for _ in range(repeats + 1):  # the first pass warms caches and allocators
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            start = time.perf_counter()
            model.classify(wave)
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            times.append(time.perf_counter() - start)
    row = {
        "size": size,
        "params_m": params / 1e6,
        "gflop": flops / 1e9,
        "seconds": statistics.median(times[1:]),
        "peak_rss_mb": peak_rss_mb(),
        "threads": torch.get_num_threads(),
    }
    if device.startswith("cuda"):
        row["peak_gpu_mb"] = torch.cuda.max_memory_allocated() / 2**20
    print(json.dumps(row))


def run(args: argparse.Namespace) -> int:
    """Measure each size in a child process and print a table."""
    from engine.bench.machine import describe

    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown or not sizes:
        print(f"unknown sizes {unknown}; choose from {', '.join(SIZES)}", file=sys.stderr)
        return 2
    if args.repeats < 1:
        print("--repeats must be at least 1", file=sys.stderr)
        return 2
    rows = []
    for size in sizes:
        code = (
            f"from engine.bench.sc import _child; _child({size!r}, {args.device!r}, {args.repeats})"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if out.returncode:
            print(out.stderr, file=sys.stderr)
            return out.returncode
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"machine: {describe()}")
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"load average (1/5/15 min) {load}: the machine may be shared with other jobs, so "
        "times are upper bounds"
    )
    print(
        f"task: classify 3 separated 10 s sources (batch [3, 320000]), device {args.device}, "
        f"median of {args.repeats} passes after one warm-up, {rows[0]['threads']} torch threads"
    )
    gpu = "peak_gpu_mb" in rows[0]
    header = f"{'size':<6} {'params':>9} {'GFLOP':>8} {'seconds':>8} {'peak RSS':>9}"
    print(header + (f" {'peak GPU':>9}" if gpu else ""))
    for r in rows:
        line = (
            f"{r['size']:<6} {r['params_m']:>8.2f}M {r['gflop']:>8.1f} {r['seconds']:>8.3f} "
            f"{r['peak_rss_mb']:>7.0f}MB"
        )
        print(line + (f" {r['peak_gpu_mb']:>7.0f}MB" if gpu else ""))
    return 0
