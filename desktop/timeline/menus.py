"""Context menus of the timeline: a clip (change class, remove) and a selected range (add a
class over it, extract more like it). They emit the timeline's request signals."""

from __future__ import annotations

from PyQt6.QtWidgets import QMenu

from engine.constants import CLASSES, N_FOREGROUND


def clip_menu(timeline, clip_id: str) -> QMenu:
    """Context menu of a clip: change class, remove, select its range."""
    menu = QMenu(timeline)
    found = timeline.model.find_clip(clip_id)
    if found is None:
        return menu
    _track, clip = found
    classes = menu.addMenu("Change class to")
    for label in CLASSES:
        action = classes.addAction(label)
        action.setCheckable(True)
        action.setChecked(label == clip["label"])
        action.triggered.connect(
            lambda _=False, lb=label: (
                timeline.changeClipClass.emit(clip_id, lb) if lb != clip["label"] else None
            )
        )
    menu.addAction("Remove clip\tDel", lambda: timeline.removeClipRequested.emit(clip_id))
    menu.addAction(
        "Select clip range", lambda: timeline.model.set_selection(clip["start_s"], clip["end_s"])
    )
    return menu


def range_menu(timeline) -> QMenu:
    """Context menu of the selected time range: add a class, extract more like it or a file."""
    menu = QMenu(timeline)
    sel = timeline.model.selection
    if timeline.model.project is None or timeline.model.project.job_id is None:
        hint = menu.addAction("Separate, then drag on the ruler to select a range")
        hint.setEnabled(False)
        return menu
    a, b = sel if sel is not None else (0.0, timeline.model.duration_s)
    model = timeline.model
    full = model.full_windows(a, b)
    if full:
        # Say it before the user picks a class the engine would refuse.
        s0, s1, held = full[0]
        more = f" (and {len(full) - 1} more windows)" if len(full) > 1 else ""
        hint = menu.addAction(
            f"{s0:.1f}-{s1:.1f} s{more} already holds {N_FOREGROUND} classes "
            f"({', '.join(sorted(held))}): remove or change one to add another"
        )
        hint.setEnabled(False)
    blocked = _blocked(full)
    everywhere = _blocked(model.full_windows(0.0, model.duration_s))
    if sel is not None:
        add = menu.addMenu(f"Add class over {a:.1f}-{b:.1f} s")
        like = menu.addMenu("Extract more like this region as")
        for label in CLASSES:
            action = add.addAction(
                label, lambda lb=label: timeline.addClassRequested.emit(lb, a, b, None)
            )
            action.setEnabled(label not in blocked)
            action = like.addAction(
                label,
                lambda lb=label: timeline.addClassRequested.emit(lb, 0.0, model.duration_s, [a, b]),
            )
            action.setEnabled(label not in everywhere)
    where = f"over {a:.1f}-{b:.1f} s" if sel is not None else "over the whole recording"
    from_file = menu.addMenu(f"Extract more like a file {where} as")
    for label in CLASSES:
        action = from_file.addAction(
            label, lambda lb=label: timeline.enrollFileRequested.emit(lb, a, b)
        )
        action.setEnabled(label not in blocked)
    if sel is not None:
        menu.addAction("Clear selection", lambda: timeline.model.set_selection(None))
    return menu


def _blocked(full: list[tuple[float, float, set[str]]]) -> set[str]:
    """Classes that cannot be added over windows that are all full (one not among them)."""
    return {c for c in CLASSES if any(c not in held for _s0, _s1, held in full)}


def lane_menu(timeline, label: str) -> QMenu:
    """Context menu of a lane header: change its class, mute/solo, colour, remove, drag hint."""
    menu = QMenu(timeline)
    classes = menu.addMenu("Change class to")
    for name in CLASSES:
        action = classes.addAction(name)
        action.setCheckable(True)
        action.setChecked(name == label)
        action.triggered.connect(
            lambda _=False, lb=name: (
                timeline.changeTrackClass.emit(label, lb) if lb != label else None
            )
        )
    state = timeline.model.lane_state(label)
    for text, key, value in (("Mute", "mute", state.mute), ("Solo", "solo", state.solo)):
        action = menu.addAction(text)
        action.setCheckable(True)
        action.setChecked(value)
        action.triggered.connect(
            lambda on, k=key: timeline.laneStateRequested.emit(label, {k: bool(on)})
        )
    menu.addAction("Colour…", lambda: timeline.colourRequested.emit(label))
    menu.addSeparator()
    menu.addAction("Remove lane", lambda: timeline.removeTrackRequested.emit(label))
    hint = menu.addAction("Drag the lane name out to take the stem")
    hint.setEnabled(False)
    return menu
