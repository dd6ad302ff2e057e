"""Split-aware parameter draws: each split sees its own bands of every generator parameter.

A parameter range [lo, hi] is cut into `N_BANDS` equal bands (in log space when asked); the test
split owns bands 2 and 7, the validation split band 5 and training the rest, so held-out splits
hear parameter values the training split never produced (DATA.md hygiene for synthetic classes).
"""

from __future__ import annotations

import numpy as np

N_BANDS = 10
SPLIT_BANDS = {
    "train": (0, 1, 3, 4, 6, 8, 9),
    "valid": (5,),
    "test": (2, 7),
}
SPLITS = tuple(SPLIT_BANDS)


def check_split(split: str) -> str:
    """Return `split` or raise ValueError naming the valid ones."""
    if split not in SPLIT_BANDS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    return split


def draw(rng: np.random.Generator, lo: float, hi: float, split: str, log: bool = False) -> float:
    """One value of a parameter in [lo, hi], from the bands owned by `split`."""
    bands = SPLIT_BANDS[check_split(split)]
    band = bands[int(rng.integers(len(bands)))]
    u = (band + rng.random()) / N_BANDS
    if log:
        return float(np.exp(np.log(lo) + u * (np.log(hi) - np.log(lo))))
    return float(lo + u * (hi - lo))


def draw_int(rng: np.random.Generator, lo: int, hi: int, split: str) -> int:
    """An integer in [lo, hi] drawn like `draw` (banded by split)."""
    return int(np.floor(draw(rng, lo, hi + 1 - 1e-9, split)))
