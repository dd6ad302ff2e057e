import numpy as np
import pytest
import soundfile as sf

from engine.audio import StemWriter, read_audio, read_bext, write_audio


@pytest.mark.parametrize(
    "name,subtype,tol", [("a.wav", "FLOAT", 0), ("b.wav", "PCM_24", 2e-7), ("c.flac", None, 2e-7)]
)
def test_round_trip(tmp_path, rng, name, subtype, tol):
    x = rng.uniform(-0.9, 0.9, (2, 5000)).astype(np.float32)
    path = write_audio(tmp_path / name, x, subtype=subtype)
    np.testing.assert_allclose(read_audio(path), x, atol=tol)
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_bwf_time_reference_is_readable_and_audio_intact(tmp_path, rng):
    x = rng.uniform(-0.5, 0.5, (1, 32_000)).astype(np.float32)
    ref = 32_000 * 3600 * 5  # five hours: needs more than 32 bits? no, but exercises size
    path = write_audio(tmp_path / "stem.wav", x, time_reference=ref, description="Speech")
    bext = read_bext(path)
    assert bext["time_reference"] == ref and bext["description"] == "Speech"
    np.testing.assert_array_equal(read_audio(path), x)
    assert sf.info(str(path)).frames == 32_000


def test_large_time_reference_uses_high_word(tmp_path):
    path = write_audio(tmp_path / "s.wav", np.zeros(10, np.float32), time_reference=2**33 + 5)
    assert read_bext(path)["time_reference"] == 2**33 + 5


def test_incremental_writer_leaves_nothing_on_error(tmp_path):
    target = tmp_path / "stem.wav"
    with pytest.raises(RuntimeError):
        with StemWriter(target, 1) as w:
            w.write(np.zeros(100, np.float32))
            raise RuntimeError("job failed")
    assert list(tmp_path.iterdir()) == []


def test_incremental_writer_appends_blocks(tmp_path):
    with StemWriter(tmp_path / "s.flac", 2) as w:
        for i in range(3):
            w.write(np.full((2, 1000), 0.1 * i, np.float32))
    y = read_audio(tmp_path / "s.flac")
    assert y.shape == (2, 3000)
    assert abs(y[0, 2500] - 0.2) < 1e-6


def test_rejects_unknown_format_and_bwf_on_flac(tmp_path):
    with pytest.raises(ValueError, match="use .wav or .flac"):
        write_audio(tmp_path / "a.mp3", np.zeros(10))
    with pytest.raises(ValueError, match="needs a .wav"):
        write_audio(tmp_path / "a.flac", np.zeros(10), time_reference=5)


def test_a_full_disk_is_an_os_error_naming_the_stem(tmp_path, monkeypatch):
    """libsndfile says only "System error."; the writer says ENOSPC and which file."""
    import errno

    def full(self, data):
        sf._ffi.errno = errno.ENOSPC  # what the failed C write() left
        raise sf.LibsndfileError(2)

    target = tmp_path / "stem.wav"
    monkeypatch.setattr(sf.SoundFile, "write", full)
    with pytest.raises(OSError) as err:
        with StemWriter(target, 1) as w:
            w.write(np.zeros(100, np.float32))
    assert err.value.errno == errno.ENOSPC and err.value.filename == str(target)
    assert list(tmp_path.iterdir()) == []
