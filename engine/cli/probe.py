"""`scenesplit probe FILE`: what the audio layer makes of a file (and whether every sample is sane)."""

from __future__ import annotations

import argparse
import json
import sys


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `probe` subcommand."""
    p = sub.add_parser("probe", help="report format, channels and their interpretation, duration")
    p.add_argument("file", help="audio file (anything libsndfile reads)")
    p.add_argument("--quick", action="store_true", help="header only: skip the sample scan")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Probe the file and print the report."""
    from engine.audio import LAYOUTS, audio_info, scan
    from engine.audio.riff import wav_truncation
    from engine.constants import SAMPLE_RATE

    info = audio_info(args.file)
    report = info.to_dict()
    cut = wav_truncation(args.file)
    report["truncated"] = cut.message() if cut else None
    if cut and args.json:
        # Readable (what is there is used), but shorter than recorded: a script reading the
        # JSON gets the field, its user this line (the text report has a warning row).
        print(f"scenesplit probe: warning: {info.path}: {cut.message()}", file=sys.stderr)
    if info.layout is not None:
        report["channel_names"] = list(LAYOUTS[info.layout].channel_names)
    report["resampled_to"] = SAMPLE_RATE if info.sample_rate != SAMPLE_RATE else None
    if not args.quick:
        report.update(scan(args.file))
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    minutes, seconds = divmod(info.duration_s, 60)
    lines = [
        ("file", info.path),
        ("format", f"{info.format} / {info.subtype}"),
        (
            "sample rate",
            f"{info.sample_rate} Hz"
            + (f" (resampled to {SAMPLE_RATE} Hz)" if report["resampled_to"] else ""),
        ),
        ("duration", f"{int(minutes)}:{seconds:06.3f} ({info.frames} samples)"),
        (
            "channels",
            f"{info.channels}"
            + (f" ({', '.join(report['channel_names'])})" if "channel_names" in report else ""),
        ),
        ("interpretation", info.layout_description),
    ]
    if cut:
        lines.append(("warning", cut.message()))
    if "peak" in report:
        lines.append(("peak", ", ".join(f"{p:.3f}" for p in report["peak"])))
        lines.append(("rms (dBFS)", ", ".join(f"{r:.1f}" for r in report["rms_db"])))
    width = max(len(k) for k, _ in lines)
    for key, value in lines:
        print(f"{key:<{width}}  {value}")
    return 0
