"""Long-recording plumbing without models: windows in, stems out."""

import numpy as np
import pytest

from engine.audio import read_audio, read_bext
from engine.constants import SAMPLE_RATE
from engine.dsp import WindowPlan
from engine.errors import AudioError
from engine.pipeline.assembly import TrackAssembler, active_span, build_tracks, slot_records
from engine.pipeline.manifest import WindowRecord
from engine.pipeline.windows import iter_windows, read_window


@pytest.mark.parametrize("rate", [32_000, 48_000])
def test_windows_cover_the_file_and_random_access_agrees(write_wav, rng, rate):
    x = rng.normal(0, 0.1, (4, int(rate * 2.3))).astype(np.float32)
    path = write_wav("rec.wav", x, rate=rate)
    length = read_audio(path).shape[1]
    plan = WindowPlan(length, 32_000, 24_000)
    wins = list(iter_windows(path, plan))
    assert [i for i, _, _ in wins] == list(range(plan.count))
    whole = read_audio(path)
    for _, start, w in wins:
        valid = min(plan.size, length - start)
        np.testing.assert_allclose(w[:, :valid], whole[:, start : start + valid], atol=1e-6)
        assert not w[:, valid:].any()
        tol = 1e-6 if rate == 32_000 else 2e-3  # resampler edges differ slightly
        np.testing.assert_allclose(read_window(path, start, plan.size, length), w, atol=tol)


def test_a_file_shorter_than_its_plan_is_an_error_not_silence(write_wav):
    # The file changed between planning and reading: padding it would make silent stems.
    path = write_wav("rec.wav", np.zeros((4, 32_000), np.float32))
    with pytest.raises(AudioError, match="has 32000 samples at 32000 Hz where 40000 were planned"):
        list(iter_windows(path, WindowPlan(40_000, 32_000, 24_000)))


def test_identity_pipeline_reconstructs_input_without_clicks(tmp_path, rng):
    """Feeding each window's own channel 0 as a 'Speech' stem must give back channel 0."""
    length = int(SAMPLE_RATE * 3.7)
    x = rng.normal(0, 0.1, length).astype(np.float32)
    plan = WindowPlan(length, 32_000, 20_000)
    asm = TrackAssembler(tmp_path, lambda lab: f"rec_{lab}.wav", plan, time_reference=1234)
    padded = np.pad(x, (0, plan.padded_length - length))
    for i, s in enumerate(plan.starts()):
        waves = np.zeros((3, plan.size), np.float32)
        waves[1] = padded[s : s + plan.size]
        asm.add(i, waves, ["silence", "Speech", "silence"])
    stems = asm.finish()
    y = read_audio(stems["Speech"])[0]
    assert y.shape == (length,)
    np.testing.assert_allclose(y, x, atol=1e-6)
    assert read_bext(stems["Speech"])["time_reference"] == 1234


def test_class_appearing_late_is_zero_before_and_crossfades(tmp_path):
    length = 5 * 16_000
    plan = WindowPlan(length, 32_000, 16_000)
    asm = TrackAssembler(tmp_path, lambda lab: f"r_{lab}.wav", plan)
    for i in range(plan.count):
        waves = np.ones((3, plan.size), np.float32)
        asm.add(i, waves, ["Doorbell" if i >= 2 else "silence", "silence", "silence"])
    y = read_audio(asm.finish()["Doorbell"])[0]
    assert y.shape == (length,)
    assert not y[:32_000].any()  # windows 0 and 1 end at 48k; window 2 starts at 32k
    assert np.all(np.diff(y[32_000:48_000]) >= 0) and y[-1] == pytest.approx(1.0)


def test_abort_leaves_no_files(tmp_path):
    plan = WindowPlan(64_000, 32_000, 32_000)
    asm = TrackAssembler(tmp_path, lambda lab: f"r_{lab}.wav", plan)
    asm.add(0, np.ones((3, 32_000), np.float32), ["Speech", "Typing", "silence"])
    asm.abort()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="in order"):
        TrackAssembler(tmp_path, str, plan).add(1, np.ones((3, 32_000)), ["Speech"] * 3)


def test_active_span_and_clip_merging():
    wave = np.zeros(32_000 * 4)
    wave[32_000:48_000] = 0.1
    assert active_span(wave) == (32_000, 48_000)
    assert active_span(np.zeros(32_000)) is None
    w0 = WindowRecord(
        0,
        0.0,
        4.0,
        {},
        slot_records(
            wave[None].repeat(3, 0),
            ["Speech", "silence", "silence"],
            [0.9, 0, 0],
            [-8, 0, 0],
            0,
            10**6,
        ),
    )
    w1 = WindowRecord(
        1,
        1.0,
        5.0,
        slot_records(
            wave[None].repeat(3, 0),
            ["silence", "Speech", "Dishes"],
            [0, 0.7, 0.4],
            [0, -7, -2],
            32_000,
            10**6,
        ),
        [],
    )
    w1.stages, w1.slots = {}, w1.stages  # keep constructor order readable above
    tracks = build_tracks([w0, w1], lambda lab: f"x_{lab}.wav")
    speech = next(t for t in tracks if t.label == "Speech")
    assert len(speech.clips) == 1 and speech.clips[0].sources == [[0, 0], [1, 1]]
    assert speech.clips[0].start_s == 1.0 and speech.clips[0].end_s == 2.5
    assert speech.confidence == 0.9 and speech.clips[0].energy == -8
    assert [t.label for t in tracks] == ["Dishes", "Speech"]
