"""The real main window driven like a user would, against the in-process fake engine.

Covers every workflow of the editor: open, separate (progress, cancel), lanes, correction by
combobox / context menu / Delete, undo and redo, mute/solo, drag-out mime data, export, save and
reopen, engine death and restart, keyboard zoom. Screenshots go to artifacts/screenshots/.
"""

import os
import re

import numpy as np
import pytest
import soundfile as sf
from PyQt6.QtCore import QPoint, QPointF, Qt
from PyQt6.QtGui import QWheelEvent

from desktop.project import Project
from engine.audio.bwf import read_bext
from tests.desktop.conftest import make_window, screenshot, settle, wait_job


def labels(window):
    return [lane.track["label"] for lane in window.timeline.lanes]


def separated(qtbot, window, recording):
    assert window.open_path(str(recording))
    window.act_separate.trigger()
    wait_job(qtbot, window)
    assert labels(window) == ["Dishes", "Doorbell", "Speech"]


def test_open_draws_mixture_and_describes_the_file(qtbot, window, recording):
    screenshot(window, "empty")
    assert window.stack.currentIndex() == 0
    with qtbot.waitSignal(window.timeline.waveformDrawn, timeout=10_000):
        assert window.open_path(str(recording))
    settle(qtbot, window)
    assert window.stack.currentIndex() == 1
    assert len(window.timeline.mixture_waves) == 4
    assert all(w.points > 100 for w in window.timeline.mixture_waves)
    assert window.timeline.mixture_header.detail.text() == "4 ch · FOA (W Y Z X)\n32 kHz · 0:10.0"
    assert "fake-bundle" in window.engine_label.text() and "idle" in window.engine_label.text()
    assert not window.act_export.isEnabled()
    window.timeline.mixture_header.channels.setCurrentIndex(1)  # W only
    assert len(window.timeline.mixture_waves) == 1
    window.timeline.mixture_header.channels.setCurrentIndex(0)
    screenshot(window, "opened")


def test_bad_file_is_refused_with_a_clear_message(qtbot, window, tmp_path):
    bad = tmp_path / "notes.wav"
    bad.write_text("not audio")
    assert not window.open_path(str(bad))
    assert "not an audio file" in window.last_error
    assert window.model.project is None


def test_separate_shows_progress_then_lanes_with_clips(
    qtbot, tmp_path, gated_engine, gate, recording
):
    window = make_window(qtbot, gated_engine, tmp_path, recording)
    window.act_separate.trigger()
    qtbot.waitUntil(lambda: window.progress.value() == 500, timeout=10_000)
    assert window.progress.isVisible() and window.cancel_button.isVisible()
    # The engine said 9 s then 6 s: the smoothed ETA lies between them.
    assert re.search(r"ETA 0:0[6-9]", window.progress_text.text())
    assert not window.act_separate.isEnabled()
    qtbot.keyClick(window, Qt.Key.Key_Plus)  # the UI stays responsive while separating
    assert window.model.view[1] < 10.0
    window.model.fit()
    screenshot(window, "separating")
    gate.set()
    wait_job(qtbot, window)
    assert not window.progress.isVisible()
    assert labels(window) == ["Dishes", "Doorbell", "Speech"]
    speech = window.timeline.lanes[2]
    assert [c.clip_id for c in speech.clips] == ["c0"]
    assert speech.header.name.text() == "Speech"
    assert "conf 0.91" in speech.header.detail.text()
    qtbot.waitUntil(lambda: speech.wave.points > 0, timeout=10_000)
    assert window.act_export.isEnabled()
    window.model.select_clip("c1")
    screenshot(window, "separated")
    window.close()


def test_cancel_separation_keeps_the_project_unseparated(
    qtbot, tmp_path, gated_engine, gate, recording
):
    window = make_window(qtbot, gated_engine, tmp_path, recording)
    window.act_separate.trigger()
    qtbot.waitUntil(lambda: window.progress.value() == 500, timeout=10_000)
    with qtbot.waitSignal(window.session.jobFinished, timeout=10_000) as sig:
        window.cancel_button.click()
    assert sig.args == ["separate", "cancelled"]
    settle(qtbot, window)
    assert window.model.project.version is None and labels(window) == []
    assert ("cancel", "separate1") in gated_engine.client.calls
    window.close()


