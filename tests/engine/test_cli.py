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


def assert_one_line(out, code=2):
    assert out.returncode == code, out.stderr
    assert "Traceback" not in out.stderr and out.stderr.strip().count("\n") == 0, out.stderr


def test_an_output_folder_that_is_a_file_is_one_line(tmp_path):
    (tmp_path / "afile").write_text("x")
    for out in (tmp_path / "afile", tmp_path / "afile" / "sub"):
        res = scenesplit("synth", "--out", str(out), "--n", "1", "--rooms", "1")
        assert_one_line(res)
        assert f"{out}: " in res.stderr and "is a file, not a folder" in res.stderr


def test_a_read_only_output_folder_is_one_line(tmp_path, monkeypatch, capsys):
    import errno
    import pathlib

    from engine.cli.main import main

    def read_only(self, *a, **k):
        raise OSError(errno.EROFS, "Read-only file system", str(self))

    monkeypatch.setattr(pathlib.Path, "mkdir", read_only)
    assert main(["synth", "--out", str(tmp_path / "ro"), "--n", "1", "--rooms", "1"]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'ro'}: Read-only file system (EROFS)" in err and "Traceback" not in err


@pytest.mark.skipif(not __import__("os").path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_disk_names_the_path_and_no_estimates_are_warned_about(tmp_path):
    data = tmp_path / "set"
    assert scenesplit("synth", "--out", str(data), "--n", "1", "--split", "test").returncode == 0
    (tmp_path / "est").mkdir()
    res = scenesplit(
        "evaluate", "--data", str(data), "--estimates", str(tmp_path / "est"), "--json", "/dev/full"
    )
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "scenesplit evaluate: error: /dev/full: No space left on device (ENOSPC)" in res.stderr
    assert f"warning: no estimates found in {tmp_path / 'est'}" in res.stderr


def test_an_absurd_window_is_refused_in_one_line(write_wav, tmp_path):
    path = write_wav("scene.wav", np.zeros((4, 8_000), np.float32))
    for window, hop in (("1e9", "1"), ("0.001", "0.001")):  # terabytes / below the models' need
        out = tmp_path / "o"
        res = scenesplit("separate", str(path), "-o", str(out), "--window", window, "--hop", hop)
        assert_one_line(res)
        assert "window must be 0.5-120 s" in res.stderr
    assert not (tmp_path / "o").exists()


def test_serve_refuses_an_unwritable_workdir_and_a_folder_as_token_file(tmp_path):
    (tmp_path / "afile").write_text("x")
    res = scenesplit("serve", "--workdir", str(tmp_path / "afile"))
    assert_one_line(res)
    assert f"--workdir {tmp_path / 'afile'}: cannot write there" in res.stderr
    (tmp_path / "tokens").mkdir()
    res = scenesplit(
        "serve", "--workdir", str(tmp_path / "w"), "--token-file", str(tmp_path / "tokens")
    )
    assert_one_line(res)
    assert "the token file is not a regular file" in res.stderr


def test_serve_refuses_a_read_only_workdir(tmp_path, monkeypatch, capsys):
    import errno
    import tempfile

    from engine.cli.main import main

    def read_only(*a, **k):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "TemporaryFile", read_only)
    assert main(["serve", "--workdir", str(tmp_path / "w")]) == 2
    err = capsys.readouterr().err
    assert "cannot write there: Read-only file system (EROFS)" in err


def test_a_reader_that_leaves_early_gets_no_traceback(write_wav):
    """`scenesplit probe --json | head -c 0`: the pipe closes before we write."""
    path = write_wav("scene.wav", np.zeros((2, 48_000), np.float32))
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine.cli.main", "probe", str(path), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()  # long before the interpreter has started
    stderr = proc.stderr.read().decode()
    assert proc.wait(120) == 141 and stderr == ""


def test_probe_reports_a_truncated_wav(write_wav, tmp_path):
    whole = write_wav("scene.wav", np.zeros((4, 32_000), np.float32) + 0.01)
    raw = whole.read_bytes()
    data = raw.index(b"data") + 8
    cut = tmp_path / "cut.wav"
    cut.write_bytes(raw[: data + 6_250 * 16])  # 6,250 of the 32,000 frames of 4 floats
    res = scenesplit("probe", str(cut))
    assert res.returncode == 0 and "Traceback" not in res.stderr
    assert "truncated: the header declares 32000 samples (1.000 s)" in res.stdout
    assert "holds only 6250 (0.195 s)" in res.stdout
    res = scenesplit("probe", str(cut), "--json", "--quick")
    assert json.loads(res.stdout)["truncated"].startswith("truncated: the header declares 32000")
    assert "warning" in res.stderr and str(cut) in res.stderr
    assert json.loads(scenesplit("probe", str(whole), "--json").stdout)["truncated"] is None
