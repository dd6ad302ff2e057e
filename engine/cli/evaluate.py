"""`scenesplit evaluate --data DIR (--bundle DIR | --estimates DIR) --json OUT`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from engine.contract import PAPER_TSE_ROUNDS


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `evaluate` subcommand."""
    p = sub.add_parser("evaluate", help="Table 1 figures (SNRi, accuracy, CA-SDRi) on a scene set")
    p.add_argument(
        "--data", required=True, help="set in the official layout (soundscape/, oracle_target/)"
    )
    src = p.add_mutually_exclusive_group()
    src.add_argument("--bundle", help="model bundle to run (default: the shipped bundle)")
    src.add_argument("--estimates", help="folder of <soundscape>_<Label>.wav estimates to score")
    p.add_argument("--json", help="write the full report (per-class, confusion) here")
    p.add_argument(
        "--tse-rounds",
        type=int,
        default=PAPER_TSE_ROUNDS,
        help="TSE iterations (default: the report's 2, so that the table has every stage)",
    )
    p.add_argument("--device", default="auto")
    p.add_argument("--limit", type=int, help="score only the first N scenes")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Evaluate and print the table."""
    from engine import paths
    from engine.cli.console import ConsoleProgress
    from engine.eval.evaluate import (
        confusion_text,
        evaluate_estimates,
        evaluate_separator,
        format_table,
    )

    if args.estimates:
        report = evaluate_estimates(args.estimates, args.data, progress=ConsoleProgress())
    else:
        from engine.pipeline.separator import Separator

        sep = Separator.from_path(
            args.bundle or paths.default_bundle_dir(), args.device, tse_rounds=args.tse_rounds
        )
        report = evaluate_separator(sep, args.data, limit=args.limit, progress=ConsoleProgress())
    if report.get("estimates_found") == 0:
        # Scored as all-silence, the table would look like a (very bad) result: say why.
        print(
            f"scenesplit evaluate: warning: no estimates found in {args.estimates} (expected "
            "<soundscape>_<Label>.wav files, e.g. from `scenesplit separate`); every scene "
            "is scored as silence",
            file=sys.stderr,
        )
    print(format_table(report))
    print("most frequent confusions (reference -> estimate):")
    print(confusion_text(report))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        try:
            Path(args.json).write_text(json.dumps(report, indent=1))
        except OSError as exc:  # a failed write() names no file: name it
            raise OSError(exc.errno, exc.strerror, args.json) from None
        print(f"report -> {args.json}")
    return 0
