import numpy as np
import pytest

from engine.constants import CLASSES
from engine.data.generators import GENERATORS, INTERFERENCE, generate_event
from engine.data.generators.params import SPLIT_BANDS, draw


def test_every_class_has_a_generator():
    assert tuple(GENERATORS) == CLASSES
    assert not set(INTERFERENCE) & set(CLASSES)


@pytest.mark.parametrize("label", list(CLASSES) + list(INTERFERENCE))
def test_generator_output_is_finite_peak_normalised_and_seeded(label):
    a = generate_event(np.random.default_rng(3), label, "train", duration=1.5)
    b = generate_event(np.random.default_rng(3), label, "train", duration=1.5)
    assert a.shape == (48_000,) and a.dtype == np.float32
    assert np.isfinite(a).all()
    assert np.max(np.abs(a)) == pytest.approx(1.0, abs=1e-6)
    assert np.mean(a**2) > 1e-5  # not (nearly) silent
    np.testing.assert_array_equal(a, b)


def test_split_bands_are_disjoint_and_cover_the_range():
    bands = [set(b) for b in SPLIT_BANDS.values()]
    assert set.union(*bands) == set(range(10))
    assert sum(len(b) for b in bands) == 10
    rng = np.random.default_rng(0)
    train = np.array([draw(rng, 0, 100, "train") for _ in range(500)])
    test = np.array([draw(rng, 0, 100, "test") for _ in range(500)])
    assert set(np.floor(test / 10).astype(int)) == {2, 7}
    assert not set(np.floor(train / 10).astype(int)) & {2, 5, 7}


def test_unknown_label_and_split_are_rejected():
    with pytest.raises(ValueError, match="no generator"):
        generate_event(np.random.default_rng(0), "Kazoo", "train", 1.0)
    with pytest.raises(ValueError, match="split"):
        generate_event(np.random.default_rng(0), "Speech", "dev", 1.0)
