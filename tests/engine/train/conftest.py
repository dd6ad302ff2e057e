"""Smoke configs for training tests: toy models, half-second scenes, shared cached rooms."""

from __future__ import annotations

import pytest

from engine.train.config import TrainConfig, apply_overrides, named_config


@pytest.fixture(scope="session")
def room_cache(tmp_path_factory):
    """One room-bank cache for the whole session (banks are keyed by their recipe)."""
    return tmp_path_factory.mktemp("rooms")


@pytest.fixture
def smoke(room_cache, monkeypatch):
    """`smoke(task, *overrides)` -> the task's smoke config, shrunk further, in tmp folders."""

    def make(task: str, *overrides: str) -> TrainConfig:
        cfg = named_config(task, "smoke")
        base = [
            "data.seconds=0.5",
            "data.valid_scenes=3",
            f"data.room_cache_dir={room_cache}",
        ]
        # Validation sets land in the session cache, one folder per recipe.
        monkeypatch.setenv("SCENESPLIT_CACHE", str(room_cache))
        return apply_overrides(cfg, [*base, *overrides])

    return make
