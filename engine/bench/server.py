"""Engine server latency under a running job: status calls and the progress stream.

Starts a real server process (LocalEngine) on loopback, submits a separation and, while it
runs, measures (a) the round trip of `GET /jobs/{id}` and (b) the delay from a progress report
in the worker (its `reported_at` stamp) to the client receiving it over the event stream.
Client and server share this machine's clock, so (b) is exact up to clock reads.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

import numpy as np


def register(sub: argparse._SubParsersAction) -> None:
    """Add `bench server`."""
    p = sub.add_parser("server", help="status and progress-stream latency of the engine server")
    p.add_argument("--bundle", help="model bundle (default: a tiny random-weight bundle)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N")
    p.add_argument("--seconds", type=float, default=60.0, help="length of the test recording")
    p.add_argument("--window", type=float, default=2.0, help="analysis window in seconds")
    p.add_argument("--hop", type=float, default=1.5, help="window hop in seconds")
    p.add_argument("--batch", type=int, default=1, help="windows per forward pass")
    p.add_argument("--threads", type=int, help="CPU threads of the server's models")
    p.add_argument(
        "--poll-interval", type=float, default=0.05, help="pause between status calls (s)"
    )
    p.set_defaults(func=run)


def _stats(values_s: list[float]) -> str:
    if not values_s:
        return "no samples"
    ms = sorted(v * 1000 for v in values_s)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return (
        f"n={len(ms)}  median {statistics.median(ms):.2f} ms  p95 {p95:.2f} ms  max {ms[-1]:.2f} ms"
    )


def _status_latency(client, job_id: str, stop: threading.Event, pause: float) -> list[float]:
    out = []
    while not stop.is_set():
        t0 = time.perf_counter()
        job = client.job(job_id)
        out.append(time.perf_counter() - t0)
        if job["state"] != "running":
            break
        time.sleep(pause)
    return out


def run(args: argparse.Namespace) -> int:
    """Start a server, run one job, print the latencies."""
    from engine.audio import write_audio
    from engine.bench.machine import describe
    from engine.client import LocalEngine

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        bundle = args.bundle
        bundle_name = bundle
        if bundle is None:
            from engine.pipeline.bundle import make_random_bundle

            bundle = make_random_bundle(tmp / "bundle", "tiny")
            bundle_name = "tiny random-weight"
        audio = tmp / "audio"
        rng = np.random.default_rng(0)
        rec = rng.normal(0, 0.05, (4, int(args.seconds * 32_000))).astype(np.float32)
        write_audio(audio / "bench.wav", rec)
        engine = LocalEngine(
            tmp / "work", bundle, args.device, allow_roots=[audio], threads=args.threads
        )
        t0 = time.perf_counter()
        client = engine.start()
        startup = time.perf_counter() - t0
        try:
            idle = []
            for _ in range(50):
                t = time.perf_counter()
                client.health()
                idle.append(time.perf_counter() - t)
            opts = {"window_s": args.window, "hop_s": args.hop, "batch_windows": args.batch}
            job = client.submit(audio / "bench.wav", **opts)
            stream_delays: list[float] = []
            stamps: set[float] = set()
            done = threading.Event()
            result: dict = {}

            def follow() -> None:
                from engine.client import EngineClient

                with EngineClient(client.url, engine.token_file.read_text().strip()) as c:
                    for j in c.events(job["id"]):
                        now = time.time()
                        stamp = j["progress"]["reported_at"]
                        if j["state"] == "running" and stamp and stamp not in stamps:
                            stamps.add(stamp)
                            stream_delays.append(now - stamp)
                        result.update(j)
                done.set()

            t_job = time.perf_counter()
            follower = threading.Thread(target=follow, daemon=True)
            follower.start()
            while client.job(job["id"])["state"] == "queued":
                time.sleep(0.01)
            status = _status_latency(client, job["id"], done, args.poll_interval)
            follower.join(timeout=3600)
            job_s = time.perf_counter() - t_job
        finally:
            engine.stop()
    print(f"machine: {describe()} (shared with other work while measuring)")
    print(
        f"server: device {args.device}, threads {args.threads or 'default'}, bundle "
        f"{bundle_name}, start-up to READY {startup:.1f} s"
    )
    print(
        f"job: {args.seconds:g} s recording, window {args.window:g} s hop {args.hop:g} s, "
        f"batch {args.batch}: {result.get('state')} in {job_s:.1f} s, "
        f"{len(stream_delays)} progress reports"
    )
    print(f"GET /health, idle server:            {_stats(idle)}")
    print(f"GET /jobs/{{id}} during the job:       {_stats(status)}")
    print(f"progress report -> client (SSE):     {_stats(stream_delays)}")
    return 0 if result.get("state") == "done" else 1
