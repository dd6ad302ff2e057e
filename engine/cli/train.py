"""`scenesplit train {uss,sc,tse,m2d-pretrain} --config NAME [--out DIR] [key=value ...]`.

Runs the one training loop (engine.train.loop) on this machine, or on every rank under
`torchrun --nproc_per_node N -m engine.cli.main train ...`. Resumes from `OUT/last.pt`.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

from engine.train.config import CONFIG_NAMES, TASKS


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `train` subcommand."""
    p = sub.add_parser(
        "train",
        help="train a module (USS, SC, TSE, M2D pre-training); resumes from OUT/last.pt",
        description="Train one module with the shared loop. Overrides are dotted config keys, "
        "e.g. optim.lr=1e-3 data.batch_size=8 task.stage=2 max_steps=1000.",
    )
    p.add_argument("task", choices=TASKS)
    p.add_argument(
        "--config",
        default="lite",
        help=f"named config ({', '.join(CONFIG_NAMES)}) or a config .json file (default: lite)",
    )
    p.add_argument("--out", help="run folder (default: runs/<task>-<config>)")
    p.add_argument("--max-minutes", type=float, help="wall-clock budget of this run")
    p.add_argument("--device", help="auto, cpu, cuda, cuda:1 ...")
    p.add_argument("--no-resume", action="store_true", help="ignore OUT/last.pt")
    p.add_argument(
        "--print-config", action="store_true", help="print the resolved config as JSON and exit"
    )
    p.add_argument(
        "--prepare-only",
        action="store_true",
        help="build the room banks and the validation set (data.room_workers processes), then exit",
    )
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE")
    p.set_defaults(func=run, extra_positionals="overrides")


def resolve_config(args: argparse.Namespace):
    """The TrainConfig of the command line (named/file config, flags, then overrides)."""
    from engine.train.config import apply_overrides, named_config

    cfg = named_config(args.task, args.config)
    apply_overrides(cfg, args.overrides)
    if args.max_minutes is not None:
        cfg.max_minutes = args.max_minutes
    if args.device:
        cfg.device = args.device
    return cfg


def run(args: argparse.Namespace) -> int:
    """Train and print where the checkpoints are."""
    from pathlib import Path

    cfg = resolve_config(args)
    if args.print_config:
        print(cfg.to_json())
        return 0

    from engine.cli.console import ConsoleProgress
    from engine.progress import CancelToken

    if args.prepare_only:
        from engine.train.data import prepare

        root = prepare(cfg.data, ConsoleProgress())
        print(f"rooms cached; validation set {root}")
        return 0
    from engine.train import distributed
    from engine.train.checkpoints import BEST, checkpoint_summary, format_summary
    from engine.train.loop import train

    name = Path(args.config).stem if args.config.endswith(".json") else args.config
    out = Path(args.out or f"runs/{args.task}-{name}")
    rank0 = int(os.environ.get("RANK", "0")) == 0
    cancel = CancelToken()

    def stop(signum, frame):
        # First Ctrl-C / SIGTERM: finish the step, save last.pt, exit; a second one aborts.
        if cancel.cancelled:
            raise KeyboardInterrupt
        print("\nstopping after this step (again to abort)...", file=sys.stderr)
        cancel.cancel()

    handlers = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        result = train(
            cfg,
            out,
            resume=not args.no_resume,
            progress=ConsoleProgress() if rank0 else None,
            cancel=cancel,
        )
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        distributed.shutdown()
    if rank0:
        best = out / BEST
        print(f"{args.task}: stopped ({result.stopped}) at step {result.step}; run folder {out}")
        if best.is_file():
            print("best:", format_summary(checkpoint_summary(best)))
        sys.stdout.flush()
    return 0
