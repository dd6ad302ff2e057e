"""`scenesplit separate INPUT -o OUTDIR`: stems per detected class plus a manifest."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `separate` subcommand."""
    p = sub.add_parser("separate", help="split a recording into labelled stems")
    p.add_argument("input", help="recording (WAV/FLAC/OGG/...; 4-ch FOA, mono or stereo)")
    p.add_argument("-o", "--out", required=True, help="output folder for stems and manifest.json")
    p.add_argument("--bundle", help="model bundle folder (default: the shipped bundle)")
    p.add_argument("--tse-rounds", type=int, default=2, help="TSE iterations (paper: 2)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N")
    p.add_argument("--channels", help="file channels to use, e.g. '0-3' or '0,1'")
    p.add_argument("--window", type=float, default=10.0, help="analysis window in seconds")
    p.add_argument("--hop", type=float, default=7.5, help="window hop in seconds")
    p.add_argument("--batch", type=int, default=2, help="windows per forward pass")
    p.add_argument("--json", action="store_true", help="print the manifest summary as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Separate the recording and print a summary of the tracks."""
    from engine import paths
    from engine.audio import audio_info, parse_channel_selection
    from engine.cli.console import ConsoleProgress
    from engine.errors import ScenesplitError
    from engine.pipeline.recording import separate_recording
    from engine.pipeline.separator import Separator
    from engine.pipeline.windows import WindowSpec

    channels = None
    if args.channels:
        channels = parse_channel_selection(
            args.channels, audio_info(args.input).channels, args.input
        )
    else:
        audio_info(args.input)  # fail on a bad input before loading models
    if not 0 < args.hop <= args.window:
        raise ScenesplitError(
            f"need 0 < --hop <= --window, got hop {args.hop}, window {args.window}"
        )
    separator = Separator.from_path(
        args.bundle or paths.default_bundle_dir(),
        args.device,
        tse_rounds=args.tse_rounds,
        batch_windows=args.batch,
    )
    manifest = separate_recording(
        separator,
        args.input,
        args.out,
        window=WindowSpec(args.window, args.hop),
        channels=channels,
        progress=ConsoleProgress(),
    )
    if args.json:
        print(
            json.dumps(
                {
                    "out": args.out,
                    "tracks": [
                        {
                            "label": t.label,
                            "file": t.file,
                            "confidence": t.confidence,
                            "clips": len(t.clips),
                        }
                        for t in manifest.tracks
                    ],
                },
                indent=2,
            )
        )
        return 0
    print(f"{len(manifest.tracks)} tracks -> {args.out}")
    for t in manifest.tracks:
        spans = ", ".join(f"{c.start_s:.1f}-{c.end_s:.1f}s" for c in t.clips[:4])
        more = f" (+{len(t.clips) - 4})" if len(t.clips) > 4 else ""
        print(f"  {t.label:<18} p={t.confidence:.2f}  {t.file}  [{spans}{more}]")
    return 0
