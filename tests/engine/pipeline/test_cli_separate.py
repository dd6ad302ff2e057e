"""`scenesplit separate` as a user runs it: a real subprocess, stems and manifest on disk."""

import json
import subprocess
import sys

import soundfile as sf


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "engine.cli.main", *args], capture_output=True, text=True
    )


def test_separate_writes_named_stems(tiny_bundle, recording, tmp_path):
    out = tmp_path / "stems"
    proc = run(
        "separate",
        str(recording),
        "-o",
        str(out),
        "--bundle",
        str(tiny_bundle),
        "--device",
        "cpu",
        "--tse-rounds",
        "1",
        "--window",
        "2",
        "--hop",
        "1.5",
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["tracks"]
    for t in summary["tracks"]:
        assert (out / t["file"]).is_file() and sf.info(str(out / t["file"])).samplerate == 32_000
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["options"]["tse_rounds"] == 1 and manifest["recording"]["layout"] == "foa"
    assert "separate" in proc.stderr  # progress went to stderr


def test_bad_inputs_fail_cleanly_before_loading_models(tmp_path, tiny_bundle):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"nope")
    proc = run("separate", str(bad), "-o", str(tmp_path / "o"), "--bundle", str(tiny_bundle))
    assert proc.returncode == 2 and "not a readable audio file" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = run("separate", str(bad), "-o", str(tmp_path / "o"), "--bundle", str(tmp_path))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_batch_zero_is_refused_as_the_server_does(tmp_path, tiny_bundle, recording):
    proc = run("separate", str(recording), "-o", str(tmp_path / "o"), "--batch", "0")
    assert proc.returncode == 2 and "--batch must be at least 1, got 0" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "o").exists()


def test_missing_bundle_is_a_clear_error(tmp_path, recording):
    proc = run("separate", str(recording), "-o", str(tmp_path / "o"), "--bundle", str(tmp_path))
    assert proc.returncode == 2 and "no model bundle here" in proc.stderr


def test_sigterm_stops_separate_and_leaves_no_partial_stems(tiny_bundle, tmp_path):
    import os
    import signal
    import time

    import numpy as np

    long = tmp_path / "long.wav"
    rng = np.random.default_rng(0)
    sf.write(str(long), 0.1 * rng.standard_normal((32_000 * 60, 4)).astype("float32"), 32_000)
    out = tmp_path / "stems"
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine.cli.main", "separate", str(long), "-o", str(out)]
        + ["--bundle", str(tiny_bundle), "--device", "cpu", "--tse-rounds", "1"]
        + ["--window", "2", "--hop", "1", "--batch", "1"],
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not any(out.glob("*.part")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "finished before it could be stopped"
    os.kill(proc.pid, signal.SIGTERM)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err
    assert list(out.iterdir()) == []  # no .part files, no stems, no manifest
