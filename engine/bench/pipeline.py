"""Full-pipeline benchmark: real-time factor, refinement latency and peak memory vs. input length.

Each length runs in a fresh child process so its peak RSS belongs to that run alone.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from engine.contract import DEFAULTS, TSE_ROUNDS_HELP


def register(sub: argparse._SubParsersAction) -> None:
    """Add `bench pipeline`."""
    p = sub.add_parser("pipeline", help="real-time factor, refinement latency, peak memory")
    p.add_argument("--minutes", default="1,10,60", help="comma-separated input lengths")
    p.add_argument("--bundle", help="bundle to run (default: a random bundle of --config)")
    p.add_argument("--config", default="lite", help="model sizes of the random bundle")
    p.add_argument("--device", default="auto")
    p.add_argument("--tse-rounds", type=int, default=DEFAULTS.tse_rounds, help=TSE_ROUNDS_HELP)
    p.add_argument("--batch", type=int, default=DEFAULTS.batch_windows)
    p.add_argument("--json", metavar="FILE", help="also write the rows as JSON to FILE")
    p.set_defaults(func=run)


def _child(
    recording: str, bundle: str, device: str, rounds: int | None, batch: int, out: str
) -> None:
    import torch

    from engine.bench.machine import peak_rss_mb
    from engine.contract import ChangeClass, RemoveClip
    from engine.pipeline.recording import separate_recording
    from engine.pipeline.refine import refine_result
    from engine.pipeline.separator import Separator

    sep = Separator.from_path(bundle, device, tse_rounds=rounds, batch_windows=batch)
    rss_loaded = peak_rss_mb()
    if sep.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    manifest = separate_recording(sep, recording, Path(out) / "v1")
    elapsed = time.perf_counter() - start
    result = {
        "audio_s": manifest.recording["duration_s"],
        "separate_s": elapsed,
        "rtf": elapsed / manifest.recording["duration_s"],
        "windows": len(manifest.windows),
        "tse_rounds": sep.tse_rounds,
        "tracks": len(manifest.tracks),
        "rss_after_load_mb": rss_loaded,
        "peak_rss_separate_mb": peak_rss_mb(),
    }
    clips = [c for t in manifest.tracks for c in t.clips]
    if clips:
        clip = clips[0]
        other = "Speech" if clip.label != "Speech" else "Doorbell"
        start = time.perf_counter()
        try:
            refine_result(sep, Path(out) / "v1", ChangeClass(clip.id, other), Path(out) / "v2")
        except Exception:  # noqa: BLE001 - e.g. the new class already in that window
            refine_result(sep, Path(out) / "v1", RemoveClip(clip.id), Path(out) / "v2")
        result["refine_s"] = time.perf_counter() - start
        result["refine_windows"] = len(clip.sources)
    result["peak_rss_mb"] = peak_rss_mb()
    if sep.device.type == "cuda":
        result["peak_gpu_mb"] = torch.cuda.max_memory_allocated() / 2**20
    print(json.dumps(result))


def run(args: argparse.Namespace) -> int:
    """Generate inputs, run each length in a child process, print a table."""
    from engine.bench.io import make_long_file
    from engine.bench.machine import describe
    from engine.pipeline.bundle import make_random_bundle

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        bundle = args.bundle
        if not bundle:
            bundle = str(make_random_bundle(Path(tmp) / "bundle", args.config))
        for minutes in (float(m) for m in args.minutes.split(",")):
            rec = Path(tmp) / f"rec_{minutes:g}min.wav"
            make_long_file(rec, minutes, 32_000)
            out = Path(tmp) / f"out_{minutes:g}"
            code = (
                f"from engine.bench.pipeline import _child; _child({str(rec)!r}, {bundle!r}, "
                f"{args.device!r}, {args.tse_rounds}, {args.batch}, {str(out)!r})"
            )
            proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
            if proc.returncode:
                print(proc.stderr, file=sys.stderr)
                return proc.returncode
            rows.append((minutes, json.loads(proc.stdout.strip().splitlines()[-1])))
            rec.unlink()
    if args.json:
        report = {
            "machine": describe(),
            "bundle": args.bundle or f"random {args.config}",
            "device": args.device,
            "rows": [{"minutes": minutes, **r} for minutes, r in rows],
        }
        Path(args.json).write_text(json.dumps(report, indent=1))
    print(f"machine: {describe()}")
    print(
        f"bundle: {args.bundle or 'random ' + args.config}, device {args.device}, "
        f"TSE rounds {rows[0][1]['tse_rounds'] if rows else args.tse_rounds}, batch {args.batch}"
    )
    print(
        f"{'input':>8} {'windows':>8} {'RTF':>7} {'peak RSS separate':>18} {'refine (s)':>11} "
        f"{'refined windows':>16} {'peak RSS refine':>16}"
    )
    for minutes, r in rows:
        refine = f"{r['refine_s']:.2f}" if "refine_s" in r else "-"
        print(
            f"{minutes:>6g} m {r['windows']:>8} {r['rtf']:>7.3f} {r['peak_rss_separate_mb']:>18.0f} "
            f"{refine:>11} {r.get('refine_windows', 0):>16} {r['peak_rss_mb']:>16.0f}"
            + (f"  GPU {r['peak_gpu_mb']:.0f} MB" if "peak_gpu_mb" in r else "")
        )
    return 0
