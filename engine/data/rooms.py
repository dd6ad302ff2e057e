"""Rooms: banks of 4-channel FOA (W, Y, Z, X) room impulse responses, cached on disk.

A room is a pyroomacoustics shoebox (size, RT60 0.2-0.8 s) with one microphone position and
several static source positions. B-format comes from an omni capsule plus three figure-of-eight
capsules along y, z and x at one point (FACTS.md). The image-source order is capped for speed and
a synthetic exponentially decaying diffuse tail (W full, Y/Z/X at 1/sqrt(3)) continues the decay.
`analytic_rir` is a dependency-free fallback (direct path + first-order images + the same tail).
"""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from engine.constants import SAMPLE_RATE
from engine.paths import cache_dir
from engine.progress import CancelToken, ProgressCallback, ProgressReporter

SPEED_OF_SOUND = 343.0
SPLIT_SEED = {"train": 0, "valid": 1, "test": 2}


@dataclass(frozen=True)
class RoomConfig:
    """Ranges of the simulated rooms (defaults: the task's small-to-medium rooms)."""

    n_rooms: int = 64
    sources_per_room: int = 8
    size_min: tuple[float, float, float] = (3.0, 3.0, 2.4)
    size_max: tuple[float, float, float] = (12.0, 10.0, 4.0)
    rt60_range: tuple[float, float] = (0.2, 0.8)
    max_order: int = 3
    max_seconds: float = 1.0
    method: str = "pyroomacoustics"  # or "analytic"


@dataclass
class RoomBank:
    """RIRs of several rooms: `rirs [R, S, 4, L]` float32, `lengths [R, S]`, per-room info."""

    rirs: np.ndarray
    lengths: np.ndarray
    info: list[dict]

    @property
    def n_rooms(self) -> int:
        """Number of rooms."""
        return int(self.rirs.shape[0])

    def rir(self, room: int, source: int) -> np.ndarray:
        """One `[4, L]` RIR, trimmed to its length."""
        return self.rirs[room, source, :, : int(self.lengths[room, source])]


def _draw_room(rng: np.random.Generator, cfg: RoomConfig) -> dict:
    size = rng.uniform(cfg.size_min, cfg.size_max)
    rt60 = float(rng.uniform(*cfg.rt60_range))
    margin = 0.5
    mic = rng.uniform(margin, size - margin)
    mic[2] = rng.uniform(1.0, min(2.0, size[2] - 0.3))
    sources = []
    while len(sources) < cfg.sources_per_room:
        p = rng.uniform(margin, size - margin)
        p[2] = rng.uniform(0.3, size[2] - 0.3)
        if np.linalg.norm(p - mic) > 0.7:
            sources.append(p)
    return {
        "size": size.tolist(),
        "rt60": rt60,
        "mic": mic.tolist(),
        "sources": [s.tolist() for s in sources],
    }


def _diffuse_tail(rng: np.random.Generator, length: int, rt60: float) -> np.ndarray:
    """`[4, length]` exponentially decaying noise; HF decays faster (one-pole darkening)."""
    t = np.arange(length) / SAMPLE_RATE
    env = 10 ** (-3 * t / rt60)  # 60 dB over rt60 (amplitude)
    tail = rng.standard_normal((4, length)) * env
    tail[1:] /= np.sqrt(3.0)
    # Darken progressively: mix with a smoothed copy weighted by time.
    smooth = np.cumsum(tail, axis=1)
    k = 8
    smooth[:, k:] = (smooth[:, k:] - smooth[:, :-k]) / k
    w = np.clip(t / rt60, 0, 1)
    return (1 - w) * tail + w * smooth


def _add_tail(rng, rir: np.ndarray, info: dict, src: np.ndarray, cfg: RoomConfig) -> np.ndarray:
    """Continue a capped-order RIR with a diffuse tail matched in level where images thin out."""
    sr = SAMPLE_RATE
    rt60 = info["rt60"]
    length = min(int(cfg.max_seconds * sr), int(rt60 * sr) + rir.shape[1])
    out = np.zeros((4, length))
    m = min(length, rir.shape[1])
    out[:, :m] = rir[:, :m]
    direct = np.linalg.norm(np.asarray(info["mic"]) - src) / SPEED_OF_SOUND
    t_c = direct + cfg.max_order * min(info["size"]) / SPEED_OF_SOUND
    c = int(t_c * sr)
    win = int(0.01 * sr)
    if c - win <= 0 or c >= length:
        return out
    level = np.sqrt(np.mean(out[0, c - win : c] ** 2)) + 1e-9
    tail = _diffuse_tail(rng, length - c + win, rt60)
    tail *= level / (np.sqrt(np.mean(tail[0, :win] ** 2)) + 1e-12)
    fade_in = np.concatenate([np.linspace(0, 1, win), np.ones(length - c)])
    # Images of order > max_order are missing after t_c: the tail takes over from there.
    out[:, c - win :] = out[:, c - win :] * (1 - fade_in) + tail * fade_in
    return out


