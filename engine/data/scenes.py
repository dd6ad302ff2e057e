"""The S5 scene synthesiser: 10 s, 4-channel FOA, 32 kHz mixtures with targets (DATA.md).

Mixing follows the task: levels relative to REFERENCE_LEVEL_DB (mean square over channels and
samples); background noise at the reference; each event's gain set from the power of its whole
wet (RIR-convolved, all channels) signal so its event-to-noise ratio is U(5, 20) dB (foreground)
or U(0, 15) dB (interference); RIRs normalised by the mean of their per-channel L2 norms; onsets
uniform so events end by the end of the scene. The target of a foreground event is channel 0 of
the dry event convolved with the channel-0 RIR truncated to [peak - 6 ms, peak + 50 ms] (delay
kept), with the wet event's gain.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.fft as sfft

from engine.audio.layout import Layout, to_foa
from engine.constants import (
    CLASSES,
    N_FOREGROUND,
    N_INTERFERENCE,
    REFERENCE_LEVEL_DB,
    SAMPLE_RATE,
    SCENE_SAMPLES,
    SILENCE,
)
from engine.data.generators.params import check_split
from engine.data.rooms import RoomBank, RoomConfig, cached_room_bank
from engine.data.sources import Clip, SourcePool

EARLY_BEFORE_S = 0.006
EARLY_AFTER_S = 0.050


@dataclass(frozen=True)
class SceneConfig:
    """How scenes are drawn. Defaults are the training recipe of METHOD.md."""

    n_samples: int = SCENE_SAMPLES
    foreground_range: tuple[int, int] = (1, N_FOREGROUND)
    interference_range: tuple[int, int] = (1, N_INTERFERENCE)
    p_interference: float = 0.7
    p_noise: float = 0.7
    p_silence: float = 0.05  # scenes with no foreground (the classifier's silence items)
    snr_foreground: tuple[float, float] = (5.0, 20.0)
    snr_interference: tuple[float, float] = (0.0, 15.0)
    p_mono: float = 0.1
    p_stereo: float = 0.1
    lowpass_p: float = 0.6
    real_fraction: float = 0.5
    classes: tuple[str, ...] = CLASSES
    rooms: RoomConfig = field(default_factory=RoomConfig)
    room_seed: int = 0
    room_cache_dir: str | None = None
    room_workers: int = 1

    @classmethod
    def evaluation(cls, **overrides) -> SceneConfig:
        """The task's evaluation-style scenes: noise and interference always, FOA, no silence."""
        base = dict(p_interference=1.0, p_noise=1.0, p_silence=0.0, p_mono=0.0, p_stereo=0.0)
        return cls(**{**base, **overrides})


@dataclass
class Scene:
    """One synthesised scene (shapes with N = n_samples).

    mixture [4, N] float32; labels: 3 names ordered by onset, padded with "silence";
    targets [3, N] (channel-0 direct + early targets aligned with labels, zeros for silence);
    interference [2, N] (channel 0 of each wet interference event by onset, zero-padded);
    noise [1, N] (channel 0 of the background as mixed); metadata dict.
    """

    mixture: np.ndarray
    labels: list[str]
    targets: np.ndarray
    interference: np.ndarray
    noise: np.ndarray
    metadata: dict


@dataclass
class SceneComponents:
    """Full 4-channel parts of a scene before layout degradation (for checks and analysis)."""

    wet: list[np.ndarray]  # [4, N] per event, in metadata["events"] order
    noise: np.ndarray  # [4, N]


_BANKS: dict[tuple, RoomBank] = {}


def room_bank_for(config: SceneConfig, split: str) -> RoomBank:
    """The (process-cached) room bank of a config and split."""
    key = (config.rooms, split, config.room_seed, config.room_cache_dir)
    if key not in _BANKS:
        _BANKS[key] = cached_room_bank(
            config.rooms, split, config.room_seed, config.room_workers, config.room_cache_dir
        )
    return _BANKS[key]


def normalise_rir(rir: np.ndarray) -> np.ndarray:
    """Divide a `[C, L]` RIR by the mean of its per-channel L2 norms."""
    return rir / (np.mean(np.linalg.norm(rir, axis=1)) + 1e-12)


def early_window(rir0: np.ndarray) -> np.ndarray:
    """Channel-0 RIR truncated to [peak - 6 ms, peak + 50 ms], zeros elsewhere (delay kept)."""
    peak = int(np.argmax(np.abs(rir0)))
    a = max(0, peak - int(round(EARLY_BEFORE_S * SAMPLE_RATE)))
    b = min(len(rir0), peak + int(round(EARLY_AFTER_S * SAMPLE_RATE)) + 1)
    out = np.zeros_like(rir0)
    out[a:b] = rir0[a:b]
    return out


