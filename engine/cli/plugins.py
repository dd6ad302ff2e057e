"""`scenesplit plugins install reaper [--path DIR]`: put the host integrations in place."""

from __future__ import annotations

import argparse

HOSTS = ("reaper",)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `plugins` subcommand."""
    p = sub.add_parser("plugins", help="install the integrations for host DAWs (REAPER)")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    inst = actions.add_parser("install", help="copy a host's scripts where the host finds them")
    inst.add_argument("host", choices=HOSTS)
    inst.add_argument(
        "--path",
        help="folder to copy into (default: REAPER's Scripts/Scenesplit, "
        "~/.config/REAPER/Scripts/Scenesplit on Linux)",
    )
    inst.add_argument(
        "--command",
        help="the scenesplit executable the scripts run (default: the one on PATH)",
    )
    inst.set_defaults(func=run_install)


def run_install(args: argparse.Namespace) -> int:
    """Copy the REAPER scripts and say how to add them to the Action list."""
    import shutil
    import sys
    from pathlib import Path

    from plugins.reaper import install

    command = args.command or shutil.which("scenesplit")
    if command is None:
        # Running from a checkout (python -m engine.cli.main): the console script beside python.
        beside = Path(sys.executable).with_name("scenesplit")
        command = str(beside) if beside.is_file() else None
    actions = install(args.path, command)
    folder = actions[0].parent
    print(f"REAPER scripts installed in {folder}:")
    for path in actions:
        print(f"  {path.name}")
    print(f"They run: {command or 'scenesplit (from PATH; none found now)'}")
    print(
        "In REAPER: Actions > Show action list > New action... > Load ReaScript..., choose the "
        "two 'Scenesplit - ...' files above; then select an item and run "
        "'Scenesplit - separate selected item'."
    )
    return 0
