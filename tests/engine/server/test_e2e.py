"""End to end: a real `scenesplit serve` process (tiny random-weight bundle, CPU, loopback) driven
through the client: separate with streamed progress, download stems, refine into new versions,
cancel mid-job, kill -9 and restart, auth, path policy and bad requests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import httpx
import numpy as np
import pytest
import soundfile as sf

from engine.client import ChangeClass, EngineError, LocalEngine, RemoveClip
from engine.constants import CLASSES, SAMPLE_RATE
from tests.engine.server.conftest import scene

SMALL = {"window_s": 2.0, "hop_s": 1.5}
SLOW = {"window_s": 2.0, "hop_s": 0.25, "batch_windows": 1}  # many small steps: time to act


@pytest.fixture(scope="module")
def audio(tmp_path_factory):
    root = tmp_path_factory.mktemp("audio")
    scene(root / "street.wav", 6.0, seed=1)
    scene(root / "long.wav", 12.0, seed=2)
    scene(root / "short.wav", 2.0, seed=3, rate=48_000)
    (root / "notes.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" * 8)
    return root


@pytest.fixture(scope="module")
def engine(tiny_bundle, audio, tmp_path_factory):
    eng = LocalEngine(tmp_path_factory.mktemp("work"), tiny_bundle, "cpu", [audio], threads=1)
    eng.start(timeout=120)
    yield eng
    eng.stop()


@pytest.fixture(scope="module")
def separated(engine, audio):
    """A finished job on street.wav with the events seen while it ran."""
    c = engine.client
    job = c.submit(audio / "street.wav", **SMALL)
    seen = []
    final = c.wait(job["id"], on_update=seen.append)
    return final, seen


def wait_running(client, job_id, min_done=1):
    for job in client.events(job_id):
        if job["state"] == "running" and job["progress"]["done"] >= min_done:
            return job
    raise AssertionError(f"job ended before it got going: {job['state']} {job['error']}")


def test_separate_streams_progress_and_serves_stems(engine, separated, audio, tmp_path):
    final, seen = separated
    assert final["state"] == "done", final["error"]
    assert final["versions"] == [1] and final["recording"]["path"] == str(audio / "street.wav")
    running = [j for j in seen if j["state"] == "running" and j["progress"]["total"] > 0]
    assert running, "no progress was streamed"
    done = [j["progress"]["done"] for j in running]
    assert done == sorted(done) and running[-1]["progress"]["total"] == 4  # 6 s, 2 s / 1.5 s
    assert any(j["progress"]["eta_s"] is not None for j in running)
    m = engine.client.manifest(final["id"])
    assert m["tracks"] and m["options"]["window_s"] == 2.0 and m["options"]["device"] == "cpu"
    # Not asked for: the bundle's TSE rounds (this one says nothing, so the report's 2).
    assert final["options"]["tse_rounds"] is None and m["options"]["tse_rounds"] == 2
    assert engine.client.health()["bundle"]["tse_rounds"] == 2
    for track in m["tracks"]:
        path = engine.client.download_stem(final["id"], 1, track["file"], tmp_path)
        info = sf.info(str(path))
        assert (info.frames, info.samplerate, info.channels) == (6 * SAMPLE_RATE, SAMPLE_RATE, 1)
        assert track["file"].startswith("street_")
    health = engine.client.health()
    assert health["device"] == "cpu" and health["bundle"]["name"] == "tiny-e2e"


def test_everything_the_server_writes_is_private(engine, separated):
    """Uploads, stems, manifests and the token: folders 0700, files 0600 (issue 17 item 9)."""
    final, _seen = separated
    job_dir = engine.workdir / "jobs" / final["id"]
    paths = [engine.workdir / "token", job_dir, *job_dir.rglob("*")]
    assert len(paths) > 4
    for path in paths:
        mode = os.stat(path).st_mode & 0o777
        assert mode & 0o077 == 0, f"{path} has mode {mode:04o}"


def test_refine_makes_new_versions(engine, separated, tmp_path):
    job, _ = separated
    c = engine.client
    m1 = c.manifest(job["id"], 1)
    clip = m1["tracks"][0]["clips"][0]
    present = {t["label"] for t in m1["tracks"]}
    label = next(x for x in CLASSES if x not in present)
    r = c.wait(c.refine(job["id"], ChangeClass(clip["id"], label))["id"])
    assert r["state"] == "done", r["error"]
    assert r["result_version"] == 2 and c.job(job["id"])["versions"] == [1, 2]
    m2 = c.manifest(job["id"])
    assert m2["version"] == 2 and m2["history"][-1]["kind"] == "change_class"
    assert label in {t["label"] for t in m2["tracks"]}
    new = next(t for t in m2["tracks"] if t["label"] == label)
    stem = c.download_stem(job["id"], 2, new["file"], tmp_path)
    assert sf.info(str(stem)).frames == 6 * SAMPLE_RATE
    assert c.manifest(job["id"], 1) == m1  # the old version is untouched

    victim = new["clips"][0]["id"]
    r = c.wait(c.refine(job["id"], RemoveClip(victim), version=2)["id"])
    assert r["state"] == "done" and r["base_version"] == 2 and r["result_version"] == 3
    m3 = c.manifest(job["id"], 3)
    assert victim not in {cl["id"] for t in m3["tracks"] for cl in t["clips"]}
    assert m3["history"][-1] == {"version": 3, "kind": "remove_clip", "clip_id": victim}


def test_cancel_mid_job_leaves_no_stems(engine, audio):
    c = engine.client
    job = c.submit(audio / "long.wav", **SLOW)
    wait_running(c, job["id"])
    assert c.cancel(job["id"])["cancel_requested"]
    final = c.wait(job["id"])
    assert final["state"] == "cancelled" and final["versions"] == []
    job_dir = engine.workdir / "jobs" / job["id"]
    assert sorted(p.name for p in job_dir.rglob("*")) == ["job.json"]


def test_auth_paths_and_bad_requests(engine, audio, tmp_path):
    url = engine.client.url
    token = engine.token_file.read_text().strip()
    auth = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{url}/health").status_code == 200
    for headers in ({}, {"Authorization": "Bearer nope"}):
        r = httpx.get(f"{url}/jobs", headers=headers)
        assert r.status_code == 401 and "token" in r.json()["error"]
    outside = tmp_path / "outside.wav"
    scene(outside, 1.0)
    os.symlink(outside, audio / "sneaky.wav")
    for path in (outside, audio / "sneaky.wav", audio / ".." / "x.wav"):
        r = httpx.post(f"{url}/jobs", json={"path": str(path)}, headers=auth)
        assert r.status_code == 403 and "outside the folders" in r.json()["error"]
    r = httpx.post(
        f"{url}/jobs",
        json={"path": str(audio / "street.wav"), "options": {"hop_s": "x"}},
        headers=auth,
    )
    assert r.status_code == 422 and "options.hop_s" in r.json()["error"]
    r = httpx.post(
        f"{url}/jobs/{'x' * 3}/refine", json={"operation": {"kind": "change_class"}}, headers=auth
    )
    assert r.status_code == 422 and "clip_id" in r.json()["error"]
    r = httpx.post(
        f"{url}/jobs/upload",
        params={"filename": "notes.wav"},
        content=(audio / "notes.wav").read_bytes(),
        headers=auth,
    )
    assert r.status_code == 400 and r.json()["error"].startswith(
        "notes.wav: not a readable audio file"
    )
    r = httpx.post(f"{url}/jobs", json={"path": str(audio / "notes.wav")}, headers=auth)
    assert r.status_code == 400 and "not a readable audio file" in r.json()["error"]
    # The client falls back to uploading a file the server may not read.
    up = engine.client.submit(outside, **SMALL)
    assert up["recording"]["path"] is None
    engine.client.cancel(up["id"])
    # Bad samples show only while reading: the job fails with the reader's message.
    x = np.zeros((4, 32_000), np.float32)
    x[2, 16_000] = np.nan
    sf.write(str(tmp_path / "nan.wav"), x.T, 32_000, subtype="FLOAT")
    failed = engine.client.wait(engine.client.upload(tmp_path / "nan.wav", **SMALL)["id"])
    assert failed["state"] == "failed" and failed["error"].startswith("nan.wav: contains NaN")
    assert failed["versions"] == []


def test_cli_separate_on_the_server(engine, audio, tmp_path):
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "engine.cli.main", "separate", str(audio / "short.wav")]
    cmd += ["-o", str(out), "--server", engine.client.url, "--token-file", str(engine.token_file)]
    cmd += ["--window", "2", "--hop", "1.5", "--json"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    manifest = json.loads((out / "manifest.json").read_text())
    assert [t["file"] for t in summary["tracks"]] == [t["file"] for t in manifest["tracks"]]
    for t in manifest["tracks"]:
        assert sf.info(str(out / t["file"])).frames == 2 * SAMPLE_RATE  # 48 kHz in, 32 kHz out


def test_a_second_server_on_the_same_workdir_is_refused(engine, tiny_bundle, audio):
    c = engine.client
    token = engine.token_file.read_text()
    job = c.submit(audio / "long.wav", **SLOW)
    wait_running(c, job["id"])
    cmd = [sys.executable, "-m", "engine.cli.main", "serve", "--workdir", str(engine.workdir)]
    cmd += ["--bundle", str(tiny_bundle), "--device", "cpu"]  # the default token: workdir/token
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    assert res.stderr.strip().count("\n") == 0
    assert f"{engine.workdir}: another engine server (pid {engine.pid})" in res.stderr
    # The first server's running job, its partial result and its token are untouched.
    assert c.job(job["id"])["state"] == "running"
    assert list((engine.workdir / "jobs" / job["id"]).glob(".tmp-*"))
    assert engine.token_file.read_text() == token
    c.cancel(job["id"])
    assert c.wait(job["id"])["state"] == "cancelled"


def test_kill_restart_and_graceful_stop(tiny_bundle, audio, tmp_path):
    eng = LocalEngine(tmp_path / "work", tiny_bundle, "cpu", [audio], threads=1)
    c = eng.start(timeout=120)
    try:
        first = c.wait(c.submit(audio / "short.wav", **SMALL)["id"])
        assert first["state"] == "done"
        stem = c.manifest(first["id"])["tracks"][0]["file"]
        before = c.download_stem(first["id"], 1, stem, tmp_path / "before.wav").read_bytes()
        victim = c.submit(audio / "long.wav", **SLOW)
        wait_running(c, victim["id"])
        os.kill(eng.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while eng.alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not eng.alive()
        with pytest.raises(EngineError) as err:
            c.health()
        assert err.value.status is None

        c = eng.restart()
        job = c.job(victim["id"])
        assert job["state"] == "interrupted" and "running" in job["error"]
        assert sorted(p.name for p in (eng.workdir / "jobs" / victim["id"]).iterdir()) == [
            "job.json"
        ]
        assert c.job(first["id"])["state"] == "done"
        after = c.download_stem(first["id"], "latest", stem, tmp_path / "after.wav").read_bytes()
        assert after == before

        # SIGTERM (stop) while a job runs: it ends "interrupted", with no partial stems.
        again = c.submit(audio / "long.wav", **SLOW)
        wait_running(c, again["id"])
        eng.stop()
        c = eng.start(timeout=120)
        job = c.job(again["id"])
        assert job["state"] == "interrupted" and "shut down" in job["error"]
        assert sorted(p.name for p in (eng.workdir / "jobs" / again["id"]).iterdir()) == [
            "job.json"
        ]
    finally:
        eng.stop()


@pytest.mark.slow
def test_fuzz_the_real_server(engine, separated):
    from tests.engine.server.test_fuzz import fuzz

    token = engine.token_file.read_text().strip()
    url = engine.client.url
    schema = httpx.get(f"{url}/openapi.json", headers={"Authorization": f"Bearer {token}"}).json()
    statuses = fuzz(url, schema, separated[0]["id"], examples=10, derandomize=False, token=token)
    assert sum(statuses.values()) >= 200
    assert engine.client.health()["status"] == "ok"


def running(pid: int) -> bool:
    """Whether `pid` runs (an exited orphan may linger as a zombie until its new parent reaps
    it)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def editor_process(work, bundle) -> tuple[subprocess.Popen, int]:
    """An editor stand-in: a process that starts its LocalEngine on `work` and waits; returns
    it and its engine's pid."""
    editor = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time\n"
            "from engine.client import LocalEngine\n"
            f"eng = LocalEngine({str(work)!r}, {str(bundle)!r}, 'cpu', [], threads=1)\n"
            "eng.start(timeout=120)\n"
            "print(eng.pid, flush=True)\n"
            "time.sleep(600)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    return editor, int(editor.stdout.readline())


