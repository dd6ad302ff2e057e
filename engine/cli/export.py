"""`scenesplit export RESULT_DIR --format {rpp,lof,otio} -o FILE`: a DAW session of a result.

The session is written by `plugins.sessions` (the same writers as the editor's export); files
inside it are named relative to FILE's folder, so the session and the result travel together.
"""

from __future__ import annotations

import argparse

FORMATS = ("rpp", "lof", "otio")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `export` subcommand."""
    p = sub.add_parser(
        "export",
        help="write a REAPER project, Audacity file list or OTIO timeline of a separation result",
    )
    p.add_argument("result", help="folder of a `scenesplit separate` result (manifest.json)")
    p.add_argument("-o", "--out", required=True, metavar="FILE", help="session file to write")
    p.add_argument(
        "--format",
        choices=FORMATS,
        help="rpp (REAPER), lof (Audacity), otio (OpenTimelineIO); default: FILE's suffix",
    )
    p.add_argument(
        "--no-mixture", action="store_true", help="leave the original recording out of the session"
    )
    p.add_argument(
        "--absolute", action="store_true", help="name files by absolute path instead of relative"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write the session and say where."""
    from pathlib import Path

    from engine.errors import ScenesplitError
    from engine.pipeline.manifest import Manifest

    out = Path(args.out)
    fmt = args.format or out.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise ScenesplitError(
            f"cannot tell the format from {out.name!r}: give --format ({', '.join(FORMATS)})"
        )
    manifest = Manifest.load(args.result).to_dict()
    missing = [
        t["file"] for t in manifest["tracks"] if not (Path(args.result) / t["file"]).is_file()
    ]
    if missing:
        raise ScenesplitError(f"{args.result}: stems missing: {', '.join(missing)}")
    if not out.parent.is_dir():
        raise ScenesplitError(f"{out.parent}: no such folder")
    from plugins.sessions import write_session

    try:
        path = write_session(
            manifest,
            args.result,
            out,
            fmt,
            relative=not args.absolute,
            include_mixture=not args.no_mixture,
        )
    except RuntimeError as exc:  # an optional writer library is not installed
        raise ScenesplitError(str(exc)) from None
    print(f"{fmt} session with {len(manifest['tracks'])} tracks -> {path}")
    return 0
