"""Training data: seeded on-the-fly scenes in DataLoader workers and a fixed validation set on disk.

Reproducibility: the scenes of step `s` on rank `r` are a pure function of (seed, s, r) -
`StepBatchSampler` maps them to dataset indices, and each index is synthesised from its own
seed - so a resumed run sees exactly the batches an uninterrupted run would have seen, whatever
the number of DataLoader workers. Randomness a task adds to a batch (silent items, crops) comes
from `step_generator(seed, step, rank)` for the same reason.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from engine.constants import N_FOREGROUND, SAMPLE_RATE
from engine.durable import write_text_durable
from engine.paths import cache_dir
from engine.progress import CancelToken, ProgressCallback, ProgressReporter
from engine.train.config import ConfigError, DataConfig

VALID_MARKER = "complete.json"


class StepBatchSampler(Sampler[list[int]]):
    """Batches of dataset indices by step: epoch-wise seeded permutations, split across ranks.

    Global item `g = (step * world + rank) * batch + j` of the run is element `g mod E` of epoch
    `g // E`'s permutation of the `E` scenes. `overfit` repeats step 0's batch forever.
    """

    def __init__(
        self,
        n_items: int,
        batch_size: int,
        *,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        start_step: int = 0,
        total_steps: int | None = None,
        overfit: bool = False,
    ) -> None:
        if n_items <= 0 or batch_size <= 0:
            raise ValueError(f"need n_items > 0 and batch_size > 0, got {n_items}, {batch_size}")
        self.n_items = n_items
        self.batch_size = batch_size
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.start_step = start_step
        self.total_steps = total_steps
        self.overfit = overfit
        self._perm: tuple[int, np.ndarray] | None = None

    def _permutation(self, epoch: int) -> np.ndarray:
        if self._perm is None or self._perm[0] != epoch:
            rng = np.random.default_rng([self.seed, 104729, epoch])
            self._perm = (epoch, rng.permutation(self.n_items))
        return self._perm[1]

    def batch(self, step: int) -> list[int]:
        """Dataset indices of this rank's batch at `step`."""
        if self.overfit:
            step = 0
        first = (step * self.world_size + self.rank) * self.batch_size
        out = []
        for g in range(first, first + self.batch_size):
            out.append(int(self._permutation(g // self.n_items)[g % self.n_items]))
        return out

    def __iter__(self) -> Iterator[list[int]]:
        step = self.start_step
        while self.total_steps is None or step < self.total_steps:
            yield self.batch(step)
            step += 1

    def __len__(self) -> int:
        if self.total_steps is None:
            raise TypeError("an endless StepBatchSampler has no length")
        return max(0, self.total_steps - self.start_step)


def step_generator(seed: int, step: int, rank: int = 0) -> torch.Generator:
    """A CPU generator for the batch-level randomness of one step on one rank."""
    digest = hashlib.sha256(f"{seed}/{step}/{rank}".encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest[:8], "little") >> 1)


def scene_config(data: DataConfig, split: str = "train"):
    """The synthesiser's SceneConfig for a data recipe (validation: evaluation-style scenes)."""
    from engine.data.rooms import RoomConfig
    from engine.data.scenes import SceneConfig

    rooms = RoomConfig(
        n_rooms=data.n_rooms,
        method=data.room_method,
        max_order=data.room_max_order,
        max_seconds=data.room_max_seconds,
    )
    common = dict(
        n_samples=int(round(data.seconds * SAMPLE_RATE)),
        real_fraction=data.real_fraction,
        rooms=rooms,
        room_seed=data.seed,
        room_cache_dir=data.room_cache_dir or None,
        room_workers=1,
    )
    if split == "train":
        lo, hi = data.foreground_range
        if not 1 <= lo <= hi <= N_FOREGROUND:
            raise ConfigError(
                f"data.foreground_range must satisfy 1 <= lo <= hi <= {N_FOREGROUND}, "
                f"got {data.foreground_range}"
            )
        return SceneConfig(
            foreground_range=(lo, hi),
            p_interference=data.p_interference,
            p_noise=data.p_noise,
            p_silence=data.p_silence,
            **common,
        )
    # The task's test scenes always hold interference and noise, in FOA.
    return SceneConfig.evaluation(**common)


def prepare_rooms(
    data: DataConfig,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> None:
    """Simulate (or find cached) the train and valid room banks, with `room_workers` processes."""
    from engine.data.rooms import cached_room_bank

    workers = data.room_workers or os.cpu_count() or 1
    for split in ("train", "valid"):
        cfg = scene_config(data, split)
        cached_room_bank(
            cfg.rooms, split, cfg.room_seed, workers, cfg.room_cache_dir, progress, cancel
        )


def train_dataset(data: DataConfig) -> Dataset:
    """The on-the-fly training set: `train_scenes` scenes, item i seeded by (seed, i)."""
    from engine.data.datasets import SynthesizedScenes

    return SynthesizedScenes(
        data.train_scenes,
        scene_config(data, "train"),
        "train",
        base_seed=data.seed,
        manifest=data.manifest or None,
    )


def train_loader(
    data: DataConfig,
    *,
    rank: int,
    world_size: int,
    start_step: int,
    total_steps: int,
    pin_memory: bool = False,
) -> DataLoader:
    """Batches for steps `start_step ..< total_steps` of this rank, synthesised by workers."""
    sampler = StepBatchSampler(
        data.train_scenes,
        data.batch_size,
        seed=data.seed,
        rank=rank,
        world_size=world_size,
        start_step=start_step,
        total_steps=total_steps,
        overfit=data.overfit,
    )
    return DataLoader(
        train_dataset(data),
        batch_sampler=sampler,
        num_workers=data.num_workers,
        pin_memory=pin_memory,
        persistent_workers=False,
        # A private generator: creating the iterator must not advance the global RNG, or a
        # resumed run would diverge from an uninterrupted one.
        generator=torch.Generator().manual_seed(data.seed),
        prefetch_factor=4 if data.num_workers > 0 else None,
    )


def _valid_recipe(data: DataConfig) -> dict:
    keys = (
        "seconds",
        "valid_scenes",
        "seed",
        "real_fraction",
        "manifest",
        "n_rooms",
        "room_method",
        "room_max_order",
        "room_max_seconds",
    )
    return {k: getattr(data, k) for k in keys}


def valid_dir(data: DataConfig) -> Path:
    """Folder of the validation set: `data.valid_dir` or a cache folder named by its recipe."""
    if data.valid_dir:
        return Path(data.valid_dir)
    blob = json.dumps(_valid_recipe(data), sort_keys=True)
    return cache_dir() / "valid" / hashlib.sha1(blob.encode()).hexdigest()[:16]


def _write_valid_scene(args: tuple) -> None:
    from engine.data.dcase_layout import write_scene
    from engine.data.scenes import synthesize_scene
    from engine.data.sources import SourcePool

    data, root, i = args
    cfg = scene_config(data, "valid")
    key = (data.manifest, cfg.real_fraction)
    if _POOLS.get("key") != key:  # one pool per worker process
        _POOLS["key"] = key
        _POOLS["pool"] = (
            SourcePool.from_manifest(data.manifest, cfg.real_fraction)
            if data.manifest
            else SourcePool(real_fraction=cfg.real_fraction, lowpass_p=cfg.lowpass_p)
        )
    scene = synthesize_scene((data.seed, 1, i), cfg, "valid", _POOLS["pool"])
    write_scene(scene, root, f"valid_{i:05d}")


_POOLS: dict = {}


def build_valid_set(
    data: DataConfig,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    workers: int = 1,
) -> Path:
    """Synthesise the validation set in the official layout unless it is already complete.

    Scene i is drawn from seed (seed, 1, i), so the set depends on the recipe only, not on
    `workers` (processes writing scenes in parallel).
    """
    root = valid_dir(data)
    marker = root / VALID_MARKER
    recipe = _valid_recipe(data)
    if marker.is_file():
        built = json.loads(marker.read_text())
        if built != recipe:
            changed = sorted(k for k in recipe if built.get(k) != recipe[k])
            raise ConfigError(
                f"{root} holds a validation set of another recipe (differs in {changed}); "
                "remove it or set data.valid_dir to another folder"
            )
        return root
    if any((root / "soundscape").glob("*.wav")):
        return root  # a set made elsewhere (e.g. the official development set): used as is
    reporter = ProgressReporter("validation set", data.valid_scenes, progress, cancel)
    jobs = [(data, root, i) for i in range(data.valid_scenes)]
    if workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers) as pool:
            for i, _ in enumerate(pool.map(_write_valid_scene, jobs, chunksize=4)):
                reporter.update(i + 1)
    else:
        for i, job in enumerate(jobs):
            _write_valid_scene(job)
            reporter.update(i + 1)
    write_text_durable(marker, json.dumps(recipe, indent=1))
    return root


def prepare(
    data: DataConfig,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Path:
    """Room banks and the validation set, built once with `room_workers` processes."""
    prepare_rooms(data, progress, cancel)
    workers = data.room_workers or os.cpu_count() or 1
    return build_valid_set(data, progress, cancel, workers)


def valid_loader(root: Path, data: DataConfig, *, rank: int, world_size: int) -> DataLoader:
    """This rank's share of the validation scenes (every world_size-th scene), in order."""
    from torch.utils.data import Subset

    from engine.data.datasets import SceneFolder

    folder = SceneFolder(root)
    share = Subset(folder, list(range(rank, len(folder), world_size)))
    return DataLoader(
        share,
        batch_size=data.batch_size,
        shuffle=False,
        num_workers=min(data.num_workers, 2),
        generator=torch.Generator().manual_seed(0),  # leave the global RNG alone
    )


def steps_per_epoch(data: DataConfig, world_size: int) -> int:
    """Optimizer steps for one pass over the training scenes."""
    return max(1, math.ceil(data.train_scenes / (data.batch_size * world_size)))


def describe(data: DataConfig) -> dict:
    """Plain-data summary of a data recipe."""
    return dataclasses.asdict(data)
