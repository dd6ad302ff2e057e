"""`scenesplit` entry point: dispatches to subcommand modules and turns user errors into one line."""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys

from engine import __version__
from engine.errors import Cancelled, ScenesplitError, os_error_message

SIGPIPE_EXIT = 128 + 13
"""What a shell reports for a writer killed by SIGPIPE (`probe --json | head`)."""

# Subcommand modules under engine.cli; each defines `register(subparsers)` which adds its parser
# and sets `func(args) -> int`. Registration imports nothing heavy, so `--help` stays fast.
COMMANDS = (
    "info",
    "probe",
    "separate",
    "refine",
    "export",
    "evaluate",
    "synth",
    "corpus",
    "train",
    "bundle",
    "bench",
    "serve",
    "app",
    "audacity",
    "plugins",
)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser."""
    parser = argparse.ArgumentParser(
        prog="scenesplit",
        description="Split multichannel field recordings into labelled foreground stems.",
    )
    parser.add_argument("--version", action="version", version=f"scenesplit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"engine.cli.{name.replace('-', '_')}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["app"]:  # the editor parses its own options (engine/cli/app.py)
        from engine.cli.app import launch

        return launch(argv[1:])
    parser = build_parser()
    # argparse cannot take positionals after options (`train sc --config lite lr=1`); a
    # command that sets `extra_positionals` receives such leftovers in that attribute.
    args, extra = parser.parse_known_args(argv)
    if extra:
        field = getattr(args, "extra_positionals", None)
        if field is None or any(x.startswith("-") for x in extra):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        setattr(args, field, [*getattr(args, field), *extra])
    # SIGTERM (a closed terminal, `kill`, a job scheduler) stops a command as Ctrl-C does:
    # the running work cleans up (no partial stems left) and the exit is one line.
    # Commands that own their signals (train, serve) install their handlers over this one.
    signal.signal(signal.SIGTERM, _terminated)
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a reader that left shows here, inside the handlers below
        return code
    except ScenesplitError as exc:
        print(f"scenesplit {args.command}: error: {exc}", file=sys.stderr)
        return 130 if isinstance(exc, Cancelled) else 2
    except KeyboardInterrupt:
        print(f"scenesplit {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of our output left (`| head`): nothing to tell it. Point stdout at
        # /dev/null so the interpreter's final flush does not fail again at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return SIGPIPE_EXIT
    except OSError as exc:
        # The environment refused (read-only or full disk, a file where a folder should be):
        # the user's to fix, so one line naming the path and the errno, not a traceback.
        print(f"scenesplit {args.command}: error: {os_error_message(exc)}", file=sys.stderr)
        return 2


def _terminated(signum, frame) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
