"""The command line as a user meets it: real subprocesses, one-line errors, exit codes."""

import json
import subprocess
import sys

import numpy as np
import pytest


def scenesplit(*args):
    return subprocess.run(
        [sys.executable, "-m", "engine.cli.main", *args], capture_output=True, text=True
    )


def test_info_reports_versions_and_locations():
    out = scenesplit("info", "--json")
    assert out.returncode == 0, out.stderr
    facts = json.loads(out.stdout)
    assert facts["torch"] and facts["device"] and facts["cache_dir"] and facts["default_bundle"]


def test_probe_reports_interpretation(write_wav):
    path = write_wav("scene.wav", np.zeros((2, 48_000), np.float32) + 0.01, rate=48_000)
    out = scenesplit("probe", str(path), "--json")
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout)
    assert r["channels"] == 2 and r["layout"] == "stereo" and r["resampled_to"] == 32_000
    assert r["duration_s"] == pytest.approx(1.0) and "mid/side" in r["layout_description"]
    text = scenesplit("probe", str(path)).stdout
    assert "interpretation" in text and "48000 Hz (resampled to 32000 Hz)" in text


@pytest.mark.parametrize(
    "content,message",
    [
        (None, "file not found"),
        (b"", "is empty"),
        (b"RIFF junk that is not a wave file" * 3, "not a readable audio file"),
    ],
)
def test_probe_bad_input_is_one_line_without_traceback(tmp_path, content, message):
    path = tmp_path / "bad.wav"
    if content is not None:
        path.write_bytes(content)
    out = scenesplit("probe", str(path))
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert out.stderr.strip().count("\n") == 0
    assert message in out.stderr and str(path) in out.stderr


def test_probe_nan_file(write_wav):
    x = np.zeros((4, 32_000), np.float32)
    x[0, 100] = np.nan
    out = scenesplit("probe", str(write_wav("nan.wav", x)))
    assert out.returncode == 2 and "NaN" in out.stderr and "Traceback" not in out.stderr


def test_separate_refuses_a_huge_channel_range_at_once(write_wav, tmp_path):
    # Checked against the file's 4 channels before a 30-million-entry list is built.
    path = write_wav("scene.wav", np.zeros((4, 8_000), np.float32))
    out = scenesplit("separate", str(path), "-o", str(tmp_path / "o"), "--channels", "0-30000000")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "channel selection '0-30000000' does not fit a file with 4 channels" in out.stderr
    assert not (tmp_path / "o").exists()
