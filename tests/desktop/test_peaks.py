"""Peak pyramids: exact min/max at every level, views that cover the range, bounded reading."""

import numpy as np
import pytest
import soundfile as sf

from desktop.timeline import peaks as peaks_mod
from desktop.timeline.peaks import BASE, FACTOR, PeakPyramid


@pytest.fixture
def long_file(tmp_path, rng):
    # Not a multiple of any bin or block size, with a spike placed at a known frame.
    n = peaks_mod.BLOCK_FRAMES * 2 + 12_345
    x = rng.uniform(-0.5, 0.5, (n, 2)).astype(np.float32)
    x[300_001, 1] = 0.99
    x[n - 3, 0] = -0.97
    path = tmp_path / "long.wav"
    sf.write(str(path), x, 32_000, subtype="FLOAT")
    return path, x


def built(path) -> PeakPyramid:
    p = PeakPyramid.for_file(path)
    for _ in p.build():
        pass
    return p


def test_every_level_holds_exact_min_and_max(long_file):
    path, x = long_file
    p = built(path)
    assert p.complete
    for level, arr in enumerate(p.levels):
        width = BASE * FACTOR**level
        for ch in range(2):
            for i in sorted({0, min(7, arr.shape[1] - 1), arr.shape[1] - 1}):
                seg = x[i * width : (i + 1) * width, ch]
                assert arr[ch, i, 0] == pytest.approx(seg.min())
                assert arr[ch, i, 1] == pytest.approx(seg.max())
    assert p.peak() == pytest.approx(0.99)


def test_view_finds_spikes_at_every_zoom(long_file):
    path, x = long_file
    p = built(path)
    t_spike = 300_001 / 32_000
    for span in (p.duration_s, 2.0, 0.05, 0.002):
        t0 = max(0.0, t_spike - span / 2)
        v = p.view(t0, t0 + span, 800, channel=1)
        assert v.maxs.max() == pytest.approx(0.99), span
        assert len(v.times) <= 800
        assert v.times[0] >= t0 - span and v.times[-1] <= t0 + 2 * span
    end = p.view(0, p.duration_s, 500, channel=0)
    assert end.mins.min() == pytest.approx(-0.97)


def test_level_choice_keeps_columns_bounded():
    p = PeakPyramid("none.wav", 32_000, 1, 32_000 * 3600)
    assert p.level_for(100) == -1
    assert p.level_for(BASE) == 0
    assert p.level_for(BASE * FACTOR * 1.5) == 1
    assert p.level_for(1e12) == len(p.levels) - 1
    # An hour of 4-channel audio at 32 kHz fits in ~15 MB of pyramid.
    assert PeakPyramid("x", 32_000, 4, 32_000 * 3600).nbytes() < 20e6


def test_partial_pyramid_draws_only_what_is_covered(long_file):
    path, _ = long_file
    p = PeakPyramid.for_file(path)
    gen = p.build()
    covered = next(gen)
    assert covered == peaks_mod.BLOCK_FRAMES == p.covered
    v = p.view(0, p.duration_s, 1000)
    assert v.times[-1] <= covered / 32_000 + 1e-6
    gen.close()


def test_build_stops_when_cancelled(long_file):
    path, _ = long_file

    class Stop:
        cancelled = True

    p = PeakPyramid.for_file(path)
    assert list(p.build(cancel=Stop())) == []
    assert not p.complete


def test_zigzag_alternates_min_and_max(long_file):
    path, _ = long_file
    v = built(path).view(0, 1, 100)
    x, y = v.zigzag()
    assert np.array_equal(y[0::2], v.mins) and np.array_equal(y[1::2], v.maxs)
    assert np.all(np.diff(x) >= 0)


def test_view_rejects_missing_channel(long_file):
    with pytest.raises(ValueError, match="channel must be in"):
        built(long_file[0]).view(0, 1, 10, channel=5)


def test_sketch_gives_a_whole_file_overview_before_the_exact_pass(tmp_path, monkeypatch):
    # A small threshold so a short file takes the long-file path.
    monkeypatch.setattr(peaks_mod, "SKETCH_MIN_FRAMES", peaks_mod.BLOCK_FRAMES)
    n = peaks_mod.BLOCK_FRAMES * 3
    x = np.zeros((n, 1), np.float32)
    x[::2, 0], x[1::2, 0] = 0.5, -0.5  # the same envelope everywhere
    sf.write(str(tmp_path / "s.wav"), x, 32_000, subtype="FLOAT")
    p = PeakPyramid.for_file(tmp_path / "s.wav")
    gen = p.build()
    assert next(gen) == 0 and p.sketched and p.covered == 0
    overview = p.view(0, p.duration_s, 40)
    assert overview.times[-1] > 0.9 * p.duration_s
    assert np.allclose(overview.maxs, 0.5) and np.allclose(overview.mins, -0.5)
    assert len(p.view(0, 10, 1000).times) == 0  # fine levels wait for the exact pass
    for _ in gen:
        pass
    assert p.complete and 500 <= len(p.view(0, 10, 1000).times) <= 1000
