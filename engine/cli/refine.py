"""`scenesplit refine RESULT_DIR --change-track OLD=NEW -o NEWDIR`: a correction, re-extracted.

The same refinement as the editor's (`engine.pipeline.refine.refine_result`): the result in
RESULT_DIR is left as it is and the new version is written to NEWDIR.
"""

from __future__ import annotations

import argparse


def _pair(text: str) -> tuple[str, str]:
    old, sep, new = text.partition("=")
    if not sep or not old or not new:
        raise argparse.ArgumentTypeError(f"expected OLD=NEW, got {text!r}")
    return old, new


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `refine` subcommand."""
    p = sub.add_parser(
        "refine",
        help="re-extract a corrected track or clip of a separation result into a new folder",
    )
    p.add_argument("result", help="folder of a `scenesplit separate` result (manifest.json)")
    p.add_argument("-o", "--out", required=True, help="folder for the new version")
    op = p.add_mutually_exclusive_group(required=True)
    op.add_argument(
        "--change-track",
        type=_pair,
        metavar="OLD=NEW",
        help="re-extract every clip of track OLD with the class clue NEW",
    )
    op.add_argument(
        "--change-clip",
        type=_pair,
        metavar="CLIP=NEW",
        help="re-extract one clip (its id in manifest.json) with the class clue NEW",
    )
    op.add_argument("--remove-clip", metavar="CLIP", help="remove a false detection")
    p.add_argument("--bundle", help="model bundle folder (default: the shipped bundle)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N")
    p.add_argument("--json", action="store_true", help="print the new tracks as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Apply the correction and print the new version's tracks."""
    from pathlib import Path

    from engine import paths
    from engine.cli.console import ConsoleProgress
    from engine.cli.separate import print_summary
    from engine.contract import ChangeClass, ChangeTrack, RemoveClip
    from engine.errors import ScenesplitError
    from engine.pipeline.manifest import Manifest
    from engine.pipeline.refine import refine_result
    from engine.pipeline.separator import Separator

    if Path(args.out).resolve() == Path(args.result).resolve():
        raise ScenesplitError("-o must be a new folder: the result you refine stays as it is")
    base = Manifest.load(args.result)  # a clear error before loading models
    if args.change_track:
        op = ChangeTrack(*args.change_track)
    elif args.change_clip:
        op = ChangeClass(*args.change_clip)
    else:
        op = RemoveClip(args.remove_clip)
    separator = Separator.from_path(
        args.bundle or paths.default_bundle_dir(),
        args.device,
        tse_rounds=base.options.get("tse_rounds"),  # as separated (None: the bundle's choice)
    )
    manifest = refine_result(
        separator, args.result, op, args.out, base=base, progress=ConsoleProgress()
    )
    print_summary(args.out, manifest.to_dict()["tracks"], args.json)
    return 0
