"""`scenesplit serve`: the engine process (HTTP API, jobs, progress) on loopback by default."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `serve` subcommand."""
    p = sub.add_parser(
        "serve",
        help="run the engine server (HTTP API for the editor, plugins and --server)",
        description="Loads the model bundle once and serves separation jobs over HTTP. Prints "
        "one line 'SCENESPLIT_ENGINE_READY {json}' on stdout when it accepts requests.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    p.add_argument("--port", type=int, default=0, help="port (0: a free one, see the READY line)")
    p.add_argument(
        "--token-file",
        help="file holding the bearer token; created (0600) with a random token if missing "
        "(default: WORKDIR/token, new on every start)",
    )
    p.add_argument("--workdir", help="jobs and results (default: the cache folder's engine/)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N")
    p.add_argument("--bundle", help="model bundle folder (default: the shipped bundle)")
    p.add_argument(
        "--allow-root",
        action="append",
        default=[],
        metavar="DIR",
        help="folder whose files may be submitted by path (repeatable; default: none, "
        "clients upload instead)",
    )
    p.add_argument(
        "--max-upload-mb", type=float, default=2048.0, help="largest accepted upload in MB"
    )
    p.add_argument(
        "--threads",
        type=int,
        help="CPU threads for the models (default: torch's, all cores; lower it on a shared "
        "machine)",
    )
    p.add_argument(
        "--parent-pid",
        type=int,
        help="stop when this process ends (the editor passes its own, so a killed editor "
        "leaves no engine behind)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted."""
    from engine.server.serve import ServeConfig, serve

    return serve(
        ServeConfig(
            host=args.host,
            port=args.port,
            token_file=args.token_file,
            workdir=args.workdir,
            device=args.device,
            bundle=args.bundle,
            allow_roots=args.allow_root,
            max_upload_mb=args.max_upload_mb,
            threads=args.threads,
            parent_pid=args.parent_pid,
        )
    )
