"""A small in-test job runner and an in-thread server, for the HTTP/queue/persistence tests.

The runner writes what the pipeline writes (a stem per class of the recording's length and a
valid manifest) without models, and can be held mid-job so cancel and queue order are testable.
The end-to-end tests (test_e2e.py) use the real pipeline in a real server process instead.
`HostileEngine` is a remote engine that lies, for the client's defences.
"""

from __future__ import annotations

import json
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import uvicorn

from engine.audio import audio_info, write_audio
from engine.constants import SAMPLE_RATE
from engine.pipeline.manifest import Clip, Manifest, SlotRecord, Track, WindowRecord, stem_filename
from engine.progress import ProgressReporter
from engine.server.app import create_app
from engine.server.security import PathPolicy
from engine.server.serve import bind_socket
from engine.server.service import EngineService, ServiceInfo

TOKEN = "test-token-0123456789abcdef"


class FakeRunner:
    """Writes one 'Speech' stem (a copy of channel 0) and a one-window manifest per job.

    `steps` progress reports per job; while `gate` is cleared the job waits at its first step
    (so tests can cancel or queue behind it); `fail_with` makes jobs raise that exception.
    """

    def __init__(self, steps: int = 3):
        self.steps = steps
        self.gate = threading.Event()
        self.gate.set()
        self.started = threading.Event()
        self.fail_with: BaseException | None = None
        self.ran: list[str] = []

    def _work(self, job, out_dir: Path, progress, cancel) -> None:
        self.ran.append(job.id)
        reporter = ProgressReporter(job.kind, self.steps, progress, cancel)
        reporter.update(0, "starting")
        for i in range(1, self.steps + 1):
            # A half-written stem exists while the job runs, as with the real pipeline; `started`
            # is set only once it exists, so a test never looks between the two.
            (out_dir / "partial.wav").write_bytes(b"RIFF")
            self.started.set()
            while not self.gate.wait(0.01):
                reporter.check()
            if self.fail_with is not None:
                raise self.fail_with
            reporter.update(i, f"step {i}/{self.steps}")

    def separate(self, job, out_dir: Path, progress, cancel) -> None:
        self._work(job, out_dir, progress, cancel)
        info = audio_info(job.input_path)
        frames = round(info.frames * SAMPLE_RATE / info.sample_rate)
        name = Path(job.input_path).stem
        (out_dir / "partial.wav").unlink()
        write_audio(out_dir / stem_filename(name, "Speech"), np.zeros(frames, np.float32))
        fake_manifest(job.input_path, name, frames).save(out_dir)

    def refine(self, job, base_dir: Path, out_dir: Path, version: int, progress, cancel) -> None:
        self._work(job, out_dir, progress, cancel)
        (out_dir / "partial.wav").unlink()
        m = Manifest.load(base_dir)
        op = job.operation
        clips = [c for t in m.tracks for c in t.clips if c.id != op.get("clip_id")]
        if op["kind"] == "change_class":
            clip = m.clip(op["clip_id"])
            clip.label = op["label"]
            clips.append(clip)
        m.tracks = [
            Track(c.label, stem_filename(m.recording["name"], c.label), c.confidence, [c])
            for c in clips
        ]
        for t in m.tracks:
            write_audio(out_dir / t.file, np.zeros(m.recording["frames"], np.float32))
        m.version = version
        m.history.append({"version": version, **op})
        m.save(out_dir)


def fake_manifest(path, name: str, frames: int) -> Manifest:
    """A one-window manifest with a Speech clip in slot 0."""
    dur = frames / SAMPLE_RATE
    return Manifest(
        recording={"path": str(path), "name": name, "duration_s": dur, "frames": frames},
        options={"window_s": 10.0, "hop_s": 7.5, "tse_rounds": 2},
        bundle={"name": "fake"},
        tracks=[
            Track(
                "Speech",
                stem_filename(name, "Speech"),
                0.9,
                [Clip("Speech-0", "Speech", 0.0, dur, 0.9, -5.0, [[0, 0]])],
            )
        ],
        windows=[
            WindowRecord(
                0,
                0.0,
                dur,
                {},
                [
                    SlotRecord("Speech", 0.9, -5.0, 0.0, dur),
                    SlotRecord("silence", 0.1, 5.0),
                    SlotRecord("silence", 0.1, 5.0),
                ],
            )
        ],
    )


class InThreadServer:
    """The real app and service (with `FakeRunner`) served by uvicorn on 127.0.0.1 in a thread."""

    def __init__(self, workdir: Path, roots: list[Path], runner: FakeRunner, max_upload_mb=1.0):
        self.runner = runner
        self.service = EngineService(
            workdir,
            runner,
            ServiceInfo("cpu", {"name": "fake"}),
            PathPolicy(roots),
            max_upload_bytes=int(max_upload_mb * 2**20),
        )
        self.app = create_app(self.service, TOKEN)
        self.sock = bind_socket("127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(self.app, log_level="error", lifespan="off")
        config.timeout_graceful_shutdown = 2
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]})

    def start(self) -> InThreadServer:
        self.service.start()
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("in-thread server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.runner.gate.set()
        self.service.stop(5)
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


@contextmanager
def serving(workdir: Path, roots: list[Path], runner: FakeRunner | None = None, **kw):
    """An `InThreadServer` for the duration of a `with` block."""
    srv = InThreadServer(workdir, roots, runner or FakeRunner(), **kw).start()
    try:
        yield srv
    finally:
        srv.stop()


class HostileEngine:
    """An HTTP server posing as an engine: every job is done at once, its manifest lists
    `stem_name`, and any other GET answers with bytes, so a client that joins that name to a
    folder writes wherever the name points."""

    def __init__(self, stem_name: str):
        job = {"id": "job1", "state": "done", "versions": [1], "error": None, "progress": {}}
        track = {"label": "Speech", "file": stem_name, "confidence": 0.9, "clips": []}
        manifest = {"version": 1, "tracks": [track]}

        class Handler(BaseHTTPRequestHandler):
            def _send(self, body: bytes, content_type: str, status: int = 200) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._send(json.dumps(job).encode(), "application/json", 202)

            def do_GET(self) -> None:
                if self.path.endswith("/events"):
                    event = f"event: job\ndata: {json.dumps(job)}\n\n"
                    self._send(event.encode(), "text/event-stream")
                elif self.path.endswith("/manifest"):
                    self._send(json.dumps(manifest).encode(), "application/json")
                else:
                    self._send(b"RIFF written by a hostile engine", "audio/wav")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> HostileEngine:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
