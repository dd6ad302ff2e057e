"""Reading evaluation scenes in the official layout: soundscapes and their oracle targets.

```
DIR/soundscape/<name>.wav              4-channel mixture
DIR/oracle_target/<name>_<Label>.wav   mono channel-0 target of each foreground event
```
(`DIR` may also be a dev-set root holding `test/soundscape/...`.)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.audio import read_audio
from engine.constants import CLASSES
from engine.errors import ScenesplitError


@dataclass
class ReferenceScene:
    """One scored scene: the mixture `[4, N]` and channel-0 targets by label (`[N]` each)."""

    name: str
    mixture: np.ndarray
    targets: dict[str, np.ndarray]


def soundscape_dir(data_dir: str | os.PathLike) -> Path:
    """The folder of soundscapes under `data_dir` (clear error if there is none)."""
    root = Path(data_dir)
    for cand in (root / "soundscape", root / "test" / "soundscape"):
        if cand.is_dir():
            return cand
    raise ScenesplitError(f"{root}: no soundscape/ folder (expected the official DCASE layout)")


def split_estimate_name(stem: str, names: set[str]) -> tuple[str, str] | None:
    """`<soundscape>_<Label>` -> (soundscape, Label) when Label is a class and the scene exists."""
    for label in CLASSES:
        suffix = f"_{label}"
        if stem.endswith(suffix) and stem[: -len(suffix)] in names:
            return stem[: -len(suffix)], label
    return None


def iter_reference_scenes(data_dir: str | os.PathLike) -> Iterator[ReferenceScene]:
    """Every soundscape with its oracle targets, in name order."""
    scenes = soundscape_dir(data_dir)
    targets_dir = scenes.parent / "oracle_target"
    if not targets_dir.is_dir():
        raise ScenesplitError(f"{scenes.parent}: no oracle_target/ folder beside soundscape/")
    names = sorted(p.stem for p in scenes.glob("*.wav"))
    if not names:
        raise ScenesplitError(f"{scenes}: no .wav soundscapes")
    by_scene: dict[str, dict[str, Path]] = {n: {} for n in names}
    name_set = set(names)
    for p in targets_dir.glob("*.wav"):
        parsed = split_estimate_name(p.stem, name_set)
        if parsed:
            by_scene[parsed[0]][parsed[1]] = p
    for name in names:
        mixture = read_audio(scenes / f"{name}.wav", foa=True)
        targets = {}
        for label, path in sorted(by_scene[name].items()):
            t = read_audio(path)[0]
            targets[label] = _fit(t, mixture.shape[1])
        yield ReferenceScene(name, mixture, targets)


def read_estimates(est_dir: str | os.PathLike, name: str, length: int) -> dict[str, np.ndarray]:
    """The `<name>_<Label>.wav` estimates of one soundscape in `est_dir` (label -> `[N]`)."""
    out = {}
    for label in CLASSES:
        p = Path(est_dir) / f"{name}_{label}.wav"
        if p.is_file():
            out[label] = _fit(read_audio(p)[0], length)
    return out


def _fit(x: np.ndarray, n: int) -> np.ndarray:
    return x[:n] if x.shape[0] >= n else np.pad(x, (0, n - x.shape[0]))
