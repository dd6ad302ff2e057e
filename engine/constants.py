"""Constants shared by every part of Scenesplit: the task's sample rate, STFT and class list.

Values follow DCASE 2025 Task 4 ("S5") and the self-guided method (see shared/spec/METHOD.md).
Nothing else in the code base redefines them.
"""

from engine.errors import ScenesplitError

SAMPLE_RATE = 32_000
"""Working sample rate (Hz) of every model and of all audio inside the engine."""

N_CHANNELS = 4
"""Native input: first-order Ambisonics B-format."""

FOA_CHANNEL_NAMES = ("W", "Y", "Z", "X")
"""Channel order of the native format (ACN order, as in the task's data)."""

REFERENCE_CHANNEL = 0
"""Targets and SNR baselines are defined on channel 0 (W)."""

# STFT of the separator: 40 ms Hann window, 20 ms hop.
N_FFT = 1280
WIN_LENGTH = 1280
HOP_LENGTH = 640
N_FREQ = N_FFT // 2 + 1  # 641

SCENE_SECONDS = 10.0
SCENE_SAMPLES = int(SCENE_SECONDS * SAMPLE_RATE)  # 320,000

N_FOREGROUND = 3
N_INTERFERENCE = 2
N_NOISE = 1

REFERENCE_LEVEL_DB = -50.0
"""Level reference of the task's mixing (mean square over channels and samples)."""

CLASSES = (
    "AlarmClock",
    "BicycleBell",
    "Blender",
    "Buzzer",
    "Clapping",
    "Cough",
    "CupboardOpenClose",
    "Dishes",
    "Doorbell",
    "FootSteps",
    "HairDryer",
    "MechanicalFans",
    "MusicalKeyboard",
    "Percussion",
    "Pour",
    "Speech",
    "Typing",
    "VacuumCleaner",
)
NUM_CLASSES = len(CLASSES)  # 18
CLASS_INDEX = {name: i for i, name in enumerate(CLASSES)}

SILENCE = "silence"
"""Label of an empty slot; ignored by every metric."""

FLOAT32_EPS = 1.1920928955078125e-07
"""float32 machine epsilon, the `eps` of the task's SNR (METRICS.md)."""


def class_index(label: str) -> int:
    """Index of a class name; a ScenesplitError naming the valid classes for any other name."""
    try:
        return CLASS_INDEX[label]
    except KeyError:
        raise ScenesplitError(
            f"unknown class {label!r}; expected one of: {', '.join(CLASSES)}"
        ) from None
