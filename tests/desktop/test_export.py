"""Rendered WAVs: exact sample range, float data, BWF time reference readable by the engine."""

import numpy as np
import pytest
import soundfile as sf

from desktop.export import bext_chunk, export_stems, read_time_reference, render_wav
from engine.audio.bwf import read_bext


@pytest.fixture
def stem(tmp_path):
    x = np.linspace(-1, 1, 32_000 * 3, dtype=np.float32)
    path = tmp_path / "stem.wav"
    sf.write(str(path), x, 32_000, subtype="FLOAT")
    return path, x


def test_clip_render_has_range_and_time_reference(tmp_path, stem):
    path, x = stem
    out = render_wav(path, tmp_path / "out" / "clip.wav", 1.25, 2.0, time_reference=40_000 + 1000)
    data, rate = sf.read(str(out), dtype="float32")
    assert rate == 32_000 and data.shape == (24_000,)
    assert np.array_equal(data, x[40_000:64_000])
    bext = read_bext(out)
    assert bext["time_reference"] == 41_000 and bext["originator"] == "Scenesplit"
    assert not list((tmp_path / "out").glob(".*"))


def test_large_time_reference_and_bad_values():
    assert len(bext_chunk(2**40)) == 8 + 602
    with pytest.raises(ValueError, match=">= 0 samples"):
        bext_chunk(-1)


def test_export_names_every_stem_after_the_recording(tmp_path, stem):
    path, _ = stem
    seen = []
    recording = {"name": "field", "time_reference": 7, "source_sample_rate": 32_000}
    out = export_stems(
        recording,
        [("Speech", path), ("Dishes", path)],
        tmp_path / "x",
        progress=lambda d, t: seen.append((d, t)),
    )
    assert [p.name for p in out] == ["field_Speech.wav", "field_Dishes.wav"]
    assert seen == [(1, 2), (2, 2)]
    assert all(read_bext(p)["time_reference"] == 7 for p in out)
    assert sf.info(str(out[0])).frames == 96_000


def test_time_reference_reader_matches_the_engine(tmp_path, stem):
    path, _ = stem
    assert read_time_reference(path) is None
    out = render_wav(path, tmp_path / "t.wav", time_reference=2**33 + 5)
    assert read_time_reference(out) == read_bext(out)["time_reference"] == 2**33 + 5
