"""`scenesplit synth`: write a fixed set of synthesised S5 scenes in the official layout."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `synth` subcommand."""
    p = sub.add_parser("synth", help="synthesise S5-format scenes into the official layout")
    p.add_argument("--out", required=True, help="output folder (soundscape/, oracle_target/, ...)")
    p.add_argument("--n", type=int, required=True, help="number of scenes")
    p.add_argument("--seed", type=int, default=0, help="base seed: scene i uses (seed, i)")
    p.add_argument("--split", choices=("train", "valid", "test"), default="train")
    p.add_argument("--workers", type=int, default=1, help="parallel processes")
    p.add_argument(
        "--recipe",
        choices=("train", "eval"),
        default=None,
        help="train: METHOD.md training options (p=0.7 noise/interference, 5%% silence, mono/"
        "stereo inputs); eval: every scene complete, FOA (default: train for --split train)",
    )
    p.add_argument("--manifest", help="corpus manifest.csv: mix real clips with the generators")
    p.add_argument("--rooms", type=int, default=None, help="rooms in the bank (default 64)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Synthesise the set, printing progress."""
    import dataclasses

    from engine.data.rooms import RoomConfig
    from engine.data.scene_set import write_scene_set
    from engine.data.scenes import SceneConfig
    from engine.errors import ScenesplitError

    if args.n <= 0:
        raise ScenesplitError(f"--n must be positive, got {args.n}")
    recipe = args.recipe or ("train" if args.split == "train" else "eval")
    config = SceneConfig() if recipe == "train" else SceneConfig.evaluation()
    if args.rooms:
        config = dataclasses.replace(config, rooms=RoomConfig(n_rooms=args.rooms))
    config = dataclasses.replace(config, room_workers=max(1, args.workers))

    def show(p) -> None:
        eta = f", eta {p.eta_s:.0f} s" if p.eta_s is not None else ""
        print(
            f"\r{p.stage}: {p.done:.0f}/{p.total:.0f}{eta}   ", end="", file=sys.stderr, flush=True
        )

    names = write_scene_set(
        args.out, args.n, args.seed, args.split, config, args.workers, args.manifest, show
    )
    print(file=sys.stderr)
    print(f"wrote {len(names)} scenes to {args.out} ({args.n - len(names)} already there)")
    return 0
