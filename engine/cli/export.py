"""`scenesplit export RESULT_DIR -o OUT --format {rpp,lof,otio,stems}`: take a result out.

rpp/lof/otio: a DAW session written by `plugins.sessions` (the same writers as the editor's
export); files inside it are named relative to OUT's folder, so the session and the result
travel together.
stems: every stem delivered into the folder OUT as a project needs it (`engine.audio.delivery`:
the recording's rate by default, WAV/FLAC at a chosen depth, optionally the recording's
channels), with `stems.json` saying what was written.
"""

from __future__ import annotations

import argparse

FORMATS = ("rpp", "lof", "otio", "stems")
BITS = {"16": "PCM_16", "24": "PCM_24", "32f": "FLOAT"}


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `export` subcommand."""
    p = sub.add_parser(
        "export",
        help="write a DAW session (REAPER, Audacity, OTIO) or deliver the stems of a result",
    )
    p.add_argument("result", help="folder of a `scenesplit separate` result (manifest.json)")
    p.add_argument(
        "-o", "--out", required=True, metavar="OUT", help="session file, or folder for stems"
    )
    p.add_argument(
        "--format",
        choices=FORMATS,
        help="rpp (REAPER), lof (Audacity), otio (OpenTimelineIO), stems (audio files into "
        "the folder OUT); default: OUT's suffix",
    )
    stems = p.add_argument_group("stems")
    stems.add_argument(
        "--rate", default="source", help="sample rate in Hz, or 'source' (the recording's)"
    )
    stems.add_argument("--bits", choices=tuple(BITS), default="32f", help="bit depth (32f: float)")
    stems.add_argument("--flac", action="store_true", help="FLAC instead of WAV (16 or 24 bits)")
    stems.add_argument(
        "--spatial",
        action="store_true",
        help="stems with the recording's channels (FOA from FOA, stereo from stereo)",
    )
    stems.add_argument("--overwrite", action="store_true", help="replace existing files")
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
    if fmt == "stems":
        return _deliver(args)
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


def _deliver(args: argparse.Namespace) -> int:
    """`--format stems`: every stem of the result into the folder `args.out`."""
    import json
    from pathlib import Path

    from engine.audio.delivery import StemFormat, deliver_stem
    from engine.durable import write_text_durable
    from engine.errors import ScenesplitError
    from engine.pipeline.manifest import Manifest

    if args.rate != "source" and not args.rate.isdigit():
        raise ScenesplitError(f"--rate must be a number of Hz or 'source', got {args.rate!r}")
    fmt = StemFormat(
        sample_rate=None if args.rate == "source" else int(args.rate),
        container="flac" if args.flac else "wav",
        subtype=BITS[args.bits] if not (args.flac and args.bits == "32f") else "PCM_24",
        spatial=args.spatial,
    )
    result, folder = Path(args.result), Path(args.out)
    manifest = Manifest.load(result)
    recording = manifest.recording
    if folder.exists() and not folder.is_dir():
        raise ScenesplitError(f"{folder}: is a file; --format stems writes into a folder")
    files = [
        (t.label, result / t.file, folder / f"{recording['name']}_{t.label}{fmt.suffix}")
        for t in manifest.tracks
    ]
    missing = [str(src) for _, src, _ in files if not src.is_file()]
    if missing:
        raise ScenesplitError(f"{result}: stems missing: {', '.join(missing)}")
    taken = [str(dest) for _, _, dest in files if dest.exists()]
    if taken and not args.overwrite:
        raise ScenesplitError(f"{folder}: would replace {', '.join(taken)} (add --overwrite)")
    written = []
    for label, src, dest in files:
        deliver_stem(src, dest, recording, fmt, description=label)
        written.append({"label": label, "file": dest.name})
        print(f"{label:>18} -> {dest}", flush=True)
    what = fmt.describe(recording)
    summary = {"recording": recording.get("path"), "format": fmt.to_dict(), "description": what}
    write_text_durable(folder / "stems.json", json.dumps({**summary, "files": written}, indent=1))
    print(f"{len(written)} stems ({what}) -> {folder}")
    return 0
