"""Timeline text: clip titles elided with "…" on narrow clips, ruler ticks at round times."""

from PyQt6.QtGui import QFont, QFontMetricsF

from desktop.timeline.items import clip_title


def test_titles_fit_their_clip(qtbot):
    font = QFont()
    font.setPointSizeF(8.0)
    font.setBold(True)
    metrics = QFontMetricsF(font)
    assert clip_title("CupboardOpenClose", 0.914, metrics, 400) == ("CupboardOpenClose", "0.91")
    narrow = metrics.horizontalAdvance("CupboardOpenClose") * 0.6
    title, conf = clip_title("CupboardOpenClose", 0.914, metrics, narrow)
    assert conf == "" and title.endswith("…") and title.startswith("Cupboard")
    assert metrics.horizontalAdvance(title) <= narrow


def test_ruler_ticks_fall_on_round_times_at_every_length():
    from desktop.timeline.items import TimeAxis, time_tick_spacing

    assert time_tick_spacing(3600, 900) == (600, 120)  # an hour: every 10 minutes
    assert time_tick_spacing(600, 900) == (60, 15)
    assert time_tick_spacing(20, 900) == (2.0, 0.5)
    assert time_tick_spacing(0.5, 900) == (0.05, 0.01)
    axis = TimeAxis("top")
    assert axis.tickStrings([0, 600, 3600], 1.0, 600) == ["0:00", "10:00", "1:00:00"]
    assert axis.tickStrings([2.5], 1.0, 0.5) == ["0:02.5"]
