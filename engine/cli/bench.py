"""`scenesplit bench`: measurements of the engine, one subcommand per benchmark."""

from __future__ import annotations

import argparse
import importlib

# Benchmark modules under engine.bench; each defines `register(subparsers)`.
BENCHMARKS = ("io", "scenes", "models", "train", "sc", "pipeline", "server", "editor")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `bench` subcommand and its benchmarks."""
    p = sub.add_parser("bench", help="measure speed and memory (machine described in the output)")
    bench_sub = p.add_subparsers(dest="benchmark", metavar="BENCHMARK", required=True)
    for name in BENCHMARKS:
        importlib.import_module(f"engine.bench.{name}").register(bench_sub)
