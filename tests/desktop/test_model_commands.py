"""Timeline model and undoable commands: lane state, solo/mute rules, version switches, view."""

import pytest
from PyQt6.QtGui import QUndoStack

from desktop.commands import SetLaneState, SwitchVersion
from desktop.project import Project, ResultVersion
from desktop.timeline.model import TimelineModel
from engine.client import ChangeTrack, operation_from_dict


def tracks(*labels):
    return {
        "tracks": [{"label": lb, "file": f"{lb}.wav", "clips": [{"id": lb + "1"}]} for lb in labels]
    }


@pytest.fixture
def model(qtbot):
    m = TimelineModel()
    p = Project(recording="/x/rec.wav", job_id="j")
    p.add_version(ResultVersion(1, tracks("Speech", "Dishes", "Pour"), "/v1"))
    p.add_version(ResultVersion(2, tracks("Speech", "Typing"), "/v2"))
    p.version = 1
    m.set_project(p, 60.0)
    return m


def test_lane_state_commands_undo_and_redo(model, qtbot):
    stack = QUndoStack()
    with qtbot.waitSignal(model.laneStateChanged) as sig:
        stack.push(SetLaneState(model, "Speech", mute=True))
    assert sig.args == ["Speech"]
    stack.push(SetLaneState(model, "Dishes", colour="#123456"))
    assert model.lane_state("Speech").mute and model.lane_state("Dishes").colour == "#123456"
    stack.undo()
    assert model.lane_state("Dishes").colour == ""
    stack.undo()
    assert not model.lane_state("Speech").mute
    stack.redo()
    assert model.lane_state("Speech").mute


def test_audible_lanes_follow_solo_then_mute(model):
    assert model.audible_labels() == ["Speech", "Dishes", "Pour"]
    model.set_lane_state("Dishes", mute=True)
    assert model.audible_labels() == ["Speech", "Pour"]
    model.set_lane_state("Pour", solo=True)
    assert model.audible_labels() == ["Pour"]
    with pytest.raises(ValueError, match="unknown lane property"):
        model.set_lane_state("Pour", volume=3)


def test_switch_version_undo_goes_back(model, qtbot):
    stack = QUndoStack()
    model.select_clip("Dishes1")
    with qtbot.waitSignal(model.resultChanged):
        stack.push(SwitchVersion(model, 1, 2, "Change Dishes to Typing"))
    assert [t["label"] for t in model.tracks()] == ["Speech", "Typing"]
    assert model.selected_clip is None  # the clip is gone in version 2
    stack.undo()
    assert model.project.version == 1 and len(model.tracks()) == 3
    assert stack.redoText() == "Change Dishes to Typing"
    with pytest.raises(ValueError, match="unknown result version 7"):
        model.set_version(7)


def test_view_zoom_scroll_and_selection_are_clamped(model):
    assert model.view == (0.0, 60.0)
    model.zoom(4.0, anchor=30.0)
    assert model.view == pytest.approx((22.5, 37.5))
    model.scroll(10.0)
    assert model.view == pytest.approx((45.0, 60.0))
    model.zoom(1e9)
    assert model.view[1] - model.view[0] == pytest.approx(0.005)
    model.fit()
    assert model.view == (0.0, 60.0)
    model.set_selection(12.0, 3.0)
    assert model.selection == (3.0, 12.0)
    model.set_selection(5.0, 5.0)
    assert model.selection is None
    model.set_playhead(99.0)
    assert model.playhead == 60.0


def test_operation_descriptions():
    assert ChangeTrack("A", "B").describe() == "Change A to B"
    text = operation_from_dict(
        {
            "kind": "add_class",
            "label": "Cough",
            "start_s": 1,
            "end_s": 2.5,
            "enrollment_region": [1, 2],
        }
    ).describe()
    assert text == "Add Cough 1.0-2.5 s (like region)"
