import dataclasses

import numpy as np
import pytest
from scipy.signal import fftconvolve

from engine.constants import CLASSES, REFERENCE_LEVEL_DB, SILENCE
from engine.data.noise import background_noise
from engine.data.scenes import (
    early_window,
    normalise_rir,
    synthesize_scene,
    synthesize_scene_components,
)
from engine.data.sources import Clip, SourcePool


class RecordingPool(SourcePool):
    """A source pool that remembers the dry clips it handed out."""

    def __init__(self):
        super().__init__(real_fraction=0.0)
        self.dry = []

    def foreground(self, rng, label, split, max_len):
        clip = super().foreground(rng, label, split, max_len)
        self.dry.append(clip)
        return clip

    def interference(self, rng, split, max_len):
        clip = super().interference(rng, split, max_len)
        self.dry.append(clip)
        return clip


def _position_index(bank, room, event):
    return next(
        i
        for i, s in enumerate(bank.info[room]["sources"])
        if np.allclose(np.round(s, 3), event["position"]["xyz"])
    )


def _db(x):
    return 10 * np.log10(np.mean(np.asarray(x, np.float64) ** 2))


@pytest.mark.parametrize("seed", range(4))
def test_event_snrs_are_reproduced(toy_config, toy_bank, seed):
    scene, parts = synthesize_scene_components(seed, toy_config, "train", room_bank=toy_bank)
    noise_db = _db(parts.noise)
    assert noise_db == pytest.approx(REFERENCE_LEVEL_DB, abs=0.01)
    assert any(e["role"] == "interference" for e in scene.metadata["events"])
    room = scene.metadata["room"]["index"]
    for event, wet in zip(scene.metadata["events"], parts.wet, strict=True):
        start = int(round(event["event_time"] * 32000))
        rir_len = toy_bank.rir(room, _position_index(toy_bank, room, event)).shape[1]
        length = int(round(event["event_duration"] * 32000)) + rir_len - 1
        # The whole wet event (dry length + RIR - 1), over all channels, as the gain was set.
        assert not wet[:, start + length :].any() and not wet[:, :start].any()
        lo, hi = (5, 20) if event["role"] == "foreground" else (0, 15)
        assert lo <= event["snr"] <= hi
        measured = _db(wet[:, start : start + length]) - noise_db
        assert measured == pytest.approx(event["snr"], abs=0.1)
    np.testing.assert_allclose(scene.mixture, parts.noise + np.sum(parts.wet, axis=0), atol=1e-6)


def test_target_is_the_truncated_rir_convolution(toy_config, toy_bank):
    pool = RecordingPool()
    scene, _ = synthesize_scene_components(11, toy_config, "train", pool, room_bank=toy_bank)
    room = scene.metadata["room"]["index"]
    fg = [e for e in scene.metadata["events"] if e["role"] == "foreground"]
    assert fg
    for slot, event in enumerate(fg):
        dry = next(c for c in pool.dry if c.label == event["label"])
        rir = normalise_rir(toy_bank.rir(room, _position_index(toy_bank, room, event)))
        early = early_window(rir[0])
        assert np.count_nonzero(early) <= int(0.056 * 32000) + 2
        expected = event["gain"] * fftconvolve(dry.audio.astype(np.float64), early)
        start = int(round(event["event_time"] * 32000))
        got = scene.targets[slot, start : start + len(expected)]
        np.testing.assert_allclose(got, expected[: len(got)], atol=1e-6)
        assert np.all(scene.targets[slot, :start] == 0)
        assert scene.labels[slot] == event["label"] == dry.label


