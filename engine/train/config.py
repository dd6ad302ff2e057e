"""Training configuration: typed dataclasses, named configs and `key=value` overrides.

A `TrainConfig` holds everything a run depends on: the task ("uss", "sc", "tse",
"m2d-pretrain"), the model's named size, the optimiser and schedule, the data recipe and the
task's own options (`task`, a per-task dataclass). Defaults are the report's values (METHOD.md:
lr 4e-4, 100 epochs of 50,000 scenes, paper model sizes); `named_config(task, "lite" | "smoke")`
shrinks them. A config round-trips through plain data (`to_dict` / `config_from_dict`), so it is
saved as JSON next to every checkpoint and inside it.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.constants import N_FOREGROUND
from engine.errors import ScenesplitError

TASKS = ("uss", "sc", "tse", "m2d-pretrain")
CONFIG_NAMES = ("paper", "lite", "cpu", "smoke")


class ConfigError(ScenesplitError):
    """A training config or override that cannot be used; the message names the key."""


@dataclass
class OptimConfig:
    """AdamW with linear warmup then cosine decay to `min_lr_ratio * lr`, and clipping."""

    lr: float = 4e-4
    weight_decay: float = 0.01
    betas: tuple[float, float] = (0.9, 0.999)
    warmup_steps: int = 1000
    min_lr_ratio: float = 0.01
    grad_clip: float = 5.0  # max global L2 norm; 0 disables clipping
    # With a time budget (max_minutes), let the cosine follow the elapsed share of the budget
    # when that is further along than the step count, so a budgeted run ends at the floor.
    time_schedule: bool = False
    # A warm restart (SGDR): warmup and cosine count from this step, so a run annealed to its
    # floor can resume with a new cycle up to `max_steps`; 0 = one cycle from step 0.
    restart_step: int = 0


@dataclass
class DataConfig:
    """On-the-fly synthesised training scenes and a fixed validation set on disk.

    An epoch is `train_scenes` scenes; scene i of the training set is synthesised from seed
    `(seed, i)` every time it is drawn, so the set is fixed (as in the report) while costing no
    disk, and the order is a seeded permutation per epoch.
    """

    seconds: float = 10.0
    train_scenes: int = 50_000
    valid_scenes: int = 500
    batch_size: int = 4  # scenes per step and per process
    num_workers: int = 4
    seed: int = 0
    p_interference: float = 0.7
    p_noise: float = 0.7
    # Foreground sources per training scene, drawn uniformly in [lo, hi] (the task: 1-3). A
    # curriculum starts narrower; validation always uses the task's evaluation-style scenes.
    foreground_range: tuple[int, int] = (1, N_FOREGROUND)
    # Scenes with no foreground. The report adds 5 % silent items for the classifier only
    # (SCTask.p_silent_items); separators train on scenes that hold at least one source.
    p_silence: float = 0.0
    real_fraction: float = 0.5
    manifest: str = ""  # source-corpus manifest (the compact source pack); "" = generators only
    n_rooms: int = 64
    room_method: str = "pyroomacoustics"  # or "analytic" (fast, for smoke runs)
    room_max_order: int = 3
    room_max_seconds: float = 1.0
    room_workers: int = 0  # processes simulating the room banks; 0 = all cores
    room_cache_dir: str = ""  # "" = the Scenesplit cache
    valid_dir: str = ""  # "" = <cache>/valid/<hash of this data recipe>
    overfit: bool = False  # every step sees the same batch (debugging, loss-falls tests)


@dataclass
class USSTask:
    """USS losses (METHOD.md): `L_fg + 0.01 (L_int + L_noise)` plus the class decoder's losses."""

    interference_weight: float = 0.01
    noise_weight: float = 0.01
    # Weight of CE (active slots) + KL to uniform (silent slots) + BCE activity; not published.
    class_weight: float = 1.0
    # SNR cap of the soft-thresholded losses (engine.losses.neg_sdr_soft), which stay finite
    # for absent interference/noise; 0 = the plain SA-SDR / SI-SNR of METHOD.md.
    soft_snr_max_db: float = 30.0
    # Permutation-invariant slots (best SA-SDR order per scene) instead of the report's onset
    # order; the class decoder is trained on the labels of the chosen order. The pipeline does
    # not depend on the USS's slot order (the classifier labels every slot).
    pit: bool = False
    # Foreground loss: "sa_sdr" (the report: energies summed over slots, so loud sources
    # dominate) or "snr" (mean of per-slot soft SNRs: every source counts alike, as in the
    # per-source SI-SDRi / CA-SDRi the product is judged by).
    fg_loss: str = "sa_sdr"


