"""Stems are drawn on the mixture's scale, so a quiet stem looks quiet, and each lane says its
peak level in dBFS (issue 16 item 4)."""

from __future__ import annotations

import numpy as np

from tests.desktop.conftest import screenshot, settle, wait_job


def drawn_extent(lane) -> float:
    """Largest drawn excursion of a lane's envelope above its centre line (view units)."""
    _x, hi = lane.wave.upper.getData()
    return float(np.max(hi) - lane.wave.centre)


def test_stems_share_the_mixtures_scale_and_show_their_peak(qtbot, window, recording, fake_engine):
    quiet = 0.4 * 10 ** (-40 / 20)  # 40 dB under the other stems
    fake_engine.client.stem_peaks = {"Speech": quiet}
    assert window.open_path(str(recording))
    window.act_separate.trigger()
    wait_job(qtbot, window)
    lanes = {lane.track["label"]: lane for lane in window.timeline.lanes}
    qtbot.waitUntil(lambda: all(lane.header.peak_db is not None for lane in lanes.values()))
    settle(qtbot, window, 100)
    window.timeline.refresh_waveforms()
    loud, soft = drawn_extent(lanes["Dishes"]), drawn_extent(lanes["Speech"])
    # A -40 dB stem drawn 40 dB smaller (up to the flat line's minimum thickness), not
    # stretched to its own peak as before.
    assert soft < loud / 20
    assert "peak -8 dBFS" in lanes["Dishes"].header.detail.text()
    assert "peak -48 dBFS" in lanes["Speech"].header.detail.text()
    screenshot(window, "levels_common_scale")
