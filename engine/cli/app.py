"""`scenesplit app [FILE]`: open the editor (imports the desktop package only when run)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `app` subcommand."""
    p = sub.add_parser("app", help="open the editor (starts a local engine unless told otherwise)")
    p.add_argument("file", nargs="?", help="recording or .scenesplit project to open")
    p.add_argument("--engine-url", help="use a running engine (scenesplit serve) at this URL")
    p.add_argument("--token-file", help="token file of that engine")
    p.add_argument("--device", default="auto", help="device of a local engine (auto/cpu/cuda)")
    p.add_argument("--bundle", help="model bundle of a local engine")
    p.add_argument("--workdir", help="work directory of a local engine")
    p.add_argument("--no-engine", action="store_true", help="view and play files only")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Start the editor; with no FILE it opens the bundled example recording if present."""
    from desktop.app import options_from_args, run_app
    from engine.contract import default_engine_workdir
    from engine.paths import example_recording

    example = example_recording()
    options = options_from_args(args, str(example) if example.is_file() else None)
    if options.engine.workdir is None and options.engine.url is None:
        options.engine.workdir = str(default_engine_workdir())
    return run_app(options)