def test_labels_ordered_by_onset_unique_and_padded(toy_config, toy_bank):
    cfg = dataclasses.replace(toy_config, p_silence=0.5)
    seen_silence = False
    for seed in range(12):
        scene, _ = synthesize_scene_components(seed, cfg, "valid", room_bank=toy_bank)
        fg = [e for e in scene.metadata["events"] if e["role"] == "foreground"]
        times = [e["event_time"] for e in fg]
        assert times == sorted(times)
        real = [label for label in scene.labels if label != SILENCE]
        assert real == [e["label"] for e in fg]
        assert len(set(real)) == len(real) and set(real) <= set(CLASSES)
        assert len(scene.labels) == 3
        assert scene.labels[len(real) :] == [SILENCE] * (3 - len(real))
        assert not scene.targets[len(real) :].any()
        seen_silence |= not real
    assert seen_silence


def test_same_seed_same_scene(toy_config, toy_bank):
    a, _ = synthesize_scene_components((7, 3), toy_config, "test", room_bank=toy_bank)
    b, _ = synthesize_scene_components((7, 3), toy_config, "test", room_bank=toy_bank)
    c, _ = synthesize_scene_components((7, 4), toy_config, "test", room_bank=toy_bank)
    np.testing.assert_array_equal(a.mixture, b.mixture)
    np.testing.assert_array_equal(a.targets, b.targets)
    assert a.metadata == b.metadata
    assert not np.array_equal(a.mixture, c.mixture)


def test_shapes_and_dtypes(toy_config, toy_bank):
    scene, _ = synthesize_scene_components(1, toy_config, "train", room_bank=toy_bank)
    n = toy_config.n_samples
    assert scene.mixture.shape == (4, n) and scene.mixture.dtype == np.float32
    assert scene.targets.shape == (3, n)
    assert scene.interference.shape == (2, n)
    assert scene.noise.shape == (1, n)
    # Interference rows are the channel 0 of the wet interference events.
    assert np.any(scene.interference[0])


@pytest.mark.parametrize("layout", ["mono", "stereo"])
def test_degraded_layouts(toy_config, toy_bank, layout):
    cfg = dataclasses.replace(
        toy_config, p_mono=float(layout == "mono"), p_stereo=float(layout == "stereo")
    )
    scene, parts = synthesize_scene_components(2, cfg, "train", room_bank=toy_bank)
    full = parts.noise + np.sum(parts.wet, axis=0)
    assert scene.metadata["layout"] == layout
    np.testing.assert_allclose(scene.mixture[0], full[0], atol=1e-6)
    np.testing.assert_allclose(scene.mixture[1], full[1] if layout == "stereo" else 0, atol=1e-6)
    assert not scene.mixture[2:].any()


def test_no_noise_and_no_interference_options(toy_config, toy_bank):
    cfg = dataclasses.replace(toy_config, p_noise=0.0, p_interference=0.0)
    scene, parts = synthesize_scene_components(4, cfg, "train", room_bank=toy_bank)
    assert not scene.noise.any() and not scene.interference.any()
    assert all(e["role"] == "foreground" for e in scene.metadata["events"])


def test_background_noise_is_diffuse_foa(rng):
    x, kind = background_noise(rng, 64_000)
    assert x.shape == (4, 64_000)
    assert np.mean(x.astype(np.float64) ** 2) == pytest.approx(1.0, rel=1e-3)
    assert np.mean(x[1:] ** 2) < np.mean(x[0] ** 2)


def test_synthesize_scene_uses_the_cached_bank(toy_config):
    scene = synthesize_scene(0, toy_config, "train")
    assert scene.mixture.shape == (4, toy_config.n_samples)
    assert isinstance(scene.labels[0], str)


def test_real_clips_from_a_pool_are_used(toy_config, toy_bank):
    class Real(SourcePool):
        def foreground(self, rng, label, split, max_len):
            return Clip(np.hanning(8000).astype(np.float32), label, "test:hann.wav")

    scene, _ = synthesize_scene_components(0, toy_config, "train", Real(), room_bank=toy_bank)
    assert all(
        e["source"] == "test:hann.wav"
        for e in scene.metadata["events"]
        if e["role"] == "foreground"
    )
