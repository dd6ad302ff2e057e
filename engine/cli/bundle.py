"""`scenesplit bundle assemble|recalibrate|export|info`: trained checkpoints -> the app's bundle."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `bundle` subcommand."""
    p = sub.add_parser("bundle", help="assemble trained checkpoints into a model bundle")
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)

    a = verbs.add_parser("assemble", help="write a bundle folder from USS, TSE and SC checkpoints")
    a.add_argument("--uss", required=True, help="DeFT-Mamba-USS checkpoint (e.g. runs/uss/best.pt)")
    a.add_argument("--tse", required=True, help="DeFT-Mamba-TSE checkpoint")
    a.add_argument("--sc", required=True, help="M2D-SC checkpoint (with calibrated thresholds)")
    a.add_argument("--out", required=True, help="bundle folder to write")
    a.add_argument("--name", default="", help="bundle name (default: the folder name)")
    a.add_argument("--half", action="store_true", help="store weights as fp16 (shipped bundles)")
    a.set_defaults(func=assemble)

    r = verbs.add_parser(
        "recalibrate",
        help="set the SC silence thresholds on the pipeline's own outputs (in place)",
    )
    r.add_argument("bundle", help="bundle folder to recalibrate")
    r.add_argument(
        "--data", required=True, help="calibration scenes in the DCASE layout (not the test set)"
    )
    r.add_argument("--limit", type=int, default=None, help="use the first N scenes only")
    r.add_argument("--device", default="cpu")
    r.set_defaults(func=recalibrate)

    e = verbs.add_parser("export", help="copy a checkpoint without trainer state (optionally fp16)")
    e.add_argument("checkpoint")
    e.add_argument("--out", required=True)
    e.add_argument("--half", action="store_true", help="store floats as fp16 (half the size)")
    e.set_defaults(func=export)

    i = verbs.add_parser("info", help="describe a bundle folder or a checkpoint")
    i.add_argument("path")
    i.set_defaults(func=info)


def assemble(args: argparse.Namespace) -> int:
    """Load the three checkpoints, check their roles and write the bundle."""
    from engine.train.bundle import assemble_bundle

    path = assemble_bundle(args.uss, args.tse, args.sc, args.out, name=args.name, half=args.half)
    print(f"bundle -> {path}")
    return 0


def recalibrate(args: argparse.Namespace) -> int:
    """Recalibrate a bundle's SC thresholds on calibration scenes and print what changed."""
    from engine.cli.console import ConsoleProgress
    from engine.train.recalibrate import recalibrate_bundle

    notes = recalibrate_bundle(
        args.bundle, args.data, limit=args.limit, device=args.device, progress=ConsoleProgress()
    )
    print(json.dumps(notes, indent=1))
    return 0


def export(args: argparse.Namespace) -> int:
    """Strip trainer state (and halve floats with --half)."""
    from engine.train.checkpoints import checkpoint_summary, export_weights, format_summary

    dst = export_weights(args.checkpoint, args.out, half=args.half)
    print(format_summary(checkpoint_summary(dst)))
    return 0


def info(args: argparse.Namespace) -> int:
    """Print a bundle's description or a checkpoint's summary as JSON."""
    from pathlib import Path

    path = Path(args.path)
    if path.is_dir():
        from engine.pipeline.bundle import read_bundle_meta

        meta = read_bundle_meta(path)
        print(json.dumps({k: v for k, v in meta.items() if k != "thresholds"}, indent=1))
    else:
        from engine.train.checkpoints import checkpoint_summary

        print(json.dumps(checkpoint_summary(path), indent=1))
    return 0