def pyroomacoustics_rirs(info: dict, cfg: RoomConfig, seed: int) -> list[np.ndarray]:
    """FOA RIRs `[4, L]` of one room (one per source) with pyroomacoustics + synthetic tail."""
    import pyroomacoustics as pra
    from pyroomacoustics.directivities import DirectionVector, FigureEight, Omnidirectional

    rng = np.random.default_rng(seed)
    size = np.asarray(info["size"])
    absorption, _ = pra.inverse_sabine(info["rt60"], size)
    room = pra.ShoeBox(
        size,
        fs=SAMPLE_RATE,
        materials=pra.Material(min(absorption, 0.99)),
        max_order=cfg.max_order,
        air_absorption=False,
    )
    for s in info["sources"]:
        room.add_source(s)
    mic = np.asarray(info["mic"])
    dirs = [
        Omnidirectional(),
        FigureEight(orientation=DirectionVector(90, 90, degrees=True)),  # +y
        FigureEight(orientation=DirectionVector(0, 0, degrees=True)),  # +z
        FigureEight(orientation=DirectionVector(0, 90, degrees=True)),  # +x
    ]
    room.add_microphone_array(
        pra.MicrophoneArray(np.tile(mic[:, None], (1, 4)), SAMPLE_RATE, directivity=dirs)
    )
    room.compute_rir()
    out = []
    for j, s in enumerate(info["sources"]):
        n = max(len(room.rir[m][j]) for m in range(4))
        rir = np.zeros((4, n))
        for m in range(4):
            r = np.asarray(room.rir[m][j])
            rir[m, : len(r)] = r
        out.append(_add_tail(rng, rir, info, np.asarray(s), cfg))
    return out


def analytic_rirs(info: dict, cfg: RoomConfig, seed: int) -> list[np.ndarray]:
    """Fallback FOA RIRs: direct path and the 6 first-order images, plus the diffuse tail."""
    rng = np.random.default_rng(seed)
    size = np.asarray(info["size"])
    mic = np.asarray(info["mic"])
    beta = 10 ** (-3 * 0.05 / info["rt60"])  # rough wall reflection for this decay
    out = []
    for s in info["sources"]:
        s = np.asarray(s)
        images = [(s, 1.0)]
        for ax in range(3):
            for wall in (0.0, size[ax]):
                p = s.copy()
                p[ax] = 2 * wall - s[ax]
                images.append((p, beta))
        n = int(0.2 * SAMPLE_RATE)
        rir = np.zeros((4, n))
        for p, g in images:
            d = p - mic
            r = np.linalg.norm(d)
            k = int(round(r / SPEED_OF_SOUND * SAMPLE_RATE))
            if k < n:
                u = d / r
                rir[:, k] += g / max(r, 0.1) * np.array([1.0, u[1], u[2], u[0]])
        tmp = RoomConfig(**{**asdict(cfg), "max_order": 1})
        out.append(_add_tail(rng, rir, info, s, tmp))
    return out


def _simulate(args: tuple[dict, RoomConfig, int]) -> list[np.ndarray]:
    info, cfg, seed = args
    if cfg.method == "analytic":
        return analytic_rirs(info, cfg, seed)
    return pyroomacoustics_rirs(info, cfg, seed)


def bank_key(cfg: RoomConfig, split: str, seed: int) -> str:
    """Cache key of a bank: hash of its config, split and seed."""
    blob = json.dumps({"cfg": asdict(cfg), "split": split, "seed": seed}, sort_keys=True)
    return hashlib.sha1(blob.encode()).hexdigest()[:16]


def build_room_bank(
    cfg: RoomConfig = RoomConfig(),
    split: str = "train",
    seed: int = 0,
    workers: int = 1,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> RoomBank:
    """Simulate a bank (rooms differ per split and seed); parallel over rooms with `workers`."""
    if split not in SPLIT_SEED:
        raise ValueError(f"split must be one of {', '.join(SPLIT_SEED)}, got {split!r}")
    rng = np.random.default_rng([seed, SPLIT_SEED[split], 7])
    infos = [_draw_room(rng, cfg) for _ in range(cfg.n_rooms)]
    jobs = [(info, cfg, int(rng.integers(2**31))) for info in infos]
    reporter = ProgressReporter("rooms", cfg.n_rooms, progress, cancel)
    results: list[list[np.ndarray]] = []
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            for i, r in enumerate(pool.map(_simulate, jobs, chunksize=4)):
                results.append(r)
                reporter.update(i + 1)
    else:
        for i, job in enumerate(jobs):
            results.append(_simulate(job))
            reporter.update(i + 1)
    length = max(r.shape[1] for rs in results for r in rs)
    rirs = np.zeros((cfg.n_rooms, cfg.sources_per_room, 4, length), np.float32)
    lengths = np.zeros((cfg.n_rooms, cfg.sources_per_room), np.int64)
    for i, rs in enumerate(results):
        for j, r in enumerate(rs):
            rirs[i, j, :, : r.shape[1]] = r
            lengths[i, j] = r.shape[1]
    return RoomBank(rirs, lengths, infos)


def save_room_bank(bank: RoomBank, path: str | Path) -> None:
    """Write a bank to an .npz file (atomic, and safe when two processes write the same bank:
    concurrent trainers on a fresh machine each simulate it)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp.npz")
    np.savez(tmp, rirs=bank.rirs, lengths=bank.lengths, info=json.dumps(bank.info))
    tmp.replace(path)


def load_room_bank(path: str | Path) -> RoomBank:
    """Read a bank written by `save_room_bank`."""
    with np.load(path) as z:
        return RoomBank(z["rirs"], z["lengths"], json.loads(str(z["info"])))


def cached_room_bank(
    cfg: RoomConfig = RoomConfig(),
    split: str = "train",
    seed: int = 0,
    workers: int = 1,
    directory: str | Path | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> RoomBank:
    """The bank for (cfg, split, seed) from the disk cache, simulating it on first use."""
    directory = Path(directory) if directory else cache_dir() / "rooms"
    path = directory / f"rooms_{split}_{bank_key(cfg, split, seed)}.npz"
    if path.exists():
        return load_room_bank(path)
    bank = build_room_bank(cfg, split, seed, workers, progress, cancel)
    save_room_bank(bank, path)
    return bank
