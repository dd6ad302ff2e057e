"""Spectrogram of a view: energy where the tone is, same answer for short and long views."""

import numpy as np
import pytest
import soundfile as sf

from desktop.timeline import spectrogram


@pytest.fixture
def tone(tmp_path):
    rate = 32_000
    t = np.arange(rate * 6) / rate
    x = np.zeros((t.size, 2), np.float32)
    x[: 3 * rate, 0] = 0.5 * np.sin(2 * np.pi * 1000 * t[: 3 * rate])  # 1 kHz, first half only
    x[:, 1] = 0.5 * np.sin(2 * np.pi * 200 * t)
    path = tmp_path / "tone.wav"
    sf.write(str(path), x, rate, subtype="FLOAT")
    return path


def test_tone_lands_on_its_row_and_only_where_it_plays(tone):
    spec = spectrogram.compute(str(tone), 0.0, 6.0, 60)
    assert spec.db.shape == (60, spectrogram.ROWS) and spec.max_hz == 16_000
    row = int(round(spectrogram.frequency_position(1000, spec.max_hz) * (spectrogram.ROWS - 1)))
    assert abs(int(spec.db[10].argmax()) - row) <= 2
    assert spec.db[10].max() > spec.db[50].max() + 60  # silence after 3 s
    other = spectrogram.compute(str(tone), 0.0, 6.0, 60, channel=1)
    row200 = spectrogram.frequency_position(200, other.max_hz) * (spectrogram.ROWS - 1)
    assert abs(int(other.db[50].argmax()) - row200) <= 4  # 31 Hz FFT bins are coarse at 200 Hz


def test_long_views_seek_and_give_the_same_picture(tone, monkeypatch):
    read_once = spectrogram.compute(str(tone), 1.0, 2.0, 20)
    monkeypatch.setattr(spectrogram, "CONTIGUOUS_MAX", 0)  # as for an hour-wide view
    seeking = spectrogram.compute(str(tone), 1.0, 2.0, 20)
    assert np.allclose(read_once.db, seeking.db, atol=1e-3)
    with pytest.raises(ValueError, match="need t1 > t0"):
        spectrogram.compute(str(tone), 2.0, 1.0, 10)
