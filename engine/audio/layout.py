"""Channel-layout policy: how a file's channels become the model's 4-channel FOA input.

| channels | interpretation | what the models get |
|---|---|---|
| 4 | first-order Ambisonics, ACN order W, Y, Z, X (the task's native format) | as is |
| 1 | mono: an omnidirectional signal | W = x; Y = Z = X = 0 (no spatial cue) |
| 2 | stereo L/R, taken as two virtual sources at +/-90 degrees | W = (L+R)/2 (mid), Y = (L-R)/2 (side), Z = X = 0 |
| other | not guessed | an error asking the user to pick channels (e.g. `--channels 0-3`) |

The training scenes include inputs degraded in exactly these ways, so the models know them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from engine.constants import FOA_CHANNEL_NAMES, N_CHANNELS
from engine.errors import AudioError


class Layout(StrEnum):
    """How the channels of an input are understood."""

    FOA = "foa"
    MONO = "mono"
    STEREO = "stereo"


@dataclass(frozen=True)
class LayoutInfo:
    """A layout with the names of its channels and a sentence a user can read."""

    layout: Layout
    channel_names: tuple[str, ...]
    description: str


LAYOUTS = {
    Layout.FOA: LayoutInfo(
        Layout.FOA,
        FOA_CHANNEL_NAMES,
        "first-order Ambisonics W, Y, Z, X (native: full spatial cues)",
    ),
    Layout.MONO: LayoutInfo(
        Layout.MONO,
        ("W",),
        "mono, used as the omnidirectional W channel (no spatial cues: separation relies on "
        "spectral cues only)",
    ),
    Layout.STEREO: LayoutInfo(
        Layout.STEREO,
        ("L", "R"),
        "stereo, converted to mid/side: mid -> W, side -> Y (left/right cue only, no front/back "
        "or height)",
    ),
}

_BY_COUNT = {4: Layout.FOA, 1: Layout.MONO, 2: Layout.STEREO}


def infer_layout(n_channels: int, path: object = "<input>") -> Layout:
    """The layout of a file with `n_channels` channels; raises AudioError if it is ambiguous."""
    layout = _BY_COUNT.get(n_channels)
    if layout is None:
        raise AudioError(
            path,
            f"{n_channels} channels cannot be interpreted: Scenesplit reads 4-channel FOA "
            "(W, Y, Z, X), mono or stereo; choose channels with --channels "
            "(e.g. '0-3' for FOA, '0' for mono, '0,1' for stereo)",
        )
    return layout


def parse_channel_selection(text: str, n_channels: int, path: object = "<input>") -> list[int]:
    """Parse '0-3', '0,1' or '2' into channel indices valid for a file of `n_channels`."""
    picked: list[int] = []
    for part in text.split(","):
        part = part.strip()
        try:
            if "-" in part:
                lo, hi = (int(v) for v in part.split("-", 1))
            else:
                lo = hi = int(part)
        except ValueError:
            raise AudioError(
                path, f"channel selection {text!r} is not like '0-3' or '0,1'"
            ) from None
        # Bounds before the list: '0-999999999999' must be refused, not built.
        if not 0 <= lo <= hi < n_channels:
            raise AudioError(
                path, f"channel selection {text!r} does not fit a file with {n_channels} channels"
            )
        picked.extend(range(lo, hi + 1))
    return picked


def to_foa(audio: np.ndarray, layout: Layout) -> np.ndarray:
    """Convert `[C, N]` audio in `layout` to the models' `[4, N]` FOA input (see module table)."""
    expected = len(LAYOUTS[layout].channel_names)
    if audio.ndim != 2 or audio.shape[0] != expected:
        raise ValueError(f"{layout.value} audio must be [{expected}, N], got {audio.shape}")
    if layout is Layout.FOA:
        return audio
    out = np.zeros((N_CHANNELS, audio.shape[1]), dtype=audio.dtype)
    if layout is Layout.MONO:
        out[0] = audio[0]
    else:
        out[0] = 0.5 * (audio[0] + audio[1])
        out[1] = 0.5 * (audio[0] - audio[1])
    return out
