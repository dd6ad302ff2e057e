"""Shared fixtures: small audio files written on the fly (no downloads, no large data)."""

from __future__ import annotations

import os

import numpy as np
import pytest
import soundfile as sf

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture
def write_wav(tmp_path):
    """Write `[C, N]` samples to a file in tmp_path and return its path."""

    def _write(name: str, audio: np.ndarray, rate: int = 32_000, subtype: str = "FLOAT", **kw):
        path = tmp_path / name
        sf.write(str(path), np.asarray(audio).T, rate, subtype=subtype, **kw)
        return path

    return _write


@pytest.fixture
def rng():
    """A seeded generator, so every test sees the same data."""
    return np.random.default_rng(1234)
