"""Scene synthesis rate: scenes per second with a cached room bank, over worker processes."""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor


def register(sub: argparse._SubParsersAction) -> None:
    """Add `bench scenes`."""
    p = sub.add_parser("scenes", help="scenes per second of the S5 synthesiser (cached rooms)")
    p.add_argument("--n", type=int, default=40, help="scenes to synthesise")
    p.add_argument("--workers", type=int, default=2, help="worker processes")
    p.add_argument("--split", default="train", choices=("train", "valid", "test"))
    p.add_argument("--recipe", choices=("train", "eval"), default="train")
    p.set_defaults(func=run)


_CFG: dict = {}


def _init(recipe: str, split: str) -> None:
    from engine.data.scenes import SceneConfig, room_bank_for

    cfg = SceneConfig() if recipe == "train" else SceneConfig.evaluation()
    _CFG["cfg"], _CFG["split"] = cfg, split
    room_bank_for(cfg, split)  # load the cached bank before timing


def _scene(i: int) -> float:
    from engine.data.scenes import synthesize_scene

    start = time.process_time()
    synthesize_scene((12345, i), _CFG["cfg"], _CFG["split"])
    return time.process_time() - start


def run(args: argparse.Namespace) -> int:
    """Warm the room cache, then time `n` scenes over `workers` processes."""
    from engine.bench.machine import describe
    from engine.data.scenes import SceneConfig, room_bank_for

    cfg = SceneConfig() if args.recipe == "train" else SceneConfig.evaluation()
    t0 = time.perf_counter()
    room_bank_for(cfg, args.split)
    print(f"room bank ready in {time.perf_counter() - t0:.1f} s (cached on disk after first use)")
    with ProcessPoolExecutor(
        args.workers, initializer=_init, initargs=(args.recipe, args.split)
    ) as pool:
        list(pool.map(_scene, range(args.workers)))  # warm-up: imports and bank loading
        start = time.perf_counter()
        cpu = list(pool.map(_scene, range(args.workers, args.workers + args.n)))
        elapsed = time.perf_counter() - start
    cpu_per_scene = sum(cpu) / len(cpu)
    print(f"machine: {describe()} (may be shared with other jobs)")
    print(
        f"scenes: {args.n} x 10 s, recipe {args.recipe}, split {args.split}, {args.workers} workers"
    )
    print(f"elapsed: {elapsed:.2f} s")
    print(f"scenes per second: {args.n / elapsed:.2f}")
    # CPU seconds per scene do not depend on other jobs sharing the machine.
    print(f"CPU seconds per scene: {cpu_per_scene:.3f}")
    print(
        f"projected on {args.workers} idle cores: {args.workers / cpu_per_scene:.1f} scenes per second"
    )
    return 0
