"""Playback: mixing of stems from a position, and failing soft without audio output."""

import numpy as np
import pytest
import soundfile as sf

from desktop import playback


def test_mix_source_sums_every_file_from_start_and_decodes_foa_to_stereo(tmp_path):
    a = np.full(32_000, 0.25, np.float32)
    b = np.zeros((16_000, 4), np.float32)
    b[:, 0] = 0.5  # W
    b[:, 1] = 0.2  # Y: a source to the left
    b[:, 2:] = 0.9  # Z and X do not change left/right
    sf.write(str(tmp_path / "a.wav"), a, 32_000, subtype="FLOAT")
    sf.write(str(tmp_path / "b.wav"), b, 32_000, subtype="FLOAT")
    src = playback.MixSource([str(tmp_path / "a.wav"), str(tmp_path / "b.wav")], start_s=0.25)
    block = src.read(10_000)
    assert block.shape == (10_000, 2)
    assert np.allclose(block[:7_999, 0], 0.25 + 0.7) and np.allclose(block[:7_999, 1], 0.25 + 0.3)
    assert np.allclose(block[8_000:], 0.25)
    assert src.position_s == pytest.approx(0.25 + 10_000 / 32_000)
    rest = src.read(100_000)
    assert rest.shape[0] == 32_000 - 8_000 - 10_000
    assert src.read(10).shape[0] == 0
    src.close()


def test_mix_source_stops_at_the_selection_end_or_loops_it(tmp_path):
    ramp = np.arange(32_000, dtype=np.float32) / 32_000
    sf.write(str(tmp_path / "r.wav"), ramp, 32_000, subtype="FLOAT")
    once = playback.MixSource([str(tmp_path / "r.wav")], start_s=0.5, end_s=0.75)
    out = once.read(100_000)
    assert out.shape == (8_000, 2) and once.read(10).shape[0] == 0
    np.testing.assert_allclose(out[:, 0], ramp[16_000:24_000])
    looped = playback.MixSource([str(tmp_path / "r.wav")], start_s=0.5, end_s=0.75, loop=True)
    out = looped.read(20_000)  # two and a half times round
    assert out.shape == (20_000, 2)
    np.testing.assert_allclose(out[:, 0], np.tile(ramp[16_000:24_000], 3)[:20_000])
    # A loop past the end of the file plays what there is, then starts again.
    tail = playback.MixSource([str(tmp_path / "r.wav")], start_s=0.9, end_s=2.0, loop=True)
    np.testing.assert_allclose(tail.read(6_400)[:, 0], np.tile(ramp[28_800:], 2))


def test_mix_source_plays_stereo_as_stereo_and_refuses_mixed_rates(tmp_path):
    st = np.stack([np.full(100, 0.1), np.full(100, -0.2)], 1).astype(np.float32)
    sf.write(str(tmp_path / "s.wav"), st, 48_000, subtype="FLOAT")
    sf.write(str(tmp_path / "m.wav"), st[:, 0], 32_000, subtype="FLOAT")
    out = playback.MixSource([str(tmp_path / "s.wav")]).read(100)
    assert np.allclose(out, st)
    with pytest.raises(ValueError, match="share one sample rate"):
        playback.MixSource([str(tmp_path / "s.wav"), str(tmp_path / "m.wav")])
    with pytest.raises(ValueError, match="at least one file"):
        playback.MixSource([])


def test_player_without_audio_output_says_so(qtbot, monkeypatch, tmp_path):
    monkeypatch.setattr(playback, "probe_output", lambda: (False, "no audio output"))
    player = playback.Player()
    assert not player.available and player.reason == "no audio output"
    assert player.play([str(tmp_path / "whatever.wav")]) is False
    assert not player.playing


def test_feed_device_hands_the_sink_stereo_frames_then_ends(tmp_path):
    sf.write(str(tmp_path / "a.wav"), np.full(1000, 0.5, np.float32), 32_000, subtype="FLOAT")
    feed = playback._Feed(playback.MixSource([str(tmp_path / "a.wav")]), 8, int16=False)
    data = feed.readData(800 * 8)
    frames = np.frombuffer(data, "<f4").reshape(-1, 2)
    assert frames.shape == (800, 2) and np.allclose(frames, 0.5)
    assert feed.bytesAvailable() > 0
    assert len(feed.readData(10_000)) == 200 * 8
    assert feed.readData(10_000) == b"" and feed.finished and feed.bytesAvailable() == 0
    int16 = playback._Feed(playback.MixSource([str(tmp_path / "a.wav")]), 4, int16=True)
    assert np.frombuffer(int16.readData(40), "<i2")[0] == 16383


def test_player_plays_through_a_real_audio_output(qtbot, recording):
    available, reason = playback.probe_output()
    if not available:
        pytest.skip(f"needs an audio output: {reason}")
    player = playback.Player()
    positions = []
    player.positionChanged.connect(positions.append)
    with qtbot.waitSignal(player.stateChanged) as started:
        assert player.play([str(recording)], 2.0)
    assert started.args == [True] and player.playing
    qtbot.waitUntil(lambda: bool(positions) and positions[-1] > 2.3, timeout=10_000)
    assert min(positions) >= 2.0
    with qtbot.waitSignal(player.stateChanged) as stopped:
        player.stop()
    assert stopped.args == [False] and not player.playing


def test_the_meter_reads_what_the_sink_has_played_not_what_it_buffered(tmp_path):
    x = np.zeros((64_000, 2), np.float32)
    x[:32_000, 0] = 0.5  # left at -6 dBFS for the first second, right at -20 dBFS
    x[:32_000, 1] = 0.1
    sf.write(str(tmp_path / "s.wav"), x, 32_000, subtype="FLOAT")
    src = playback.MixSource([str(tmp_path / "s.wav")])
    src.read(64_000)  # the sink reads far ahead of what is heard
    left, right = src.peak_db(16_000, 1_600)
    assert left == pytest.approx(-6.02, abs=0.01) and right == pytest.approx(-20.0, abs=0.01)
    assert src.peak_db(60_000, 1_600) == (-np.inf, -np.inf)  # silence is heard by then
    src.close()


def test_level_meter_holds_peaks_marks_clipping_and_clears_on_stop(qtbot):
    from desktop.meter import LevelMeter, fraction
    from tests.desktop.conftest import screenshot

    meter = LevelMeter()
    qtbot.addWidget(meter)
    meter.show()
    meter.set_levels(-6.0, -20.0, now=100.0)
    meter.set_levels(-30.0, -30.0, now=100.5)
    assert meter.levels == [-30.0, -30.0] and meter.peaks == [-6.0, -20.0]
    assert meter.peak_text() == "-6.0"  # the louder channel's held peak
    meter.set_levels(-30.0, -30.0, now=102.0)  # held 1.5 s, then it follows
    assert meter.peaks == [-30.0, -30.0] and not meter.clipped
    meter.set_levels(0.4, -3.0, now=102.1)
    assert meter.clipped and meter.peak_text() == "+0.4"
    screenshot(meter, "level_meter")
    meter.set_levels(-np.inf, -np.inf)
    assert meter.peaks == [-np.inf, -np.inf] and not meter.clipped and meter.peak_text() == ""
    assert fraction(-60.0) == 0.0 and fraction(-30.0) == 0.5 and fraction(3.0) == 1.0
