"""`scenesplit app [FILE] [options]`: open the editor.

The engine never imports the editor: this command replaces the process with
`python -m desktop.app --open-example ...` (the same interpreter), so the editor's options,
help and start-up live in `desktop/app.py` alone.
"""

from __future__ import annotations

import argparse
import os
import sys


def register(sub: argparse._SubParsersAction) -> None:
    """List `app` among the commands; `engine.cli.main` hands its arguments to `launch`."""
    sub.add_parser(
        "app",
        help="open the editor (starts a local engine unless told otherwise; --help for options)",
        add_help=False,
    )


def editor_command(argv: list[str]) -> list[str]:
    """The command line that runs the editor with `argv` (the bundled example when no file)."""
    return [sys.executable, "-m", "desktop.app", "--open-example", *argv]


def launch(argv: list[str]) -> int:
    """Become the editor (does not return unless the exec fails)."""
    cmd = editor_command(argv)
    os.execv(cmd[0], cmd)
    return 1  # pragma: no cover - execv only returns by raising
