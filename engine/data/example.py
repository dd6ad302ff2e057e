"""The bundled example recording: 20 s of 4-channel FOA from procedural sources only.

Deterministic (fixed seed), redistributable (no corpus material): speech-like babble, a doorbell,
footsteps, typing and a vacuum cleaner in one simulated room over diffuse background noise, with
events starting and stopping so every 10 s window holds a different set. Regenerate with

    python -m engine.data.example [--out engine/assets/example/example_scene.wav]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from engine.constants import REFERENCE_LEVEL_DB, SAMPLE_RATE
from engine.data.generators import generate_event
from engine.data.noise import background_noise
from engine.data.rooms import RoomConfig, build_room_bank
from engine.data.scenes import convolve_event, source_position
from engine.paths import example_recording

DURATION_S = 20.0
SEED = 2025
# (label, onset s, duration s, event-to-noise ratio dB, room position)
SCRIPT = (
    ("Speech", 0.5, 6.5, 14.0, 0),
    ("Doorbell", 3.0, 3.0, 12.0, 1),
    ("FootSteps", 7.5, 7.0, 10.0, 2),
    ("Speech", 11.0, 5.5, 15.0, 3),
    ("Typing", 12.5, 6.0, 9.0, 4),
    ("VacuumCleaner", 15.5, 4.0, 6.0, 5),
    ("Doorbell", 17.0, 2.5, 12.0, 1),
)


def make_example(path: str | Path | None = None, seed: int = SEED) -> dict:
    """Write the example WAV (PCM 16) and its JSON next to it; returns the description."""
    import soundfile as sf

    path = Path(path) if path else example_recording()
    rng = np.random.default_rng(seed)
    cfg = RoomConfig(n_rooms=1, sources_per_room=6, rt60_range=(0.35, 0.45), max_seconds=0.6)
    bank = build_room_bank(cfg, "test", seed)
    n = int(DURATION_S * SAMPLE_RATE)
    ref = 10 ** (REFERENCE_LEVEL_DB / 10)
    noise, kind = background_noise(rng, n, "room_tone")
    mix = noise.astype(np.float64) * np.sqrt(ref)
    events = []
    for label, onset, dur, snr, pos in SCRIPT:
        dry = generate_event(rng, label, "test", dur, lowpass_p=0.0)
        wet, _ = convolve_event(dry, bank.rir(0, pos))
        gain = np.sqrt(ref * 10 ** (snr / 10) / np.mean(wet**2))
        a = int(onset * SAMPLE_RATE)
        m = min(wet.shape[1], n - a)
        mix[:, a : a + m] += gain * wet[:, :m]
        events.append(
            {
                "label": label,
                "event_time": onset,
                "event_duration": dur,
                "snr": snr,
                "source": f"generator:{label}",
                "position": source_position(bank.info[0], pos),
            }
        )
    peak = np.max(np.abs(mix))
    mix *= 0.5 / peak  # leave headroom, then 16-bit PCM
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), mix.T.astype(np.float32), SAMPLE_RATE, subtype="PCM_16")
    info = {
        "description": "Procedural example scene (redistributable): 4-channel FOA W,Y,Z,X, 32 kHz",
        "duration_s": DURATION_S,
        "seed": seed,
        "noise": f"generator:{kind}",
        "room": bank.info[0],
        "events": events,
        "regenerate": "python -m engine.data.example",
    }
    path.with_suffix(".json").write_text(json.dumps(info, indent=1))
    return info


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: write the example recording."""
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--seed", type=int, default=SEED)
    args = p.parse_args(argv)
    info = make_example(args.out, args.seed)
    print(f"wrote {args.out or example_recording()} ({len(info['events'])} events)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
