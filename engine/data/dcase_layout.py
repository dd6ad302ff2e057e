"""The official development-set layout: `soundscape/<name>.wav` (4 ch), `oracle_target/
<name>_<Label>.wav` (mono), and per-scene metadata JSON (`metadata/<name>.json`), so real
challenge data and our scenes are interchangeable (DATA.md)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile as sf

from engine.audio.writer import write_audio
from engine.constants import N_FOREGROUND, N_INTERFERENCE, SAMPLE_RATE, SILENCE

SOUNDSCAPE = "soundscape"
ORACLE = "oracle_target"
METADATA = "metadata"
COMPONENTS = "components"  # our extra: channel-0 interference and noise, for training


def _write(path: Path, audio: np.ndarray) -> None:
    # The engine's atomic writer: a full disk is an OSError naming the file, no half file left.
    write_audio(path, np.asarray(audio, np.float32), SAMPLE_RATE, subtype="FLOAT")


def scene_metadata(scene, name: str) -> dict:
    """The metadata JSON of a scene in the official field names."""
    events = []
    for e in scene.metadata["events"]:
        events.append(
            {
                "label": e["label"],
                "source_file": e["source"],
                "source_time": e.get("source_time", 0.0),
                "event_time": e["event_time"],
                "event_duration": e["event_duration"],
                "snr": e["snr"],
                "role": e["role"],
                "event_position": e["position"],
            }
        )
    return {
        "soundscape": name,
        "labels": list(scene.labels),
        "events": events,
        "room": scene.metadata.get("room"),
        "noise": scene.metadata.get("noise"),
        "seed": scene.metadata.get("seed"),
        "split": scene.metadata.get("split"),
        "layout": scene.metadata.get("layout", "foa"),
    }


def write_scene(scene, root: str | Path, name: str, components: bool = True) -> Path:
    """Write one scene under `root` in the official layout; returns the soundscape path."""
    root = Path(root)
    path = root / SOUNDSCAPE / f"{name}.wav"
    _write(path, scene.mixture)
    for label, target in zip(scene.labels, scene.targets, strict=True):
        if label != SILENCE:
            _write(root / ORACLE / f"{name}_{label}.wav", target[None])
    if components:
        _write(root / COMPONENTS / f"{name}_interference.wav", scene.interference)
        _write(root / COMPONENTS / f"{name}_noise.wav", scene.noise)
    meta = root / METADATA / f"{name}.json"
    meta.parent.mkdir(parents=True, exist_ok=True)
    meta.write_text(json.dumps(scene_metadata(scene, name), indent=1))
    return path


def list_scenes(root: str | Path) -> list[str]:
    """Names of the soundscapes under `root`, sorted."""
    return sorted(p.stem for p in (Path(root) / SOUNDSCAPE).glob("*.wav"))


def _read(path: Path) -> np.ndarray:
    data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    if rate != SAMPLE_RATE:
        raise ValueError(f"{path}: expected {SAMPLE_RATE} Hz, got {rate}")
    return data.T


def read_scene(root: str | Path, name: str):
    """Read a scene written in the official layout back into a `Scene`.

    Labels come from the metadata when present, else from the oracle file names ordered by
    name (the official test set lists them in its metadata). Missing components read as zeros.
    """
    from engine.data.scenes import Scene

    root = Path(root)
    mixture = _read(root / SOUNDSCAPE / f"{name}.wav")
    n = mixture.shape[1]
    meta_path = root / METADATA / f"{name}.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    if "labels" in meta:
        labels = [label for label in meta["labels"] if label != SILENCE]
    else:
        labels = sorted(p.stem[len(name) + 1 :] for p in (root / ORACLE).glob(f"{name}_*.wav"))
    targets = np.zeros((N_FOREGROUND, n), np.float32)
    for i, label in enumerate(labels[:N_FOREGROUND]):
        p = root / ORACLE / f"{name}_{label}.wav"
        if p.exists():
            targets[i] = _read(p)[0, :n]
    interference = np.zeros((N_INTERFERENCE, n), np.float32)
    noise = np.zeros((1, n), np.float32)
    p = root / COMPONENTS / f"{name}_interference.wav"
    if p.exists():
        interference[:] = _read(p)[:N_INTERFERENCE, :n]
    p = root / COMPONENTS / f"{name}_noise.wav"
    if p.exists():
        noise[:] = _read(p)[:1, :n]
    events = [
        {
            "label": e["label"],
            "source": e["source_file"],
            "source_time": e.get("source_time", 0.0),
            "event_time": e["event_time"],
            "event_duration": e["event_duration"],
            "snr": e["snr"],
            "role": e["role"],
            "position": e.get("event_position"),
        }
        for e in meta.get("events", [])
    ]
    metadata = {
        "events": events,
        "room": meta.get("room"),
        "noise": meta.get("noise"),
        "seed": meta.get("seed"),
        "split": meta.get("split"),
        "layout": meta.get("layout", "foa"),
    }
    labels = labels[:N_FOREGROUND] + [SILENCE] * (N_FOREGROUND - len(labels[:N_FOREGROUND]))
    return Scene(mixture, labels, targets, interference, noise, metadata)
