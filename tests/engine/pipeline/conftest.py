"""A tiny random-weight bundle whose classifier never calls silence, so every slot is labelled."""

import numpy as np
import pytest
import torch

from engine.audio import write_audio
from engine.pipeline.bundle import load_bundle, make_random_bundle, save_bundle


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory):
    path = make_random_bundle(tmp_path_factory.mktemp("bundle"), "tiny", seed=0)
    b = load_bundle(path)
    b.sc.thresholds.fill_(1e4)  # energy is always below: no slot is called silence
    with torch.no_grad():  # FiLM starts at zero (clue has no effect); make the clue matter
        for name, p in b.tse.named_parameters():
            if "film" in name:
                p.normal_(0, 0.5)
    return save_bundle(path, b.uss, b.tse, b.sc, name="tiny-test")


@pytest.fixture(scope="session")
def recording(tmp_path_factory):
    """A 3.3 s 4-channel recording at 48 kHz (so resampling is exercised)."""
    rng = np.random.default_rng(7)
    t = np.arange(int(48_000 * 3.3)) / 48_000
    x = 0.05 * rng.normal(size=(4, t.size)) + 0.2 * np.sin(2 * np.pi * 440 * t)
    path = tmp_path_factory.mktemp("rec") / "field take.wav"
    return write_audio(path, x.astype(np.float32), 48_000)


@pytest.fixture(autouse=True)
def _deterministic():
    torch.manual_seed(0)
