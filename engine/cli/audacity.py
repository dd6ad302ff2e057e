"""`scenesplit audacity separate|relabel`: split and correct inside a running Audacity.

The work is done by `plugins.audacity` (script pipe + engine client), imported only when the
command runs; this module adds what only the engine side knows: the cache folder, the console
progress display.
"""

from __future__ import annotations

import argparse

from engine.constants import CLASSES
from engine.contract import DEFAULTS, TSE_ROUNDS_HELP


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `audacity` subcommand and its actions."""
    p = sub.add_parser(
        "audacity",
        help="separate or correct the selection of a running Audacity (mod-script-pipe)",
        description="Works on the Audacity that runs on this machine, through its script pipe "
        "(Edit > Preferences > Modules: mod-script-pipe = Enabled, then restart Audacity).",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    sep = actions.add_parser(
        "separate",
        help="split the selected tracks and time range (nothing selected: the whole project) "
        "into one new track per detected class",
    )
    _engine_options(sep)
    sep.add_argument("--tse-rounds", type=int, help=TSE_ROUNDS_HELP)
    sep.add_argument(
        "--window", type=float, help=f"analysis window in seconds (default {DEFAULTS.window_s:g})"
    )
    sep.add_argument(
        "--hop", type=float, help=f"window hop in seconds (default {DEFAULTS.hop_s:g})"
    )
    sep.set_defaults(func=run_separate)
    rel = actions.add_parser(
        "relabel",
        help="re-extract the stem tracks you renamed to another class and replace their audio",
        description="Rename a stem track to one of: " + ", ".join(CLASSES) + "; then run this.",
    )
    _engine_options(rel)
    rel.set_defaults(func=run_relabel)


def _engine_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--engine-url", help="use a running engine (scenesplit serve) instead of a local one"
    )
    p.add_argument("--token-file", help="token file of that engine")
    p.add_argument("--device", default="auto", help="device of a local engine (auto/cpu/cuda)")
    p.add_argument("--bundle", help="model bundle of a local engine (default: the shipped one)")
    p.add_argument("--threads", type=int, help="CPU threads of a local engine's models")
    p.add_argument(
        "--pipe",
        default="/tmp/audacity_script_pipe",
        metavar="PREFIX",
        help="Audacity's script pipes without the .to.<uid>/.from.<uid> ending (default: %(default)s)",
    )
    p.add_argument(
        "--connect-timeout",
        type=float,
        default=3.0,
        help="seconds to wait for Audacity's script pipe (default: %(default)s)",
    )


def _setup(args: argparse.Namespace):
    """(pipe, engine spec, records folder, say) from the arguments."""
    import sys

    from engine.paths import cache_dir
    from plugins.audacity.pipe import ScriptPipe, default_paths
    from plugins.audacity.workflow import EngineSpec

    root = cache_dir() / "audacity"
    engine = EngineSpec(
        url=args.engine_url,
        token_file=args.token_file,
        workdir=root / "engine",
        bundle=args.bundle,
        device=args.device,
        threads=args.threads,
    )
    to_path, from_path = default_paths(args.pipe)
    pipe = ScriptPipe(to_path, from_path, connect_timeout=args.connect_timeout)

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    return pipe, engine, root / "sessions", say


def run_separate(args: argparse.Namespace) -> int:
    """Separate Audacity's selection and import the stems as labelled tracks."""
    from engine.cli.console import job_progress
    from plugins.audacity.workflow import separate

    pipe, engine, records, say = _setup(args)
    options = {"tse_rounds": args.tse_rounds, "window_s": args.window, "hop_s": args.hop}
    options = {k: v for k, v in options.items() if v is not None}
    with pipe:
        record = separate(
            pipe, engine, records, options, job_progress(args.engine_url or "the engine"), say
        )
    if record is not None:
        labels = ", ".join(s.name for s in record.stems)
        print(f"{len(record.stems)} stem tracks in Audacity: {labels} (job {record.job_id})")
    return 0


def run_relabel(args: argparse.Namespace) -> int:
    """Re-extract renamed stem tracks with their new class."""
    from engine.cli.console import job_progress
    from plugins.audacity.workflow import relabel

    pipe, engine, records, say = _setup(args)
    with pipe:
        done = relabel(pipe, engine, records, job_progress(args.engine_url or "the engine"), say)
    for r in done:
        print(f"track {r.track.index + 1}: {r.stem.name} -> {r.track.name} re-extracted")
    return 0
