"""The evaluator on constructed scenes whose scores are computed by hand."""

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from engine.eval.evaluate import evaluate_estimates

N = 32_000
T = np.arange(N) / 32_000


def tone(f, a=1.0):
    return a * np.sin(2 * np.pi * f * T)  # whole periods over 1 s: tones are orthogonal


def write(path, x):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), np.asarray(x, np.float32).T, 32_000, subtype="FLOAT")


@pytest.fixture
def dataset(tmp_path):
    data, est = tmp_path / "data", tmp_path / "est"
    # s1: Speech + Dishes in noise; estimates: Speech (10 dB), Typing (FP); Dishes missed (FN)
    speech, dishes, noise = tone(100), tone(200), tone(300)
    y0 = speech + dishes + noise  # SNR(y0, speech) = 10 log10(1/2)
    write(data / "soundscape" / "s1.wav", np.stack([y0, y0, y0, y0]) * 0.1)
    write(data / "oracle_target" / "s1_Speech.wav", speech * 0.1)
    write(data / "oracle_target" / "s1_Dishes.wav", dishes * 0.1)
    write(est / "s1_Speech.wav", (speech + tone(400, np.sqrt(0.1))) * 0.1)
    write(est / "s1_Typing.wav", tone(500) * 0.1)
    # s2: Speech only, estimated at half amplitude (6.02 dB), mixture at 0 dB
    write(data / "soundscape" / "s2.wav", np.stack([speech + noise] * 4) * 0.1)
    write(data / "oracle_target" / "s2_Speech.wav", speech * 0.1)
    write(est / "s2_Speech.wav", speech * 0.05)
    return data, est


def test_hand_computed_ca_sdri_with_fp_and_fn(dataset):
    data, est = dataset
    report = evaluate_estimates(est, data)
    row = next(iter(report["rows"].values()))
    p1 = 10 + 10 * np.log10(2)  # TP Speech in s1: 10 dB - (-3.01 dB)
    s1 = p1 / 3  # TP + FP (Typing) + FN (Dishes)
    s2 = 20 * np.log10(2)  # 6.02 dB - 0 dB
    assert row["ca_sdri"] == pytest.approx((s1 + s2) / 2, abs=1e-3)
    assert row["accuracy"] == pytest.approx(50.0)
    assert row["snri"] == pytest.approx((p1 + s2) / 2, abs=1e-3)
    assert report["per_class"]["Typing"]["fp"] == 1 and report["per_class"]["Dishes"]["fn"] == 1
    oracle = report["oracle IRM + true labels"]
    assert oracle["accuracy"] == 100.0 and oracle["ca_sdri"] > row["ca_sdri"]


def test_cli_writes_report(dataset, tmp_path):
    data, est = dataset
    out = tmp_path / "report.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "engine.cli.main",
            "evaluate",
            "--data",
            str(data),
            "--estimates",
            str(est),
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "CA-SDRi" in proc.stdout and "oracle IRM" in proc.stdout
    assert json.loads(out.read_text())["confusion"]["labels"][-1] == "silence"


def test_missing_layout_is_a_clear_error(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "engine.cli.main",
            "evaluate",
            "--data",
            str(tmp_path),
            "--estimates",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "no soundscape/ folder" in proc.stderr
