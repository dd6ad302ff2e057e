"""Procedural sound generators: one function per target class and per interference kind.

Every generator has the signature `gen(rng, split, duration) -> np.ndarray [n]` (mono float) and
draws its parameters from split-specific bands (`params`), so the test split holds out parameter
ranges. `generate_event` adds the common post-processing: a random low-pass (so bandwidth is no
class cue, real sources range from 8 to 96 kHz) and peak normalisation.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine.constants import CLASSES

from .impacts import clapping, cupboard_open_close, dishes, footsteps, percussion, typing
from .interference import INTERFERENCE
from .liquid import pour
from .motors import blender, hair_dryer, mechanical_fans, vacuum_cleaner
from .params import check_split, draw
from .primitives import lowpass, n_samples, peak_normalise
from .tonal import alarm_clock, bicycle_bell, buzzer, doorbell, musical_keyboard
from .voice import cough, speech

Generator = Callable[[np.random.Generator, str, float], np.ndarray]

GENERATORS: dict[str, Generator] = {
    "AlarmClock": alarm_clock,
    "BicycleBell": bicycle_bell,
    "Blender": blender,
    "Buzzer": buzzer,
    "Clapping": clapping,
    "Cough": cough,
    "CupboardOpenClose": cupboard_open_close,
    "Dishes": dishes,
    "Doorbell": doorbell,
    "FootSteps": footsteps,
    "HairDryer": hair_dryer,
    "MechanicalFans": mechanical_fans,
    "MusicalKeyboard": musical_keyboard,
    "Percussion": percussion,
    "Pour": pour,
    "Speech": speech,
    "Typing": typing,
    "VacuumCleaner": vacuum_cleaner,
}
assert tuple(GENERATORS) == CLASSES

# Typical event durations (s) per class: continuous machines run longer than single gestures.
DURATIONS: dict[str, tuple[float, float]] = {
    "AlarmClock": (2.0, 8.0),
    "BicycleBell": (0.8, 4.0),
    "Blender": (2.0, 8.0),
    "Buzzer": (0.8, 5.0),
    "Clapping": (1.5, 7.0),
    "Cough": (0.6, 3.0),
    "CupboardOpenClose": (1.0, 5.0),
    "Dishes": (1.0, 6.0),
    "Doorbell": (1.5, 5.0),
    "FootSteps": (2.0, 8.0),
    "HairDryer": (2.0, 9.0),
    "MechanicalFans": (3.0, 9.5),
    "MusicalKeyboard": (2.0, 8.0),
    "Percussion": (2.0, 8.0),
    "Pour": (1.5, 6.0),
    "Speech": (1.5, 8.0),
    "Typing": (1.5, 7.0),
    "VacuumCleaner": (2.0, 9.0),
}
INTERFERENCE_DURATION = (1.0, 8.0)


def random_lowpass(rng: np.random.Generator, x: np.ndarray, p: float = 0.6) -> np.ndarray:
    """With probability p, low-pass at a log-uniform 3.5-15 kHz cut-off (band-limited sources)."""
    if rng.random() >= p:
        return x
    return lowpass(x, float(np.exp(rng.uniform(np.log(3500.0), np.log(15000.0)))), order=6)


def event_duration(rng: np.random.Generator, label: str, split: str) -> float:
    """A duration (s) for an event of `label` (a class or an interference kind)."""
    lo, hi = DURATIONS.get(label, INTERFERENCE_DURATION)
    return draw(rng, lo, hi, split)


def generate_event(
    rng: np.random.Generator,
    label: str,
    split: str,
    duration: float | None = None,
    lowpass_p: float = 0.6,
) -> np.ndarray:
    """A peak-normalised float32 mono event of `label` (class or interference kind)."""
    check_split(split)
    gen = GENERATORS.get(label) or INTERFERENCE.get(label)
    if gen is None:
        raise ValueError(
            f"no generator for {label!r}; expected a class ({', '.join(CLASSES)}) or an "
            f"interference kind ({', '.join(INTERFERENCE)})"
        )
    if duration is None:
        duration = event_duration(rng, label, split)
    x = np.asarray(gen(rng, split, duration), dtype=np.float64)[: n_samples(duration)]
    x = random_lowpass(rng, x, lowpass_p)
    return peak_normalise(x)


__all__ = [
    "DURATIONS",
    "GENERATORS",
    "INTERFERENCE",
    "event_duration",
    "generate_event",
    "random_lowpass",
]
