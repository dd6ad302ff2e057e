"""`scenesplit serve`: the engine process (HTTP API, jobs, progress) on loopback by default."""

from __future__ import annotations

import argparse
import os
import sys


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
        "--keep-days",
        type=float,
        help="remove finished jobs (stems included) older than this many days; 0: keep them "
        "(default: 30)",
    )
    p.add_argument(
        "--keep-gb",
        type=float,
        help="then remove the oldest finished jobs until all fit in this many GB; 0: no limit "
        "(default: 20)",
    )
    p.add_argument(
        "--max-queued",
        type=int,
        help="jobs that may wait at once; more are refused (HTTP 429) (default: 100)",
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
    from engine.server.hygiene import RetentionPolicy
    from engine.server.jobs import MAX_QUEUED
    from engine.server.serve import ServeConfig, serve

    # Defaults live with the policy (RetentionPolicy); 0 on the command line means no limit.
    keep = RetentionPolicy()
    days = keep.max_age_days if args.keep_days is None else args.keep_days or None
    gb = keep.max_total_gb if args.keep_gb is None else args.keep_gb or None
    code = serve(
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
            retention=RetentionPolicy(days, gb),
            max_queued=MAX_QUEUED if args.max_queued is None else args.max_queued,
        )
    )
    # Stopped, and every job's state is on disk. What is left is the interpreter's teardown,
    # which with torch and the models loaded spends tens of seconds collecting garbage on a
    # busy CPU (and would meet a worker thread still inside a model call): a server asked to
    # stop must be gone within seconds, so skip it.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