def convolve_event(dry: np.ndarray, rir: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`(wet [4, L+R-1], early [L+R-1])`: the normalised RIR and its truncated W applied."""
    rir = normalise_rir(rir.astype(np.float64))
    kernels = np.concatenate([rir, early_window(rir[0])[None]], axis=0)
    n = len(dry) + rir.shape[1] - 1
    nfft = sfft.next_fast_len(n, real=True)
    spec = sfft.rfft(dry.astype(np.float64), nfft) * sfft.rfft(kernels, nfft, axis=1)
    out = sfft.irfft(spec, nfft, axis=1)[:, :n]
    return out[:4], out[4]


def source_position(info: dict, src: int) -> dict:
    """Coordinates and direction (azimuth, elevation, distance from the mic) of a room position."""
    s = np.asarray(info["sources"][src])
    d = s - np.asarray(info["mic"])
    r = float(np.linalg.norm(d))
    return {
        "xyz": s.round(3).tolist(),
        "azimuth_deg": float(np.degrees(np.arctan2(d[1], d[0]))),
        "elevation_deg": float(np.degrees(np.arcsin(d[2] / r))),
        "distance_m": r,
    }


def _degrade(rng: np.random.Generator, mixture: np.ndarray, config: SceneConfig) -> tuple:
    u = rng.random()
    if u < config.p_mono:
        return to_foa(mixture[:1], Layout.MONO), Layout.MONO.value
    if u < config.p_mono + config.p_stereo:
        stereo = np.stack([mixture[0] + mixture[1], mixture[0] - mixture[1]])
        return to_foa(stereo, Layout.STEREO), Layout.STEREO.value
    return mixture, Layout.FOA.value


def synthesize_scene_components(
    rng_or_seed: np.random.Generator | int | tuple | list,
    config: SceneConfig = SceneConfig(),
    split: str = "train",
    sources: SourcePool | None = None,
    room_bank: RoomBank | None = None,
) -> tuple[Scene, SceneComponents]:
    """A scene and its full 4-channel parts; see `synthesize_scene`."""
    check_split(split)
    seed = None if isinstance(rng_or_seed, np.random.Generator) else rng_or_seed
    rng = rng_or_seed if seed is None else np.random.default_rng(seed)
    sources = sources or SourcePool(real_fraction=config.real_fraction, lowpass_p=config.lowpass_p)
    bank = room_bank or room_bank_for(config, split)
    n = config.n_samples
    ref_power = 10 ** (REFERENCE_LEVEL_DB / 10)

    room = int(rng.integers(bank.n_rooms))
    n_fg = (
        0
        if rng.random() < config.p_silence
        else int(rng.integers(config.foreground_range[0], config.foreground_range[1] + 1))
    )
    n_int = (
        int(rng.integers(config.interference_range[0], config.interference_range[1] + 1))
        if rng.random() < config.p_interference
        else 0
    )
    if n_fg + n_int > bank.rirs.shape[1]:
        raise ValueError(
            f"room bank has {bank.rirs.shape[1]} source positions, scene needs {n_fg + n_int}"
        )
    positions = rng.permutation(bank.rirs.shape[1])[: n_fg + n_int]
    labels = [str(c) for c in rng.choice(list(config.classes), size=n_fg, replace=False)]

    events: list[dict] = []
    wets: list[np.ndarray] = []
    targets: list[np.ndarray] = []
    for k in range(n_fg + n_int):
        foreground = k < n_fg
        rir = bank.rir(room, int(positions[k]))
        max_len = n - rir.shape[1] + 1
        clip: Clip = (
            sources.foreground(rng, labels[k], split, max_len)
            if foreground
            else sources.interference(rng, split, max_len)
        )
        wet, early = convolve_event(clip.audio, rir)
        lo, hi = config.snr_foreground if foreground else config.snr_interference
        snr = float(rng.uniform(lo, hi))
        gain = np.sqrt(ref_power * 10 ** (snr / 10) / (np.mean(wet**2) + 1e-30))
        onset = int(rng.integers(0, n - wet.shape[1] + 1))
        full = np.zeros((4, n))
        full[:, onset : onset + wet.shape[1]] = gain * wet
        wets.append(full)
        if foreground:
            tgt = np.zeros(n)
            tgt[onset : onset + len(early)] = gain * early
            targets.append(tgt)
        events.append(
            {
                "label": clip.label,
                "source": clip.source,
                "role": "foreground" if foreground else "interference",
                "event_time": onset / SAMPLE_RATE,
                "event_duration": len(clip.audio) / SAMPLE_RATE,
                "snr": snr,
                "gain": float(gain),
                "position": source_position(bank.info[room], int(positions[k])),
            }
        )

    if rng.random() < config.p_noise:
        noise4, noise_source = sources.background(rng, n, split)
        noise4 = noise4.astype(np.float64) * np.sqrt(ref_power)
    else:
        noise4, noise_source = np.zeros((4, n)), None
    mixture = noise4.copy()
    for wet in wets:
        mixture += wet
    mixture, layout = _degrade(rng, mixture, config)

    fg = sorted(range(n_fg), key=lambda i: events[i]["event_time"])
    it = sorted(range(n_fg, n_fg + n_int), key=lambda i: events[i]["event_time"])
    out_targets = np.zeros((N_FOREGROUND, n), np.float32)
    for slot, i in enumerate(fg):
        out_targets[slot] = targets[i]
    out_int = np.zeros((N_INTERFERENCE, n), np.float32)
    for slot, i in enumerate(it[:N_INTERFERENCE]):
        out_int[slot] = wets[i][0]
    order = fg + it
    metadata = {
        "events": [events[i] for i in order],
        "room": {**bank.info[room], "index": room},
        "noise": {"source": noise_source, "level_db": REFERENCE_LEVEL_DB if noise_source else None},
        "seed": seed if isinstance(seed, int | None) else list(seed),
        "split": split,
        "layout": layout,
    }
    scene = Scene(
        mixture=mixture.astype(np.float32),
        labels=[labels[i] for i in fg] + [SILENCE] * (N_FOREGROUND - n_fg),
        targets=out_targets,
        interference=out_int,
        noise=noise4[:1].astype(np.float32),
        metadata=metadata,
    )
    return scene, SceneComponents([wets[i] for i in order], noise4)


def synthesize_scene(
    rng_or_seed: np.random.Generator | int | tuple | list,
    config: SceneConfig = SceneConfig(),
    split: str = "train",
    sources: SourcePool | None = None,
) -> Scene:
    """One S5 scene drawn from `rng_or_seed` (same seed -> identical scene)."""
    return synthesize_scene_components(rng_or_seed, config, split, sources)[0]