@dataclass
class SCTask:
    """M2D-SC training: stage 1 ArcFace + KL; stage 2 adds the energy hinge (METHOD.md)."""

    stage: int = 1
    energy_weight: float = 0.001  # stage 2 only
    p_silent_items: float = 0.05  # share of training items with no foreground
    p_zero_silence: float = 0.5  # silent item: zeros, else a near-silent residual
    residual_db: tuple[float, float] = (-45.0, -20.0)  # residual gain range for silent items
    uss_checkpoint: str = ""  # also train on this frozen USS's separated sources
    init: str = ""  # start from this checkpoint (ours, an M2D pre-train, or an official M2D)
    finetune_blocks: int = -1  # train only the last K blocks (+ head); -1 = everything
    crop_seconds: float = 0.0  # random crop of each source; 0 = the whole scene
    # On a fresh start, centre the embedding on clean training items and aim each class
    # weight at its items' mean (`tasks.sc.recentre_head`): a way out of a collapsed head.
    recentre_head: bool = False
    # ArcFace margin of the training loss; < 0: the model's (0.5, METHOD.md). 0 is a plain
    # scaled-cosine softmax (the campaign's fine-tune: `campaign.SC_MARGIN` says why).
    margin: float = -1.0


@dataclass
class TSETask:
    """TSE training: masked SNR on foreground + 0.01 SI-SNR on the other outputs (METHOD.md)."""

    uss_checkpoint: str = ""  # frozen USS giving the enrollment; "" = oracle-degraded targets
    # Start the trunk from this USS checkpoint (same trunk size): the mixture's encoder
    # channels, blocks, separator and decoder are copied; the enrollment channels and the
    # clue FiLM start at zero, so the initial TSE reproduces the USS exactly.
    init_from_uss: str = ""
    other_weight: float = 0.01
    soft_snr_max_db: float = 30.0  # as USSTask: soft losses on interference/noise; 0 = SI-SNR
    # Without a USS checkpoint the enrollment is the target plus the scene residual at this
    # level (dB relative to the target): a stand-in for a separator's leakage.
    oracle_leak_db: tuple[float, float] = (-25.0, -5.0)


@dataclass
class PretrainTask:
    """M2D self-supervised pre-training on synthesised foreground sources."""

    crop_seconds: float = 0.0  # 0 = the whole scene
    ema_start: float = 0.99995  # EMA decay of the target encoder (M2D's value), ramped to 1
    ema_end: float = 1.0


TASK_SECTIONS: dict[str, type] = {
    "uss": USSTask,
    "sc": SCTask,
    "tse": TSETask,
    "m2d-pretrain": PretrainTask,
}


