"""`scenesplit separate INPUT -o OUTDIR`: stems per detected class plus a manifest."""

from __future__ import annotations

import argparse
import json

from engine.contract import DEFAULTS, TSE_ROUNDS_HELP


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `separate` subcommand."""
    p = sub.add_parser("separate", help="split a recording into labelled stems")
    p.add_argument("input", help="recording (WAV/FLAC/OGG/...; 4-ch FOA, mono or stereo)")
    p.add_argument("-o", "--out", required=True, help="output folder for stems and manifest.json")
    p.add_argument("--bundle", help="model bundle folder (default: the shipped bundle)")
    p.add_argument("--tse-rounds", type=int, default=DEFAULTS.tse_rounds, help=TSE_ROUNDS_HELP)
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N")
    p.add_argument("--channels", help="file channels to use, e.g. '0-3' or '0,1'")
    p.add_argument(
        "--window", type=float, default=DEFAULTS.window_s, help="analysis window in seconds"
    )
    p.add_argument("--hop", type=float, default=DEFAULTS.hop_s, help="window hop in seconds")
    p.add_argument(
        "--batch", type=int, default=DEFAULTS.batch_windows, help="windows per forward pass"
    )
    p.add_argument(
        "--start",
        type=float,
        default=0.0,
        metavar="S",
        help="separate from S seconds into the file (times in the result count from there)",
    )
    p.add_argument(
        "--duration",
        type=float,
        metavar="D",
        help="separate only D seconds (default: to the end of the file)",
    )
    p.add_argument("--json", action="store_true", help="print the manifest summary as JSON")
    p.add_argument(
        "--server",
        metavar="URL",
        help="run on an engine server (scenesplit serve) instead of loading models here",
    )
    p.add_argument("--token-file", help="the server's token file (with --server)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Separate the recording and print a summary of the tracks."""
    if args.server:
        if args.start or args.duration is not None:
            from engine.errors import ScenesplitError

            raise ScenesplitError("--start/--duration work on this machine only, not with --server")
        return run_on_server(args)
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
    if args.start or args.duration is not None:
        from engine.pipeline.windows import source_range

        source_range(args.input, args.start, args.duration)  # a bad range fails early too
    if args.batch < 1:  # as the server's options schema: 1..64
        raise ScenesplitError(f"--batch must be at least 1, got {args.batch}")
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
        start_s=args.start,
        duration_s=args.duration,
    )
    print_summary(args.out, manifest.to_dict()["tracks"], args.json)
    return 0


def print_summary(out: str, tracks: list[dict], as_json: bool) -> None:
    """The tracks written to `out`, as text or JSON."""
    if as_json:
        summary = [
            {k: t[k] for k in ("label", "file", "confidence")} | {"clips": len(t["clips"])}
            for t in tracks
        ]
        print(json.dumps({"out": out, "tracks": summary}, indent=2))
        return
    print(f"{len(tracks)} tracks -> {out}")
    for t in tracks:
        clips = t["clips"]
        spans = ", ".join(f"{c['start_s']:.1f}-{c['end_s']:.1f}s" for c in clips[:4])
        more = f" (+{len(clips) - 4})" if len(clips) > 4 else ""
        print(f"  {t['label']:<18} p={t['confidence']:.2f}  {t['file']}  [{spans}{more}]")


def run_on_server(args: argparse.Namespace) -> int:
    """Submit to an engine server, follow its progress, download stems + manifest into --out."""
    from pathlib import Path

    from engine.cli.console import job_progress
    from engine.client import EngineClient
    from engine.errors import ScenesplitError

    if not args.token_file:
        raise ScenesplitError("--server needs --token-file (the token file the server wrote)")
    if not Path(args.input).is_file():
        raise ScenesplitError(f"{args.input}: file not found")
    options = {
        "tse_rounds": args.tse_rounds,
        "channels": args.channels,
        "window_s": args.window,
        "hop_s": args.hop,
        "batch_windows": args.batch,
    }
    with EngineClient.from_token_file(args.server, args.token_file) as client:
        job = client.submit(args.input, **options)
        try:
            final = client.wait(job["id"], on_update=job_progress(args.server))
        except KeyboardInterrupt:
            client.cancel(job["id"])
            raise
        if final["state"] != "done":
            reason = final.get("error") or final["state"]
            raise ScenesplitError(f"job {job['id']} {final['state']} on the server: {reason}")
        manifest = client.download_version(job["id"], max(final["versions"]), args.out)
    print_summary(args.out, manifest["tracks"], args.json)
    return 0
