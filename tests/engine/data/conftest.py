"""Toy room banks and configs so scene tests run in a few seconds."""

from __future__ import annotations

import pytest

from engine.data.rooms import RoomConfig, build_room_bank
from engine.data.scenes import SceneConfig

TOY_ROOMS = RoomConfig(
    n_rooms=2, sources_per_room=5, rt60_range=(0.2, 0.4), max_order=2, max_seconds=0.4
)


@pytest.fixture(scope="session")
def toy_bank():
    """A tiny pyroomacoustics bank (2 rooms x 5 positions)."""
    return build_room_bank(TOY_ROOMS, "train", seed=0)


@pytest.fixture
def toy_config(tmp_path):
    """Short (2 s) evaluation-style scenes with every component present."""
    return SceneConfig.evaluation(n_samples=64_000, rooms=TOY_ROOMS, room_cache_dir=str(tmp_path))
