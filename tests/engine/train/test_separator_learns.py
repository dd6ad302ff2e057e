"""The CPU-tier recipe learns: a small USS on synthesised scenes (not one overfit scene) raises
validation SI-SDRi within a few hundred steps.

Guards the causes found in issue 13: silence-rewarding losses on absent references, outputs
that start from silence, and a fixed onset order that a young separator cannot yet follow.
"""

from __future__ import annotations

import pytest

from engine.train.loop import train


@pytest.mark.slow  # ~2 CPU-minutes
@pytest.mark.xfail(
    strict=True,
    reason="not met yet (2026-11-30): after 240 steps the toy USS stays at or below 1 dB "
    "SI-SDRi, as the cpu USS needed ~250 steps of 4 scenes to reach 0 dB (issue 13)",
)
def test_small_uss_raises_validation_si_sdri_on_fresh_scenes(smoke, tmp_path):
    cfg = smoke(
        "uss",
        "model=tiny-mask",
        "data.seconds=1.0",
        "data.train_scenes=100000",  # every step sees new scenes
        "data.valid_scenes=12",
        "data.batch_size=4",
        "max_steps=240",
        "valid_every=240",
        "optim.lr=3e-3",
        "optim.warmup_steps=10",
        "task.pit=true",
        "task.class_weight=0.1",
    )
    result = train(cfg, tmp_path, echo=lambda _line: None)
    # An untrained mask model returns mixture / 6 per slot: SI-SDRi 0 dB.
    final = result.valid[-1]
    assert final["si_sdri"] > 1.0, final