def test_change_lane_class_reextracts_and_undo_redo_switch_versions(
    qtbot, tmp_path, gated_engine, gate, recording
):
    window = make_window(qtbot, gated_engine, tmp_path, recording)
    gate.set()
    separated(qtbot, window, recording)
    gate.clear()
    header = window.timeline.lanes[1].header  # Doorbell
    header.combo.activated.emit(header.combo.findText("Buzzer"))
    qtbot.waitUntil(lambda: window.progress.value() == 500, timeout=10_000)
    assert window.progress_text.text().startswith("Re-extracting")
    screenshot(window, "re-extracting")
    gate.set()
    wait_job(qtbot, window)
    assert labels(window) == ["Buzzer", "Dishes", "Speech"]
    refine = [c for c in gated_engine.client.calls if c[0] == "refine"][0]
    assert (
        refine[2] == {"kind": "change_track", "track": "Doorbell", "label": "Buzzer"}
        and refine[3] == 1
    )
    assert window.model.project.version == 2
    assert window.act_undo.text() == "Undo Change Doorbell to Buzzer"
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.model.project.version == 1 and labels(window) == ["Dishes", "Doorbell", "Speech"]
    qtbot.keyClick(
        window,
        Qt.Key.Key_Z,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert window.model.project.version == 2 and labels(window)[0] == "Buzzer"
    window.close()


def test_clip_menu_delete_and_add_class(qtbot, window, recording, fake_engine):
    separated(qtbot, window, recording)
    menu = window.timeline.clip_menu("c0")
    change = next(a for a in menu.actions() if a.text() == "Change class to").menu()
    next(a for a in change.actions() if a.text() == "Cough").trigger()
    wait_job(qtbot, window)
    assert labels(window) == ["Cough", "Dishes", "Doorbell"]
    assert window.model.project.version == 2

    window.model.select_clip("c2")
    assert window.act_delete.isEnabled()
    qtbot.keyClick(window, Qt.Key.Key_Delete)
    wait_job(qtbot, window)
    assert labels(window) == ["Cough", "Doorbell"] and window.model.selected_clip is None
    assert fake_engine.client.calls[-1][2] == {"kind": "remove_clip", "clip_id": "c2"}

    window.model.set_selection(8.5, 9.5)
    menu = window.timeline.range_menu()
    add = menu.actions()[0].menu()
    next(a for a in add.actions() if a.text() == "Typing").trigger()
    wait_job(qtbot, window)
    assert "Typing" in labels(window)
    op = fake_engine.client.calls[-1][2]
    assert op["kind"] == "add_class" and op["start_s"] == 8.5 and op["enrollment_region"] is None
    like = menu.actions()[1].menu()
    next(a for a in like.actions() if a.text() == "Pour").trigger()
    wait_job(qtbot, window)
    assert fake_engine.client.calls[-1][2]["enrollment_region"] == [8.5, 9.5]
    assert window.model.project.version == 5
    for expected in (4, 3, 2, 1):
        window.act_undo.trigger()
        assert window.model.project.version == expected
    assert labels(window) == ["Dishes", "Doorbell", "Speech"]


def test_mute_and_solo_stay_out_of_undo_and_colour_is_undoable(qtbot, window, recording):
    separated(qtbot, window, recording)
    window.session.save(window.session.cache_dir / "p.scenesplit")
    assert not window.isWindowModified()
    speech = window.timeline.lanes[2]
    speech.header.mute.click()
    assert window.model.lane_state("Speech").mute
    assert all(item.muted for item in speech.clips)
    window.timeline.lanes[0].header.solo.click()
    assert window.model.audible_labels() == ["Dishes"] and window.act_stems.isChecked()
    assert window.isWindowModified()  # kept in the project, so an unsaved change
    window.session.set_lane_state("Doorbell", colour="#ff00ff")
    assert window.timeline.lanes[1].clips[0].colour.name() == "#ff00ff"
    window.act_undo.trigger()
    assert window.model.lane_state("Doorbell").colour == ""
    assert not window.act_undo.isEnabled()  # mute and solo were never on the stack
    assert speech.header.mute.isChecked() and window.model.audible_labels() == ["Dishes"]


def test_drag_out_mime_carries_existing_wavs_with_time_reference(qtbot, window, recording):
    separated(qtbot, window, recording)
    lane = window.lane_mime("Speech")
    [url] = lane.urls()
    path = url.toLocalFile()
    assert path.endswith("scene_Speech.wav")
    info = sf.info(path)
    assert info.frames == 320_000 and info.samplerate == 32_000
    clip = window.clip_mime("c1")  # Doorbell 5.0-6.5 s
    clip_path = clip.urls()[0].toLocalFile()
    assert sf.info(clip_path).frames == 48_000
    assert read_bext(clip_path)["time_reference"] == 160_000
    data, _ = sf.read(clip_path, dtype="float32")
    assert np.abs(data).max() > 0.3  # the burst itself, not silence


def test_export_all_stems(qtbot, window, recording, tmp_path):
    separated(qtbot, window, recording)
    window.session.export_all(tmp_path / "out")
    wait_job(qtbot, window)
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["scene_Dishes.wav", "scene_Doorbell.wav", "scene_Speech.wav"]
    assert read_bext(tmp_path / "out" / "scene_Speech.wav")["time_reference"] == 0


def test_save_and_reopen_keeps_lanes_state_and_stems(
    qtbot, window, recording, tmp_path, fake_engine
):
    separated(qtbot, window, recording)
    combo = window.timeline.lanes[0].header.combo
    combo.activated.emit(combo.findText("AlarmClock"))
    wait_job(qtbot, window)
    window.session.set_lane_state("Speech", mute=True)
    assert window.isWindowModified()
    saved = window.session.save(tmp_path / "proj" / "edit")
    assert not window.isWindowModified()
    project = Project.load(saved)
    assert project.version == 2 and project.lanes["Speech"].mute

    other = make_window(qtbot, fake_engine, tmp_path / "second")
    assert other.open_path(str(saved))
    settle(qtbot, other)
    assert labels(other) == ["AlarmClock", "Doorbell", "Speech"]
    assert other.windowTitle() == f"Scenesplit — {saved.name} ({recording.name})[*]"
    assert other.timeline.lanes[2].header.mute.isChecked()
    stem = other.model.project.current.stem_path("Speech")
    assert stem.is_file() and "edit.stems" in str(stem)
    other.close()


def test_an_engine_shared_with_another_editor_says_so(qtbot, fake_engine, tmp_path):
    fake_engine.shared = True  # a second editor attached to the first one's local engine
    window = make_window(qtbot, fake_engine, tmp_path)
    qtbot.waitUntil(lambda: "idle" in window.engine_label.text(), timeout=10_000)
    assert window.engine_label.text().startswith("engine local, shared: ")
    window.close()


def test_engine_death_is_noticed_and_restart_keeps_the_project(
    qtbot, window, recording, fake_engine
):
    separated(qtbot, window, recording)
    fake_engine.kill()
    with qtbot.waitSignal(window.session.link.died, timeout=10_000):
        window.session.link.check_health()
    assert not window.banner.isHidden()
    assert "process exited" in window.banner_text.text()
    window.act_separate.trigger()
    assert "process exited" in window.last_error
    screenshot(window, "engine-stopped")
    with qtbot.waitSignal(window.session.link.connected, timeout=10_000):
        window.restart_button.click()
    assert window.banner.isHidden() and fake_engine.starts == 2
    assert labels(window) == ["Dishes", "Doorbell", "Speech"]
    window.timeline.lanes[1].header.combo.activated.emit(5)  # a class other than Doorbell
    wait_job(qtbot, window)
    assert window.model.project.version == 2


def test_spectrogram_zoom_wheel_and_no_audio(qtbot, window, recording, monkeypatch):
    separated(qtbot, window, recording)
    window.act_spec.trigger()
    qtbot.waitUntil(lambda: window.timeline.spec_item.image is not None, timeout=10_000)
    assert window.timeline.spec_item.image.shape[0] > 100
    assert not window.timeline.mixture_waves[0].fill.isVisible()
    assert [item.isVisible() for _hz, item in window.timeline.freq_labels] == [True, True, True]
    screenshot(window, "spectrogram")
    window.act_spec.trigger()
    window.model.fit()
    qtbot.keyClick(window, Qt.Key.Key_Minus)
    assert window.model.view == (0.0, 10.0)
    viewport = window.timeline.mixture.plot.viewport()
    x = viewport.width() // 4
    ev = QWheelEvent(
        QPointF(x, 10),
        QPointF(x, 10),
        QPoint(0, 0),
        QPoint(0, 240),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.ControlModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    window.timeline.eventFilter(viewport, ev)
    t0, t1 = window.model.view
    assert t1 - t0 < 7.0 and t0 < 2.5 < t1  # zoomed around the mouse, not the centre
    window.player.available, window.player.reason = False, "no audio output"
    window.player.stateChanged.emit(False)  # what the player says when its output goes away
    # Without an audio output, Play is off and says why; Space does nothing.
    assert not window.act_play.isEnabled() and "no audio output" in window.act_play.toolTip()
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert not window.player.playing


def test_unusual_channel_counts_ask_which_channels_to_use(qtbot, window, tmp_path, fake_engine):
    six = tmp_path / "six.wav"
    sf.write(str(six), np.zeros((32_000, 6), np.float32), 32_000, subtype="FLOAT")
    assert window.open_path(str(six))
    settle(qtbot, window)
    assert "pick channels" in window.timeline.mixture_header.detail.text()
    window.ask_channels = lambda n: None  # the user cancels: nothing is submitted
    window.act_separate.trigger()
    assert not window.session.busy and not fake_engine.client.calls
    window.ask_channels = lambda n: "2-5"
    window.act_separate.trigger()
    wait_job(qtbot, window)
    assert fake_engine.client.calls[0] == ("submit", str(six), {"channels": "2-5"})


def test_unsaved_changes_are_confirmed_before_they_are_dropped(
    qtbot, window, recording, monkeypatch
):
    from PyQt6.QtWidgets import QMessageBox

    from desktop.window import MainWindow

    separated(qtbot, window, recording)
    assert window.isWindowModified()  # a new result is an unsaved change
    window.confirm_discard = MainWindow.confirm_discard.__get__(window)
    answers = []
    monkeypatch.setattr(
        QMessageBox,
        "question",
        lambda *a, **k: answers.append(1) or QMessageBox.StandardButton.Cancel,
    )
    assert not window.open_path(str(recording))
    assert answers and window.model.project.version == 1
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    assert window.open_path(str(recording))
    assert window.model.project.version is None and not window.isWindowModified()


def test_playhead_and_selection_do_not_recompute_curves(qtbot, window, recording, monkeypatch):
    separated(qtbot, window, recording)
    calls = []
    monkeypatch.setattr(window.timeline, "refresh_waveforms", lambda: calls.append(1))
    for i in range(100):
        window.model.set_playhead(i * 0.05)
    window.model.set_selection(1.0, 2.5)
    qtbot.wait(100)
    assert calls == []
    assert all(s.playhead.value() == pytest.approx(4.95) for s in window.timeline._strips())
    assert window.timeline.range_label.text() == "sel 0:01.000–0:02.500 (1.50 s)"
    assert window.time_label.text() == "0:05.0"


def test_space_plays_the_audible_stems_and_moves_the_playhead(qtbot, window, recording):
    if not window.player.available:
        pytest.skip(f"needs an audio output: {window.player.reason}")
    separated(qtbot, window, recording)
    window.timeline.lanes[2].header.solo.click()  # Speech solo -> play stems
    assert window.act_stems.isChecked()
    window.model.set_playhead(1.0)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert window.player.playing and window.act_play.text() == "Stop"
    assert window.player._source.files[0].name.endswith("scene_Speech.wav")
    qtbot.waitUntil(lambda: window.model.playhead > 1.2, timeout=10_000)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert not window.player.playing and window.act_play.text() == "Play"


def test_every_strip_spans_the_same_pixels(qtbot, window, recording):
    separated(qtbot, window, recording)
    window.resize(1100, 400)  # fewer pixels than lanes need: the lanes scroll
    qtbot.wait(50)
    geometry = {
        (s.plot.mapTo(window, s.plot.rect().topLeft()).x(), s.plot.width())
        for s in window.timeline._strips()
    }
    assert len(geometry) == 1, geometry


def test_export_with_daw_session_places_clips(qtbot, window, recording, tmp_path):
    pytest.importorskip(
        "plugins.sessions", reason="DAW session writers (plugins.sessions) not on this branch"
    )
    separated(qtbot, window, recording)
    window.session.export_all(tmp_path / "daw", daw_session=True)
    wait_job(qtbot, window)
    assert window.last_error is None
    rpp = (tmp_path / "daw" / "scene.rpp").read_text()
    assert "scene_Doorbell.wav" in rpp and str(recording) in rpp
    lof = (tmp_path / "daw" / "scene.lof").read_text()
    assert str((tmp_path / "daw" / "scene_Speech.wav").resolve()) in lof


def test_dragging_a_placed_stem_links_it_instead_of_copying(qtbot, window, recording):
    from desktop.export import render_wav

    separated(qtbot, window, recording)
    stem = window.model.project.current.stem_path("Dishes")
    render_wav(stem, stem, time_reference=0, description="Dishes")  # as the engine writes them
    path = window.lane_mime("Dishes").urls()[0].toLocalFile()
    assert os.stat(path).st_ino == os.stat(stem).st_ino
    copied = window.lane_mime("Speech").urls()[0].toLocalFile()  # no bext: rendered
    assert (
        os.stat(copied).st_ino != os.stat(window.model.project.current.stem_path("Speech")).st_ino
    )


def test_lane_header_menu_changes_class_and_mutes(qtbot, window, recording, fake_engine):
    separated(qtbot, window, recording)
    menu = window.timeline.lane_menu("Speech")
    mute = next(a for a in menu.actions() if a.text() == "Mute")
    mute.trigger()
    assert window.model.lane_state("Speech").mute
    change = menu.actions()[0].menu()
    next(a for a in change.actions() if a.text() == "Typing").trigger()
    wait_job(qtbot, window)
    assert fake_engine.client.calls[-1][2] == {
        "kind": "change_track",
        "track": "Speech",
        "label": "Typing",
    }
    assert labels(window) == ["Dishes", "Doorbell", "Typing"]
    # The relabelled lane is still muted (and its header says so).
    assert window.model.lane_state("Typing").mute
    typing = next(lane for lane in window.timeline.lanes if lane.track["label"] == "Typing")
    assert typing.header.mute.isChecked()
    window.act_undo.trigger()
    assert window.model.lane_state("Speech").mute


def test_lane_menu_removes_a_lane_and_undo_brings_it_back(qtbot, window, recording, fake_engine):
    separated(qtbot, window, recording)
    menu = window.timeline.lane_menu("Doorbell")
    next(a for a in menu.actions() if a.text() == "Remove lane").trigger()
    wait_job(qtbot, window)
    assert fake_engine.client.calls[-1][2] == {"kind": "remove_track", "track": "Doorbell"}
    assert labels(window) == ["Dishes", "Speech"]
    assert window.act_undo.text() == "Undo Remove Doorbell"
    window.act_undo.trigger()
    assert labels(window) == ["Dishes", "Doorbell", "Speech"]


def test_a_full_window_is_named_before_a_class_is_added(qtbot, window, recording, fake_engine):
    fake_engine.client.windows = [(0.0, 5.0), (5.0, 10.0)]
    fake_engine.client.first_clips = [
        ("Speech", 0.5, 2.0, 0.9),
        ("Doorbell", 1.0, 3.0, 0.8),
        ("Dishes", 2.0, 4.0, 0.7),
        ("Cough", 6.0, 7.0, 0.6),
    ]
    assert window.open_path(str(recording))
    window.act_separate.trigger()
    wait_job(qtbot, window)
    assert labels(window) == ["Cough", "Dishes", "Doorbell", "Speech"]
    window.model.set_selection(1.0, 3.0)
    menu = window.timeline.range_menu()
    hint = menu.actions()[0]
    assert not hint.isEnabled()
    assert hint.text().startswith("0.0-5.0 s already holds 3 classes (Dishes, Doorbell, Speech)")
    add = next(a.menu() for a in menu.actions() if a.text().startswith("Add class over"))
    enabled = {a.text() for a in add.actions() if a.isEnabled()}
    assert enabled == {"Dishes", "Doorbell", "Speech"}  # the window holds them already
    window.model.set_selection(6.0, 8.0)  # the second window has room
    menu = window.timeline.range_menu()
    assert not menu.actions()[0].text().endswith("add another")
    add = next(a.menu() for a in menu.actions() if a.text().startswith("Add class over"))
    assert all(a.isEnabled() for a in add.actions())


def test_a_correction_says_how_much_it_re_ran(qtbot, window, recording, fake_engine):
    fake_engine.client.windows = [(0.0, 5.0), (5.0, 10.0)]
    separated(qtbot, window, recording)
    messages = []
    window.status.bar.messageChanged.connect(messages.append)
    window.session.remove_clip("c0")  # Speech 1-3 s: the first window only
    wait_job(qtbot, window)
    assert any(m.endswith("(1 of 2 windows re-run)") for m in messages), messages


def test_extract_more_like_a_file(qtbot, window, recording, fake_engine, tmp_path):
    separated(qtbot, window, recording)
    example = tmp_path / "cough.wav"
    sf.write(str(example), np.zeros(3200, np.float32), 32_000)
    window.ask_enrollment_file = lambda label: None  # cancelled: nothing sent
    menu = window.timeline.range_menu()  # no selection: the whole recording
    [from_file] = [a.menu() for a in menu.actions() if a.menu()]
    assert "whole recording" in menu.actions()[0].text()
    next(a for a in from_file.actions() if a.text() == "Cough").trigger()
    assert not window.session.busy
    window.ask_enrollment_file = lambda label: str(example)
    next(a for a in from_file.actions() if a.text() == "Cough").trigger()
    wait_job(qtbot, window)
    op = fake_engine.client.calls[-1][2]
    assert op["enrollment_file"] == str(example.resolve()) and op["enrollment_region"] is None
    assert (op["start_s"], op["end_s"]) == (0.0, 10.0) and "Cough" in labels(window)
    window.ask_enrollment_file = lambda label: str(tmp_path / "gone.wav")
    next(a for a in from_file.actions() if a.text() == "Cough").trigger()
    assert "no such enrollment file" in window.last_error


def test_space_plays_the_selection_to_its_end_and_shift_space_loops_it(
    qtbot, window, recording, monkeypatch
):
    assert window.open_path(str(recording))
    settle(qtbot, window)
    calls = []
    monkeypatch.setattr(window.player, "available", True)
    monkeypatch.setattr(window.player, "play", lambda *args: calls.append(args) or True)
    window._update_actions()
    window.model.set_playhead(3.0)
    qtbot.keyClick(window, Qt.Key.Key_Space)  # no selection: from the playhead to the end
    window.model.set_selection(2.0, 4.5)
    qtbot.keyClick(window, Qt.Key.Key_Space)  # the selection, stopping at its end
    qtbot.keyClick(window, Qt.Key.Key_Space, Qt.KeyboardModifier.ShiftModifier)  # looped
    assert [c[1:] for c in calls] == [(3.0, None, False), (2.0, 4.5, False), (2.0, 4.5, True)]
    assert all(c[0] == [str(recording)] for c in calls)


def test_opening_a_project_whose_recording_moved_asks_where_it_is(
    qtbot, window, recording, tmp_path
):
    bare = Project(recording=str(tmp_path / "gone.wav")).save(tmp_path / "bare")
    asked = []
    window.ask_recording = lambda missing: asked.append(missing.recording) or str(recording)
    assert window.open_path(str(bare))
    assert asked == [str(tmp_path / "gone.wav")]
    assert window.model.project.recording == str(recording)
    window.ask_recording = lambda missing: None  # the user gives up: nothing opens, no error
    assert not window.open_path(str(bare)) and window.last_error is None


def test_open_recent_lists_opened_files_newest_first_and_reopens_one(
    qtbot, window, recording, tmp_path
):
    from tests.desktop.conftest import write_foa
    from tests.desktop.test_clip_mouse import choose_from_popup

    other = write_foa(tmp_path / "other.wav", seconds=2.0)
    assert window.open_path(str(recording)) and window.open_path(str(other))
    assert window.recent.paths() == [str(other), str(recording)]
    assert window.recent.folder() == str(tmp_path)  # where the Open dialog starts next time
    seen = []
    choose_from_popup(qtbot, "scene.wav", seen)
    window.recent_menu.popup(window.mapToGlobal(window.rect().center()))
    qtbot.waitUntil(lambda: window.model.project.recording == str(recording), timeout=5000)
    assert seen == ["other.wav", "scene.wav"]
    assert window.recent.paths() == [str(recording), str(other)]