@dataclass
class TrainConfig:
    """One training run. `task` is the per-task dataclass of `TASK_SECTIONS[name]`."""

    name: str = "uss"
    model: str = "paper"  # named config of the task's model (registry CONFIGS)
    optim: OptimConfig = field(default_factory=OptimConfig)
    data: DataConfig = field(default_factory=DataConfig)
    task: Any = field(default_factory=USSTask)
    epochs: int = 100
    max_steps: int = 0  # 0 = epochs * train_scenes / (batch_size * world size)
    max_minutes: float = 0.0  # wall-clock budget of one run; 0 = none
    valid_every: int = 2000  # steps; the last step always validates
    log_every: int = 50
    precision: str = "auto"  # "auto" (bf16 on CUDA, fp32 on CPU), "bf16", "fp32"
    compile: bool = False
    device: str = "auto"
    seed: int = 0
    find_unused_parameters: bool = False

    def __post_init__(self) -> None:
        if self.name not in TASKS:
            raise ConfigError(f"unknown task {self.name!r}; known: {', '.join(TASKS)}")
        expected = TASK_SECTIONS[self.name]
        if not isinstance(self.task, expected):
            raise ConfigError(
                f"task section of {self.name!r} must be {expected.__name__}, "
                f"got {type(self.task).__name__}"
            )
        if self.precision not in ("auto", "bf16", "fp32"):
            raise ConfigError(f"precision must be auto, bf16 or fp32, got {self.precision!r}")

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready)."""
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        """Indented JSON."""
        return json.dumps(self.to_dict(), indent=2)


def _paper(task: str) -> TrainConfig:
    return TrainConfig(name=task, task=TASK_SECTIONS[task]())


def _lite(task: str) -> TrainConfig:
    """CPU-friendly model sizes (USS/TSE "lite", ViT-Tiny SC) with a short schedule."""
    cfg = _paper(task)
    cfg.model = "lite"
    cfg.epochs = 10
    cfg.data = dataclasses.replace(
        cfg.data, train_scenes=20_000, valid_scenes=200, batch_size=4, num_workers=2
    )
    cfg.optim = dataclasses.replace(cfg.optim, warmup_steps=300)
    cfg.valid_every = 500
    cfg.log_every = 20
    if task == "sc":
        cfg.data.batch_size = 8
        cfg.optim.lr = 3e-4
    return cfg


def _cpu(task: str) -> TrainConfig:
    """The CPU tier (issue 13): 4 s scenes, one core per run, a short warm-up, frequent checks.

    Separators: the `cpu` model sizes, lr 1e-3 with 30 warm-up steps (the mask output starts at
    the mixture, so a large step is safe), a light class-decoder weight so the class loss does
    not drown the separation loss, validation every 50 steps on 48 fixed scenes. SC: the lite
    ViT-Tiny on the same scenes.
    """
    cfg = _lite(task)
    cfg.model = "lite" if task in ("sc", "m2d-pretrain") else "cpu"
    cfg.data = dataclasses.replace(
        cfg.data, seconds=4.0, valid_scenes=48, batch_size=4, num_workers=1
    )
    # One long cosine over the whole campaign (sessions resume the step count), not one per
    # session: 20,000 steps of 4 scenes are ~40 CPU-hours at the measured step rate.
    cfg.optim = dataclasses.replace(cfg.optim, lr=1e-3, warmup_steps=30)
    cfg.max_steps = 20_000
    # Validation (48 scenes, ~90 s on one core) every 50 steps: ~12 % of the time, and a
    # checkpoint every ~12 minutes (a stopped session loses less than 15).
    cfg.valid_every = 50
    cfg.log_every = 5
    if task == "uss":
        cfg.task.class_weight = 0.1
        cfg.task.pit = True
    if task == "tse":
        # Until a trained USS gives the enrollment: leakage as a weak separator leaves it
        # (a 0-5 dB SI-SDR USS leaks at about -5..+5 dB), so copying the clue is not enough.
        cfg.task.oracle_leak_db = (-10.0, 5.0)
    if task == "sc":
        cfg.data.batch_size = 8
        cfg.optim.lr = 3e-4
    return cfg


def _smoke(task: str) -> TrainConfig:
    """Seconds on a CPU: toy models, 1 s scenes, analytic rooms, a handful of steps."""
    cfg = _paper(task)
    cfg.model = "toy" if task in ("sc", "m2d-pretrain") else "tiny"
    cfg.epochs = 1
    cfg.max_steps = 6
    cfg.valid_every = 3
    cfg.log_every = 1
    cfg.data = DataConfig(
        seconds=1.0,
        train_scenes=64,
        valid_scenes=6,
        batch_size=2,
        num_workers=0,
        n_rooms=2,
        room_method="analytic",
        room_max_order=1,
        room_max_seconds=0.2,
        room_workers=1,
    )
    cfg.optim = OptimConfig(lr=1e-3, warmup_steps=1, weight_decay=0.0)
    return cfg


_BUILDERS = {"paper": _paper, "lite": _lite, "cpu": _cpu, "smoke": _smoke}


def named_config(task: str, name: str) -> TrainConfig:
    """The named config `name` ("paper", "lite", "cpu", "smoke") of `task`, or a JSON file path."""
    if task not in TASKS:
        raise ConfigError(f"unknown task {task!r}; known: {', '.join(TASKS)}")
    if name in _BUILDERS:
        return _BUILDERS[name](task)
    path = Path(name)
    if path.suffix == ".json" and path.is_file():
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}: not valid JSON ({exc})") from None
        cfg = config_from_dict(data)
        if cfg.name != task:
            raise ConfigError(f"{path} is a {cfg.name!r} config, not {task!r}")
        return cfg
    raise ConfigError(
        f"unknown config {name!r}: use one of {', '.join(CONFIG_NAMES)} or a .json file"
    )


def _field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def _coerce(value: Any, kind: Any, key: str) -> Any:
    """Turn plain data (or an override string) into a value of type `kind`."""
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(kind) if a is not type(None)]
        if value is None or value == "none":
            return None
        return _coerce(value, options[0], key)
    if isinstance(value, str) and kind is not str:
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            if kind is bool and value.lower() in ("true", "false", "yes", "no", "on", "off"):
                return value.lower() in ("true", "yes", "on")
            raise ConfigError(
                f"{key}: cannot read {value!r} as {getattr(kind, '__name__', kind)}"
            ) from None
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{key}: expected a list like [a, b], got {value!r}")
        args = typing.get_args(kind)
        if len(args) != len(value):
            raise ConfigError(f"{key}: expected {len(args)} values, got {len(value)}")
        return tuple(_coerce(v, a, key) for v, a in zip(value, args, strict=True))
    if kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {value!r}")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
        return int(value)
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        return float(value)
    if kind is str:
        return str(value)
    return value


def _section_from_dict(cls: type, values: dict[str, Any], prefix: str):
    types_ = _field_types(cls)
    unknown = sorted(set(values) - set(types_))
    if unknown:
        raise ConfigError(f"unknown {prefix or 'config'} keys {unknown}; known: {sorted(types_)}")
    kwargs = {}
    for key, value in values.items():
        kind = types_[key]
        if dataclasses.is_dataclass(kind):
            kwargs[key] = _section_from_dict(kind, value, f"{prefix}{key}.")
        else:
            kwargs[key] = _coerce(value, kind, prefix + key)
    return cls(**kwargs)


def config_from_dict(values: dict[str, Any]) -> TrainConfig:
    """Rebuild a TrainConfig from plain data (e.g. a checkpoint's saved config)."""
    values = dict(values)
    name = values.get("name", "uss")
    if name not in TASKS:
        raise ConfigError(f"unknown task {name!r}; known: {', '.join(TASKS)}")
    task_values = values.pop("task", {})
    cfg = _section_from_dict(TrainConfig, {**values, "task": TASK_SECTIONS[name]()}, "")
    cfg.task = _section_from_dict(TASK_SECTIONS[name], task_values, "task.")
    return cfg


def apply_overrides(cfg: TrainConfig, overrides: list[str]) -> TrainConfig:
    """Apply `key=value` strings (dotted keys: `optim.lr=1e-3`, `task.stage=2`) in place."""
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"override {item!r} must look like key=value")
        *parents, leaf = key.strip().split(".")
        target = cfg
        for part in parents:
            if not dataclasses.is_dataclass(target) or part not in _field_types(type(target)):
                raise ConfigError(f"unknown config key {key!r}")
            target = getattr(target, part)
        types_ = _field_types(type(target)) if dataclasses.is_dataclass(target) else {}
        if leaf not in types_ or dataclasses.is_dataclass(types_[leaf]):
            known = ", ".join(sorted(types_))
            raise ConfigError(f"unknown config key {key!r}; {'.'.join(parents) or 'top'}: {known}")
        if key == "name":
            raise ConfigError("the task is chosen on the command line, not with name=")
        setattr(target, leaf, _coerce(raw.strip(), types_[leaf], key))
    return cfg


def describe_overrides(cfg: TrainConfig, base: TrainConfig) -> list[str]:
    """The `key=value` differences of `cfg` from `base` (for logs)."""
    out: list[str] = []

    def walk(a: Any, b: Any, prefix: str) -> None:
        for f in dataclasses.fields(a):
            va, vb = getattr(a, f.name), getattr(b, f.name)
            if dataclasses.is_dataclass(va):
                walk(va, vb, f"{prefix}{f.name}.")
            elif va != vb:
                out.append(f"{prefix}{f.name}={json.dumps(va)}")

    walk(cfg, base, "")
    return out
