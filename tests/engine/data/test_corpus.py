import subprocess

import numpy as np
import pytest
import soundfile as sf

from engine.data import corpus
from engine.data.corpus_rules import PACKAGES
from engine.data.sources import SourcePool
from engine.errors import ScenesplitError


def test_rules_label_files_and_keep_classes_apart():
    assert corpus.label_for("lmms-common", "usr/share/lmms/samples/drums/clap01.ogg") == "Clapping"
    assert (
        corpus.label_for("lmms-common", "usr/share/lmms/samples/drums/snare01.ogg") == "Percussion"
    )
    assert (
        corpus.label_for("lmms-common", "usr/share/lmms/samples/instruments/piano01.ogg")
        == "MusicalKeyboard"
    )
    assert (
        corpus.label_for("lmms-common", "usr/share/lmms/samples/instruments/flute01.ogg")
        == "interference"
    )
    assert corpus.label_for("bucklespring-data", "usr/share/buckle/wav/1e-0.wav") == "Typing"
    path = "usr/share/games/minetest/games/minetest_game/mods/default/sounds/default_wood_footstep.1.ogg"
    assert corpus.label_for("minetest-data", path) == "FootSteps"
    assert corpus.label_for("sound-theme-freedesktop", "x/stereo/audio-test-signal.oga") is None
    assert (
        corpus.label_for("lomiri-sounds", "usr/share/sounds/lomiri/ringtones/Melody piano.ogg")
        is None
    )
    for rules in PACKAGES.values():
        assert rules.licence


def test_split_is_stable_by_source_file():
    splits = [corpus.split_of("pkg", f"file{i}.wav") for i in range(400)]
    assert splits == [corpus.split_of("pkg", f"file{i}.wav") for i in range(400)]
    share = {s: splits.count(s) / 400 for s in ("train", "valid", "test")}
    assert 0.7 < share["train"] < 0.9 and share["valid"] > 0.04 and share["test"] > 0.04


def _fake_unpacked(root, rng):
    base = root / "unpacked" / "lmms-common"
    (base / "usr/share/lmms/samples/drums").mkdir(parents=True)
    (base / "usr/share/lmms/samples/waveforms").mkdir(parents=True)
    for name in ("clap01", "snare01", "kick01"):
        x = rng.standard_normal(11_025) * np.exp(-np.arange(11_025) / 2000)
        sf.write(str(base / f"usr/share/lmms/samples/drums/{name}.ogg"), 0.5 * x, 44_100)
    sf.write(
        str(base / "usr/share/lmms/samples/waveforms/saw.ogg"), rng.standard_normal(4410), 44_100
    )
    (base / ".done").touch()


def test_build_writes_a_manifest_idempotently(tmp_path, rng):
    _fake_unpacked(tmp_path, rng)
    manifest, report = corpus.build(["lmms-common", "bucklespring-data"], tmp_path)
    rows = corpus.read_manifest(manifest)
    assert sorted(r["label"] for r in rows) == ["Clapping", "Percussion", "Percussion"]
    assert report.failed == {"bucklespring-data": "not unpacked"}
    for r in rows:
        info = sf.info(str(tmp_path / r["path"]))
        assert info.samplerate == 32_000 and info.channels == 1
        assert r["licence"] and r["package"] == "lmms-common"
        assert float(r["duration"]) == pytest.approx(info.duration, abs=1e-3)
    again, _ = corpus.build(["lmms-common"], tmp_path)
    assert corpus.read_manifest(again) == rows


def test_pack_respects_the_budget_and_feeds_the_source_pool(tmp_path, rng):
    _fake_unpacked(tmp_path, rng)
    manifest, _ = corpus.build(["lmms-common"], tmp_path)
    out = corpus.pack(manifest, tmp_path / "pack", max_mb=40)
    rows = corpus.read_manifest(out)
    assert len(rows) == 3 and all(r["path"].endswith(".ogg") for r in rows)
    tiny = corpus.pack(manifest, tmp_path / "tiny", max_mb=0.0)
    assert corpus.read_manifest(tiny) == []
    pool = SourcePool.from_manifest(out, real_fraction=1.0, full_share_clips=1)
    for split in ("train", "valid", "test"):
        if ("Percussion", split) in pool.entries:
            clip = pool.foreground(np.random.default_rng(0), "Percussion", split, 320_000)
            assert clip.source.startswith("lmms-common:")
            assert np.max(np.abs(clip.audio)) == pytest.approx(1.0, abs=1e-5)


def test_short_hits_are_sequenced(tmp_path):
    hit = np.zeros(3200, np.float32)
    hit[:200] = np.hanning(200)
    path = tmp_path / "hit.wav"
    sf.write(str(path), hit, 32_000)
    pool = SourcePool(
        {("FootSteps", "train"): [{"path": str(path), "package": "t"}]},
        real_fraction=1.0,
        full_share_clips=1,
    )
    clip = pool.foreground(np.random.default_rng(1), "FootSteps", "train", 320_000)
    onsets = np.nonzero(np.diff((np.abs(clip.audio) > 0.5).astype(int)) == 1)[0]
    assert len(onsets) >= 3
    assert 0.3 < np.median(np.diff(onsets)) / 32_000 < 0.8


def test_fetch_reports_a_missing_package_and_goes_on(tmp_path, monkeypatch):
    calls = []

    def fake_run(cmd, cwd=None, **kw):
        calls.append(cmd)
        if cmd[:2] == ["apt-get", "download"] and cmd[2] == "lmms-common":
            (tmp_path / "debs" / "lmms-common_1.0_all.deb").write_bytes(b"x")
            return subprocess.CompletedProcess(cmd, 0, "", "")
        return subprocess.CompletedProcess(cmd, 100, "", "E: Unable to locate package")

    monkeypatch.setattr(corpus.subprocess, "run", fake_run)
    report = corpus.fetch(["hedgewars-data", "lmms-common"], tmp_path)
    assert report.done == ["lmms-common"]
    assert "Unable to locate" in report.failed["hedgewars-data"]
    assert ["apt-get", "update"] in calls
    assert corpus.fetch(["lmms-common"], tmp_path).skipped == ["lmms-common"]
    with pytest.raises(ScenesplitError, match="unknown corpus package"):
        corpus.fetch(["no-such-package"], tmp_path)


def test_rare_labels_use_their_few_real_clips_less_often(tmp_path):
    path = tmp_path / "one.wav"
    sf.write(str(path), np.hanning(16000).astype(np.float32), 32_000)
    pool = SourcePool({("Pour", "train"): [{"path": str(path), "package": "t"}]}, real_fraction=1.0)
    rng = np.random.default_rng(0)
    real = sum(pool._real(rng, "Pour", "train", 16_000) is not None for _ in range(400))
    assert 8 < real < 40  # about 1/20 of the draws
    assert pool.foreground(rng, "Pour", "train", 16_000).audio.shape[0] <= 16_000
