import os

import numpy as np
import pytest
import soundfile as sf

from engine.audio import audio_info, iter_blocks, read_audio, read_frames
from engine.errors import AudioError


def test_reads_foa_at_native_rate_unchanged(write_wav, rng):
    x = rng.normal(0, 0.1, (4, 32_000 * 3)).astype(np.float32)
    path = write_wav("foa.wav", x)
    y = read_audio(path)
    assert y.dtype == np.float32 and y.shape == (4, 96_000)
    np.testing.assert_array_equal(y, x)


def test_resamples_to_32k_and_keeps_a_tone(write_wav):
    t = np.arange(48_000 * 2) / 48_000
    x = np.stack([np.sin(2 * np.pi * 1000 * t)] * 4).astype(np.float32) * 0.5
    y = read_audio(write_wav("48k.wav", x, rate=48_000))
    assert y.shape == (4, 64_000)
    spectrum = np.abs(np.fft.rfft(y[0, 8000:-8000]))
    peak_hz = np.argmax(spectrum) * 32_000 / (y.shape[1] - 16_000)
    assert abs(peak_hz - 1000) < 5
    assert abs(np.abs(y[0, 8000:-8000]).max() - 0.5) < 0.01


def test_blocks_concatenate_to_whole_file_with_resampling(write_wav, rng):
    x = rng.normal(0, 0.1, (2, 44_100 * 5 + 123)).astype(np.float32)
    path = write_wav("st.wav", x, rate=44_100)
    blocks = list(iter_blocks(path, 1.0))
    assert all(b.shape[1] == 32_000 for b in blocks[:-1])
    whole = read_audio(path)
    np.testing.assert_allclose(np.concatenate(blocks, axis=1), whole, atol=1e-6)
    expected = round((44_100 * 5 + 123) * 32_000 / 44_100)
    assert abs(whole.shape[1] - expected) <= 1


@pytest.mark.parametrize("channels,expected_w", [(1, "x0"), (2, "mid")])
def test_mono_and_stereo_become_foa_by_policy(write_wav, rng, channels, expected_w):
    x = rng.normal(0, 0.1, (channels, 32_000)).astype(np.float32)
    y = read_audio(write_wav("in.wav", x), foa=True)
    assert y.shape == (4, 32_000)
    if channels == 1:
        np.testing.assert_array_equal(y[0], x[0])
        assert not y[1:].any()
    else:
        np.testing.assert_allclose(y[0], 0.5 * (x[0] + x[1]), atol=1e-7)
        np.testing.assert_allclose(y[1], 0.5 * (x[0] - x[1]), atol=1e-7)
        assert not y[2:].any()


def test_other_channel_counts_need_a_selection(write_wav, rng):
    path = write_wav("six.wav", rng.normal(0, 0.1, (6, 3200)).astype(np.float32))
    with pytest.raises(AudioError, match="6 channels cannot be interpreted"):
        read_audio(path, foa=True)
    y = read_audio(path, channels=[0, 1, 2, 3], foa=True)
    assert y.shape == (4, 3200)


def test_reads_flac_and_ogg(tmp_path, rng):
    x = rng.normal(0, 0.1, (4, 16_000)).astype(np.float32)
    for fmt, sub in (("flac", "PCM_24"), ("ogg", "VORBIS")):
        path = tmp_path / f"a.{fmt}"
        sf.write(str(path), x.T, 32_000, subtype=sub)
        assert read_audio(path).shape == (4, 16_000)
        assert audio_info(path).format == fmt.upper()


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda p: None, "file not found"),
        (lambda p: p.write_bytes(b""), "is empty"),
        (lambda p: p.write_bytes(b"not audio at all" * 10), "not a readable audio file"),
    ],
)
def test_bad_files_name_the_file_and_problem(tmp_path, make, message):
    path = tmp_path / "bad.wav"
    make(path)
    with pytest.raises(AudioError, match=message) as err:
        read_audio(path)
    assert str(path) in str(err.value)


def test_zero_length_file(write_wav):
    path = write_wav("zero.wav", np.zeros((4, 0), np.float32))
    with pytest.raises(AudioError, match="no audio"):
        audio_info(path)


def test_nan_and_inf_are_located(write_wav):
    x = np.zeros((4, 64_000), np.float32)
    x[2, 48_000] = np.nan
    with pytest.raises(AudioError, match=r"NaN or infinite samples \(first at 1.500 s\)"):
        read_audio(write_wav("nan.wav", x))
    x[2, 48_000] = np.inf
    with pytest.raises(AudioError, match="NaN or infinite"):
        read_audio(write_wav("inf.wav", x))


def test_absurd_values_and_rates(write_wav):
    x = np.zeros((1, 1000), np.float32)
    x[0, 10] = 1e6
    with pytest.raises(AudioError, match="out of range"):
        read_audio(write_wav("loud.wav", x))
    with pytest.raises(AudioError, match="sample rate 100 Hz is out of range"):
        audio_info(write_wav("slow.wav", np.zeros((1, 1000), np.float32), rate=100))


def test_vanishing_file_mid_read(write_wav, rng):
    path = write_wav("gone.wav", rng.normal(0, 0.1, (4, 32_000 * 4)).astype(np.float32))
    blocks = iter_blocks(path, 1.0)
    next(blocks)
    path.unlink()
    # Already-open files stay readable on POSIX; what matters is a clean finish or AudioError.
    try:
        rest = list(blocks)
        assert sum(b.shape[1] for b in rest) == 3 * 32_000
    except AudioError as exc:
        assert str(path) in str(exc)


def test_file_truncated_mid_read_is_an_error_not_silence(write_wav, rng):
    path = write_wav("cut.wav", rng.normal(0, 0.1, (4, 32_000 * 4)).astype(np.float32))
    blocks = iter_blocks(path, 1.0)
    next(blocks)
    os.truncate(path, path.stat().st_size - 32_000 * 4 * 4 * 2)  # the last 2 s are gone
    with pytest.raises(AudioError, match=r"ended after 64000 of the 128000 frames .*truncated"):
        list(blocks)


def test_read_frames_is_random_access_at_the_files_rate(write_wav, rng):
    x = rng.normal(0, 0.1, (2, 48_000)).astype(np.float32)
    path = write_wav("stereo48k.wav", x, rate=48_000)
    np.testing.assert_array_equal(read_frames(path, 12_345, 1_000), x[:, 12_345:13_345])
    np.testing.assert_array_equal(read_frames(path, 100, 50, channels=[1]), x[1:, 100:150])
    assert read_frames(path, 47_990, 100).shape == (2, 10)  # short only at the end
    assert read_frames(path, 48_000, 100).shape == (2, 0)
    with pytest.raises(AudioError, match="channels \\[2\\] do not exist"):
        read_frames(path, 0, 10, channels=[2])


def test_read_frames_checks_the_samples_it_reads(write_wav):
    x = np.zeros((1, 32_000), np.float32)
    x[0, 20_000] = np.nan
    path = write_wav("nan.wav", x)
    assert read_frames(path, 0, 10_000).shape == (1, 10_000)
    with pytest.raises(AudioError, match="NaN"):
        read_frames(path, 19_000, 2_000)
