"""Write a fixed set of synthesised scenes in the official layout, in parallel, with progress."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from engine.data.dcase_layout import write_scene
from engine.data.scenes import SceneConfig, room_bank_for, synthesize_scene
from engine.data.sources import SourcePool
from engine.progress import CancelToken, ProgressCallback, ProgressReporter

_STATE: dict = {}


def scene_name(split: str, seed: int, index: int) -> str:
    """File stem of scene `index` of a set."""
    return f"synth_{split}_s{seed}_{index:06d}"


def _init(config: SceneConfig, split: str, manifest: str | None) -> None:
    _STATE["config"] = config
    _STATE["split"] = split
    _STATE["pool"] = (
        SourcePool.from_manifest(manifest, config.real_fraction)
        if manifest
        else SourcePool(real_fraction=config.real_fraction, lowpass_p=config.lowpass_p)
    )


def _one(job: tuple[str, int, int]) -> str:
    out, seed, index = job
    cfg, split = _STATE["config"], _STATE["split"]
    scene = synthesize_scene((seed, index), cfg, split, _STATE["pool"])
    name = scene_name(split, seed, index)
    write_scene(scene, out, name)
    return name


def write_scene_set(
    out: str | Path,
    n: int,
    seed: int = 0,
    split: str = "train",
    config: SceneConfig | None = None,
    workers: int = 1,
    manifest: str | Path | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> list[str]:
    """Synthesise scenes (seed, 0..n-1) into `out`; existing scenes are kept (resumable)."""
    if n <= 0:
        raise ValueError(f"n must be positive, got {n}")
    config = config or SceneConfig()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    room_bank_for(config, split)  # simulate/cache the rooms once, before workers start
    manifest = str(manifest) if manifest else None
    todo = [
        (str(out), seed, i)
        for i in range(n)
        if not (out / "metadata" / f"{scene_name(split, seed, i)}.json").exists()
    ]
    reporter = ProgressReporter("scenes", n, progress, cancel)
    done = n - len(todo)
    reporter.update(done, "resuming" if done else "")
    names = []
    if workers <= 1:
        _init(config, split, manifest)
        for job in todo:
            names.append(_one(job))
            done += 1
            reporter.update(done, names[-1])
        return names
    workers = min(workers, os.cpu_count() or 1)
    with ProcessPoolExecutor(
        workers, initializer=_init, initargs=(config, split, manifest)
    ) as pool:
        try:
            for name in pool.map(_one, todo, chunksize=2):
                names.append(name)
                done += 1
                reporter.update(done, name)
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise
    return names
