"""Stem delivery: the recording's rate, the chosen format, spatial stems that keep the image."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from engine.audio.bwf import read_bext
from engine.audio.delivery import StemFormat, deliver_stem, reference_weights, spatial_blocks
from engine.cli.main import main
from engine.errors import ScenesplitError

RATE = 32_000


def blocks(x: np.ndarray, size: int):
    for i in range(0, x.shape[-1], size):
        yield x[..., i : i + size]


def sdr(ref: np.ndarray, est: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(ref**2) / np.sum((ref - est) ** 2)))


@pytest.fixture
def scene(tmp_path):
    """A 48 kHz FOA recording of two sources at different directions; a 32 kHz stem of one.

    Returns (recording facts as a manifest holds them, stem path, source A's 4-channel image).
    """
    rate, n = 48_000, 3 * 48_000
    rng = np.random.default_rng(1)
    t = np.arange(n) / rate
    # Noise bursts band-limited below 12 kHz: what a 32 kHz stem can hold.
    spec = np.fft.rfft(rng.standard_normal(n))
    spec[np.fft.rfftfreq(n, 1 / rate) > 12_000] = 0
    noise = np.fft.irfft(spec, n) / np.std(np.fft.irfft(spec, n))
    a = (noise * (np.sin(2 * np.pi * 0.7 * t) > 0)).astype(np.float32) * 0.2
    b = (0.3 * np.sin(2 * np.pi * 523 * t) * (np.sin(2 * np.pi * 0.7 * t) <= 0)).astype(np.float32)
    gains_a = np.array([1.0, 0.7, 0.1, -0.3], np.float32)[:, None]
    gains_b = np.array([1.0, -0.6, 0.2, 0.5], np.float32)[:, None]
    image_a = gains_a * a
    rec = tmp_path / "field.wav"
    sf.write(str(rec), (image_a + gains_b * b).T, rate, subtype="FLOAT")
    import soxr

    stem = tmp_path / "stem.wav"
    sf.write(str(stem), soxr.resample(a, rate, RATE), RATE, subtype="FLOAT")
    facts = {
        "path": str(rec),
        "name": "field",
        "source_sample_rate": rate,
        "sample_rate": RATE,
        "source_channels": 4,
        "channels": None,
        "layout": "foa",
        "time_reference": 64_000,  # 2 s, in 32 kHz samples as the manifest keeps it
        "start_s": 0.0,
    }
    return facts, stem, image_a


def test_default_is_the_recordings_rate_mono_float_placed_at_its_time(tmp_path, scene):
    facts, stem, image_a = scene
    out = deliver_stem(stem, tmp_path / "out" / "a.wav", facts, description="Speech")
    info = sf.info(str(out))
    assert (info.samplerate, info.channels, info.subtype) == (48_000, 1, "FLOAT")
    assert info.frames == 3 * 48_000
    assert read_bext(out)["time_reference"] == 96_000  # 2 s at 48 kHz
    data, _ = sf.read(str(out), dtype="float32")
    assert sdr(image_a[0], data) > 20  # resampled back, not changed


def test_formats_bit_depths_clipping_and_clip_ranges(tmp_path, scene):
    facts, stem, _ = scene
    loud = tmp_path / "loud.wav"
    sf.write(str(loud), np.full(RATE, 1.5, np.float32), RATE, subtype="FLOAT")
    out = deliver_stem(loud, tmp_path / "a.wav", facts, StemFormat(subtype="PCM_16"))
    assert sf.info(str(out)).subtype == "PCM_16"
    data, _ = sf.read(str(out), dtype="float32")
    assert data.min() > 0.99  # clipped at full scale, not wrapped to negative
    flac = deliver_stem(
        stem,
        tmp_path / "b.flac",
        facts,
        StemFormat(sample_rate=44_100, container="flac", subtype="PCM_24"),
        start_s=1.0,
        end_s=1.5,
    )
    info = sf.info(str(flac))
    assert (info.format, info.subtype, info.samplerate, info.frames) == (
        "FLAC",
        "PCM_24",
        44_100,
        22_050,
    )
    with pytest.raises(ScenesplitError, match="needs a .flac name"):
        deliver_stem(
            stem, tmp_path / "c.wav", facts, StemFormat(container="flac", subtype="PCM_24")
        )
    with pytest.raises(ScenesplitError, match="not 'FLOAT'"):
        StemFormat(container="flac", subtype="FLOAT")
    with pytest.raises(ScenesplitError, match="8000-384000"):
        StemFormat(sample_rate=100)


def test_spatial_stem_keeps_the_sources_image_on_every_channel(tmp_path, scene):
    facts, stem, image_a = scene
    fmt = StemFormat(spatial=True)
    assert fmt.describe(facts) == "48 kHz 32-bit float WAV, 4 channels (FOA)"
    out = deliver_stem(stem, tmp_path / "a.wav", facts, fmt)
    data, rate = sf.read(str(out), dtype="float32", always_2d=True)
    assert rate == 48_000 and data.shape == (3 * 48_000, 4)
    mixture, _ = sf.read(facts["path"], dtype="float32", always_2d=True)
    for c in range(4):
        # The other source is removed on every channel, with each channel's own gain and sign.
        assert sdr(image_a[c], data[:, c]) > 12, c
        assert sdr(image_a[c], data[:, c]) > sdr(image_a[c], mixture[:, c]) + 10, c
    missing = {**facts, "path": str(tmp_path / "moved.wav")}
    with pytest.raises(ScenesplitError, match="moved.wav: the recording is needed"):
        deliver_stem(stem, tmp_path / "b.wav", missing, fmt)


def test_spatial_chunks_give_the_whole_file_result():
    rng = np.random.default_rng(0)
    n = 48_000 * 2 + 123
    x = rng.standard_normal((2, n)).astype(np.float32)
    s = 0.5 * (x[0] + x[1]) * np.hanning(n).astype(np.float32)
    w = reference_weights({"layout": "stereo", "source_channels": 2, "channels": None})
    assert w.tolist() == [0.5, 0.5]
    chunked = np.concatenate(
        list(spatial_blocks(blocks(s, 5000), blocks(x, 7777), w, 48_000, chunk_hops=8)), 1
    )
    whole = np.concatenate(
        list(spatial_blocks(blocks(s, n), blocks(x, n), w, 48_000, chunk_hops=200)), 1
    )
    assert chunked.shape == whole.shape == (2, n)
    np.testing.assert_allclose(chunked, whole, atol=1e-6)
    # A stem that is the whole reference gives the recording back.
    same = np.concatenate(
        list(spatial_blocks(blocks(0.5 * (x[0] + x[1]), 4096), blocks(x, n), w, 48_000)), 1
    )
    np.testing.assert_allclose(same, x, atol=1e-4)


def test_cli_delivers_stems_with_a_summary_and_refuses_to_replace(tmp_path, scene, capsys):
    facts, stem, _ = scene
    result = tmp_path / "result"
    result.mkdir()
    stem.rename(result / "field_Speech.wav")
    manifest = {
        "recording": facts,
        "options": {},
        "bundle": {},
        "tracks": [{"label": "Speech", "file": "field_Speech.wav", "confidence": 0.9, "clips": []}],
        "windows": [],
    }
    (result / "manifest.json").write_text(json.dumps(manifest))
    out = tmp_path / "deliver"
    args = ["export", str(result), "-o", str(out), "--format", "stems", "--bits", "24"]
    assert main([*args, "--spatial"]) == 0
    info = sf.info(str(out / "field_Speech.wav"))
    assert (info.samplerate, info.channels, info.subtype) == (48_000, 4, "PCM_24")
    summary = json.loads((out / "stems.json").read_text())
    assert summary["description"] == "48 kHz 24-bit WAV, 4 channels (FOA)"
    assert summary["files"] == [{"label": "Speech", "file": "field_Speech.wav"}]
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "would replace" in err and "--overwrite" in err
    assert main([*args, "--overwrite", "--rate", "44100", "--flac"]) == 0
    assert sf.info(str(out / "field_Speech.flac")).samplerate == 44_100
    assert main([*args, "--rate", "fast"]) == 2
