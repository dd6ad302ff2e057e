"""`scenesplit separate --start S --duration D`: only that range is separated, times count from
its start, and `scenesplit refine` re-extracts from the same range of the file."""

import json

import numpy as np
import pytest
import soundfile as sf

from engine.audio import write_audio
from engine.cli.main import main
from engine.constants import CLASSES, SAMPLE_RATE
from engine.errors import AudioError
from engine.pipeline.windows import (
    SourceRange,
    WindowSpec,
    iter_windows,
    read_window,
    source_range,
)


@pytest.fixture
def rec32k(tmp_path):
    rng = np.random.default_rng(3)
    x = (0.1 * rng.normal(size=(4, int(SAMPLE_RATE * 4.0)))).astype(np.float32)
    return write_audio(tmp_path / "r32.wav", x, SAMPLE_RATE), x


def test_range_starts_on_the_32k_grid_and_is_clipped_to_the_file(recording):
    src, offset = source_range(recording, 1.00002, 10.0)  # 48 kHz: 3 file frames per 2 samples
    assert src.start % 3 == 0 and offset == src.start * 2 // 3
    assert src.start + src.frames == int(48_000 * 3.3)  # clipped at the end
    src, offset = source_range(recording, 1.0, 1.5)
    assert (src.start, src.frames, offset) == (48_000, 72_000, 32_000)
    with pytest.raises(AudioError, match="outside the recording"):
        source_range(recording, 3.3)
    with pytest.raises(AudioError, match="must be positive"):
        source_range(recording, 0.5, 0.0)


def test_range_windows_are_the_files_samples_from_the_start(rec32k):
    path, x = rec32k
    src, offset = source_range(path, 1.25, 2.0)
    plan = WindowSpec(1.0, 0.75).plan(src.frames)
    for index, start, window in iter_windows(path, plan, None, src):
        piece = x[:, offset + start : offset + min(start + plan.size, plan.length)]
        assert np.array_equal(window[:, : piece.shape[1]], piece)
        assert not window[:, piece.shape[1] :].any()  # past the range: zeros, not the file
        again = read_window(path, start, plan.size, plan.length, None, offset)
        assert np.array_equal(again, window), index


def test_whole_file_is_the_default_range(rec32k):
    path, x = rec32k
    plan = WindowSpec(1.0, 0.75).plan(x.shape[1])
    a = [w for _, _, w in iter_windows(path, plan)]
    b = [w for _, _, w in iter_windows(path, plan, None, SourceRange())]
    assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))


def test_separate_a_range_then_refine_it(tiny_bundle, recording, tmp_path, capsys):
    out = tmp_path / "range"
    common = ["--bundle", str(tiny_bundle), "--device", "cpu"]
    argv = ["separate", str(recording), "-o", str(out), *common, "--tse-rounds", "1"]
    argv += ["--window", "1", "--hop", "0.75", "--start", "1", "--duration", "1.5", "--json"]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    manifest = json.loads((out / "manifest.json").read_text())
    rec = manifest["recording"]
    assert rec["start_s"] == 1.0 and rec["duration_s"] == 1.5 and rec["offset"] == SAMPLE_RATE
    assert rec["frames"] == 48_000 and rec["time_reference"] == SAMPLE_RATE
    assert summary["tracks"]
    for track in manifest["tracks"]:
        assert sf.info(str(out / track["file"])).frames == 48_000
        assert all(0 <= c["start_s"] < c["end_s"] <= 1.5 for c in track["clips"])
    assert all(w["end_s"] <= 1.5 for w in manifest["windows"])

    old = manifest["tracks"][0]["label"]
    new = next(c for c in CLASSES if c not in {t["label"] for t in manifest["tracks"]})
    refined = tmp_path / "range_v2"
    argv = ["refine", str(out), "--change-track", f"{old}={new}", "-o", str(refined), *common]
    assert main([*argv, "--json"]) == 0
    labels = [t["label"] for t in json.loads(capsys.readouterr().out)["tracks"]]
    assert new in labels
    second = json.loads((refined / "manifest.json").read_text())
    assert second["history"][-1] == {
        "version": 2,
        "kind": "change_track",
        "track": old,
        "label": new,
    }
    assert second["recording"]["offset"] == SAMPLE_RATE
    assert sf.info(str(refined / f"field take_{new}.wav")).frames == 48_000
    assert (out / "manifest.json").is_file()  # the refined result is left as it was


def test_refine_rejects_bad_requests_before_loading_models(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["refine", str(tmp_path), "--change-track", "Speech", "-o", str(tmp_path / "b")])
    assert "expected OLD=NEW" in capsys.readouterr().err
    assert main(["refine", str(tmp_path), "--remove-clip", "x", "-o", str(tmp_path / "b")]) == 2
    assert "not a separation result" in capsys.readouterr().err
