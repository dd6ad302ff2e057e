"""Block-reading benchmark: peak memory and read rate for a long 4-channel file.

Runs in a fresh child process so the peak RSS it reports belongs to reading alone.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def register(sub: argparse._SubParsersAction) -> None:
    """Add `bench io`."""
    p = sub.add_parser("io", help="peak memory and rate of block reading a long 4-channel file")
    p.add_argument("--minutes", type=float, default=60.0, help="length of the test file")
    p.add_argument("--rate", type=int, default=48_000, help="its sample rate (48 kHz: resampled)")
    p.add_argument("--file", help="measure this file instead of a generated one")
    p.set_defaults(func=run)


def make_long_file(path: Path, minutes: float, rate: int, channels: int = 4) -> None:
    """Write a long PCM-16 WAV of quiet noise, block by block."""
    import soundfile as sf

    rng = np.random.default_rng(0)
    block = rng.normal(0, 0.05, (rate * 10, channels)).astype(np.float32)
    total = int(minutes * 60 * rate)
    with sf.SoundFile(str(path), "w", rate, channels, subtype="PCM_16", format="WAV") as f:
        written = 0
        while written < total:
            n = min(block.shape[0], total - written)
            f.write(block[:n])
            written += n


def long_file(args: argparse.Namespace, tmp: str) -> Path:
    """The file a long-file benchmark measures: `--file`, else one written into `tmp`."""
    if args.file:
        return Path(args.file)
    path = Path(tmp) / "long.wav"
    print(f"writing {args.minutes:g} min of 4-channel {args.rate} Hz audio ...", flush=True)
    make_long_file(path, args.minutes, args.rate)
    return path


def _child(path: str) -> None:
    from engine.audio import iter_blocks
    from engine.bench.machine import peak_rss_mb

    base = peak_rss_mb()
    start = time.perf_counter()
    samples = 0
    for block in iter_blocks(path, 10.0, foa=True):
        samples += block.shape[1]
    elapsed = time.perf_counter() - start
    print(
        json.dumps(
            {
                "seconds_of_audio": samples / 32000,
                "elapsed_s": elapsed,
                "peak_rss_mb": peak_rss_mb(),
                "rss_before_read_mb": base,
            }
        )
    )


def run(args: argparse.Namespace) -> int:
    """Generate (or take) the file, read it in a child process, print the figures."""
    from engine.bench.machine import describe

    with tempfile.TemporaryDirectory() as tmp:
        path = long_file(args, tmp)
        code = f"from engine.bench.io import _child; _child({str(path)!r})"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if out.returncode:
            print(out.stderr, file=sys.stderr)
            return out.returncode
        r = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"machine: {describe()}")
    print(f"file: {path.name if args.file else f'{args.minutes:g} min, 4 ch, {args.rate} Hz'}")
    print(
        f"read {r['seconds_of_audio'] / 60:.1f} min of audio in {r['elapsed_s']:.1f} s "
        f"({r['seconds_of_audio'] / r['elapsed_s']:.0f}x real time)"
    )
    print(
        f"peak RSS {r['peak_rss_mb']:.0f} MB (interpreter + imports before reading: "
        f"{r['rss_before_read_mb']:.0f} MB)"
    )
    return 0