def test_an_engine_whose_editor_was_killed_stops_itself(tiny_bundle, tmp_path):
    """The editor (here a small parent process using LocalEngine) dies by SIGKILL: its engine
    notices within seconds, exits, and frees the work directory for the next editor."""
    work = tmp_path / "work"
    parent, engine_pid = editor_process(work, tiny_bundle)
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if not running(engine_pid):
            break
        time.sleep(0.2)
    else:
        os.kill(engine_pid, signal.SIGKILL)
        raise AssertionError("the engine outlived its killed editor")
    again = LocalEngine(work, tiny_bundle, "cpu", [], threads=1)
    again.start(timeout=120)  # the work directory's lock was released
    again.stop()


def wait_gone(pid: int, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while running(pid):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            raise AssertionError(f"engine {pid} is still running")
        time.sleep(0.2)


def test_a_second_editor_shares_the_engine_which_lasts_while_either_runs(
    tiny_bundle, audio, tmp_path
):
    """Two editors on one work directory: the second uses the first one's engine (no second
    set of models, one queue), keeps it after the first crashes, and it stops after both."""
    work = tmp_path / "work"
    first, engine_pid = editor_process(work, tiny_bundle)
    second = LocalEngine(work, tiny_bundle, "cpu", [], threads=1)
    try:
        second.start(timeout=120)
        assert second.shared and second.pid == engine_pid and second.alive()
        job = second.client.submit(audio / "street.wav", **SMALL)
        assert second.client.wait(job["id"])["state"] == "done"

        os.kill(first.pid, signal.SIGKILL)  # the first editor crashes
        first.wait()
        time.sleep(3.0)  # three polls of the engine's parent watch
        assert running(engine_pid)
        job = second.client.submit(audio / "short.wav", **SMALL)
        assert second.client.wait(job["id"])["state"] == "done"
        log = (work / "engine.log").read_text()
        assert "serving the editors that share this engine" in log
    finally:
        second.stop()
        if first.poll() is None:
            first.kill()
    wait_gone(engine_pid)  # the last editor has gone: the engine stops itself
    assert not second.alive()
    own = LocalEngine(work, tiny_bundle, "cpu", [], threads=1)
    own.start(timeout=120)
    pid = own.pid
    other = LocalEngine(work, tiny_bundle, "cpu", [], threads=1)
    try:
        assert not own.shared and own.pid != engine_pid
        other.start(timeout=30)
        assert other.shared and other.pid == pid
        own.stop()  # closing the editor that started it leaves it to the other one
        assert running(pid) and other.client.health()["status"] == "ok"
    finally:
        other.stop()
        own.stop()
        if running(pid):
            os.kill(pid, signal.SIGTERM)
            wait_gone(pid)
