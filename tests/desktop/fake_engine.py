"""A small in-process engine for unit tests of the editor (never used by the editor itself).

It has EngineClient's methods and LocalEngine's lifecycle, keeps jobs and result versions like the
server does, and "separates" by writing a sine burst per clip into mono 32 kHz stems.
Refinement operations edit the clip list and re-render the stems, so every edit is visible.
`gate` (a threading.Event), when given, holds a running job at 50 % until it is set.
"""

from __future__ import annotations

import copy
import itertools
import shutil
import threading
from pathlib import Path

import numpy as np
import soundfile as sf

from engine.client import EngineClient

RATE = 32_000
FIRST_CLIPS = [
    ("Speech", 1.0, 3.0, 0.91),
    ("Doorbell", 5.0, 6.5, 0.64),
    ("Dishes", 7.0, 8.0, 0.55),
]


class FakeClient:
    """EngineClient stand-in (same method names, arguments and dict shapes)."""

    def __init__(self, root: Path, gate: threading.Event | None = None):
        self.root = root
        self.gate = gate
        self.jobs: dict[str, dict] = {}
        self.results: dict[str, dict[int, dict]] = {}
        self.ops: dict[str, tuple] = {}
        self.cancelled: set[str] = set()
        self.calls: list[tuple] = []
        self.first_clips = list(FIRST_CLIPS)  # what a separation finds (a test may empty it)
        self.stem_peaks: dict[str, float] = {}
        self.slow_cancel = False  # a cancel takes effect only when the gate opens  # peak level of a class's stem (default 0.4)
        self._ids = itertools.count(1)
        self.closed = False
        # Analysis windows (start, end) whose slots the manifest lists, as the engine's do;
        # none by default (then the editor cannot tell which windows are full).
        self.windows: list[tuple[float, float]] = []

    def health(self) -> dict:
        busy = any(j["state"] in ("queued", "running") for j in self.jobs.values())
        return {
            "status": "ok",
            "version": "fake",
            "device": "cpu",
            "bundle": {"name": "fake-bundle"},
            "busy": busy,
            "queued": 0,
        }

    def _job(self, kind: str, parent: str | None = None, **extra) -> dict:
        jid = f"{kind}{next(self._ids)}"
        job = {
            "id": jid,
            "kind": kind,
            "state": "queued",
            "progress": {"done": 0, "total": 4, "fraction": 0.0, "message": "", "eta_s": None},
            "queue_position": 0,
            "error": None,
            "parent": parent,
            "base_version": None,
            "result_version": None,
            "versions": [],
            **extra,
        }
        self.jobs[jid] = job
        return copy.deepcopy(job)

    def submit(self, path, **options) -> dict:
        self.calls.append(("submit", str(path), options))
        info = sf.info(str(path))
        # The recording facts the real engine's manifest holds (engine.pipeline.recording).
        facts = {
            "path": str(path),
            "duration_s": info.duration,
            "source_sample_rate": info.samplerate,
            "source_channels": info.channels,
            "channels": None,
            "layout": {1: "mono", 2: "stereo", 4: "foa"}.get(info.channels),
            "start_s": 0.0,
            "offset": 0,
        }
        return self._job("separate", recording=facts)

    def job(self, job_id: str) -> dict:
        return copy.deepcopy(self.jobs[job_id])

    def cancel(self, job_id: str) -> dict:
        self.calls.append(("cancel", job_id))
        self.cancelled.add(job_id)
        if self.gate is not None and not self.slow_cancel:
            self.gate.set()
        return self.job(job_id)

    def events(self, job_id: str):
        job = self.jobs[job_id]
        for step in range(1, 5):
            if job_id in self.cancelled:
                job["state"] = "cancelled"
                yield copy.deepcopy(job)
                return
            job.update(state="running", queue_position=None)
            job["progress"] = {
                "done": step,
                "total": 4,
                "fraction": step / 4,
                "message": f"window {step}/4",
                "eta_s": 3.0 * (4 - step),
            }
            yield copy.deepcopy(job)
            if step == 2 and self.gate is not None:
                self.gate.wait(10)
        if job_id in self.cancelled:
            job["state"] = "cancelled"
            yield copy.deepcopy(job)
            return
        if job["kind"] == "separate":
            self._first_version(job)
        else:
            self._refine(job)
        job["state"] = "done"
        yield copy.deepcopy(job)

    def wait(self, job_id: str, on_update=None) -> dict:
        last = self.job(job_id)
        for last in self.events(job_id):
            if on_update:
                on_update(last)
        return last

    # -- results -------------------------------------------------------------------------

    def _write(self, job_id: str, number: int, recording: dict, clips: list[dict], history) -> dict:
        folder = self.root / job_id / f"v{number}"
        folder.mkdir(parents=True, exist_ok=True)
        name = Path(recording["path"]).stem
        frames = int(round(recording["duration_s"] * RATE))
        tracks = []
        for label in sorted({c["label"] for c in clips}):
            mine = [c for c in clips if c["label"] == label]
            stem = np.zeros(frames, np.float32)
            freq = 200.0 + 40.0 * (sum(map(ord, label)) % 20)
            for c in mine:
                a, b = int(c["start_s"] * RATE), int(c["end_s"] * RATE)
                t = np.arange(b - a) / RATE
                # Decaying strikes, so the stem looks like a sound rather than a block.
                envelope = np.exp(-((t * 3.0) % 0.5) * 6.0) * (0.5 + 0.5 * np.cos(np.pi * t))
                level = self.stem_peaks.get(label, 0.4)
                stem[a:b] = level * envelope * np.sin(2 * np.pi * freq * t)
            filename = f"{name}_{label}.wav"
            sf.write(str(folder / filename), stem, RATE, subtype="FLOAT")
            tracks.append(
                {
                    "label": label,
                    "file": filename,
                    "confidence": max(c["confidence"] for c in mine),
                    "clips": mine,
                }
            )
        manifest = {
            "format": 1,
            "version": number,
            "parent": None,
            "recording": {**recording, "name": name, "sample_rate": RATE, "time_reference": 0},
            "options": {},
            "bundle": {"name": "fake-bundle"},
            "tracks": tracks,
            "windows": [
                {
                    "index": i,
                    "start_s": s0,
                    "end_s": s1,
                    "stages": {},
                    "slots": [
                        {"label": label, "prob": 0.5, "energy": -3.0}
                        for label in (
                            sorted(
                                {c["label"] for c in clips if c["end_s"] > s0 and c["start_s"] < s1}
                            )
                            + ["silence"] * 3
                        )[:3]
                    ],
                    "overrides": [],
                }
                for i, (s0, s1) in enumerate(self.windows)
            ],
            "history": history,
        }
        self.results.setdefault(job_id, {})[number] = {"manifest": manifest, "folder": folder}
        return manifest

    def _first_version(self, job: dict) -> None:
        clips = [
            {
                "id": f"c{i}",
                "label": label,
                "start_s": a,
                "end_s": b,
                "confidence": conf,
                "energy": -5.0,
                "sources": [],
            }
            for i, (label, a, b, conf) in enumerate(self.first_clips)
        ]
        self._write(job["id"], 1, job["recording"], clips, [])
        job["result_version"] = 1
        job["versions"] = [1]

    def _refine(self, job: dict) -> None:
        parent = self.jobs[job["parent"]]
        versions = self.results[parent["id"]]
        base = versions[job["base_version"]]["manifest"]
        clips = [copy.deepcopy(c) for t in base["tracks"] for c in t["clips"]]
        op = job["operation"]
        kind = op["kind"]
        if kind == "change_class":
            for c in clips:
                if c["id"] == op["clip_id"]:
                    c["label"] = op["label"]
        elif kind == "change_track":
            for c in clips:
                if c["label"] == op["track"]:
                    c["label"] = op["label"]
        elif kind == "remove_clip":
            clips = [c for c in clips if c["id"] != op["clip_id"]]
        elif kind == "remove_track":
            clips = [c for c in clips if c["label"] != op["track"]]
        elif kind == "add_class":
            clips.append(
                {
                    "id": f"c{len(clips) + 10}",
                    "label": op["label"],
                    "start_s": op["start_s"],
                    "end_s": op["end_s"],
                    "confidence": 0.5,
                    "energy": -3.0,
                    "sources": [],
                }
            )
        number = max(versions) + 1
        written = self._write(
            parent["id"], number, base["recording"], clips, base["history"] + [op]
        )
        # What the engine re-runs: the windows under the clips the correction touched.
        before = {c["id"]: c for t in base["tracks"] for c in t["clips"]}
        touched = [c for c in clips if before.get(c["id"]) != c]
        touched += [c for cid, c in before.items() if cid not in {x["id"] for x in clips}]
        written["rerun_windows"] = [
            i
            for i, (s0, s1) in enumerate(self.windows)
            if any(c["end_s"] > s0 and c["start_s"] < s1 for c in touched)
        ]
        job["result_version"] = number
        parent["versions"] = sorted(versions)

    def manifest(self, job_id: str, version=1) -> dict:
        versions = self.results[job_id]
        number = max(versions) if version == "latest" else int(version)
        return copy.deepcopy(versions[number]["manifest"])

    def download_stem(self, job_id: str, version, filename: str, dest) -> Path:
        number = max(self.results[job_id]) if version == "latest" else int(version)
        src = self.results[job_id][number]["folder"] / filename
        Path(dest).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, dest)
        return Path(dest)

    # The real composition of manifest() and download_stem() (the fake serves both).
    download_version = EngineClient.download_version

    def refine(self, job_id: str, operation, version=1) -> dict:
        wire = operation.to_dict()  # what the real client sends
        self.calls.append(("refine", job_id, wire, version))
        versions = self.results[job_id]
        base = max(versions) if version == "latest" else int(version)
        return self._job("refine", parent=job_id, base_version=base, operation=wire)

    def close(self) -> None:
        self.closed = True


class FakeEngine:
    """LocalEngine stand-in: start/alive/stop/restart around one FakeClient."""

    def __init__(self, root: Path, gate: threading.Event | None = None):
        self._client = FakeClient(root, gate)
        self._alive = False
        self.starts = 0
        self.shared = False
        """Whether it stands for another editor's engine this one attached to."""

    def start(self, timeout: float = 120.0) -> FakeClient:
        self._alive = True
        self.starts += 1
        return self._client

    def alive(self) -> bool:
        return self._alive

    def kill(self) -> None:
        """Simulate a crash of the engine process."""
        self._alive = False

    def stop(self) -> None:
        self._alive = False

    def restart(self) -> FakeClient:
        return self.start()

    @property
    def client(self) -> FakeClient | None:
        return self._client if self._alive else None
