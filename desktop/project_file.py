"""What a saved project must look like: each field's type checked before it is used.

A project file can be damaged, edited by hand or crafted; every problem is reported as one
`ScenesplitError` naming the field (the caller adds the file), never as a crash later on.
"""

from __future__ import annotations

from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from engine.errors import ScenesplitError

_LANE_FIELDS = {"mute": bool, "solo": bool, "colour": str}


def plain_file_name(name: Any) -> bool:
    """Whether `name` is a file name and nothing more (no folders, no `..`, no drive)."""
    return (
        isinstance(name, str)
        and name not in ("", ".", "..")
        and "\x00" not in name
        and PurePosixPath(name).name == name
        and PureWindowsPath(name).name == name
    )


def _fail(field: str, expected: str, value: Any) -> ScenesplitError:
    shown = type(value).__name__ if not isinstance(value, str | int | float) else repr(value)
    return ScenesplitError(f"damaged project: '{field}' must be {expected}, got {shown[:60]}")


def _need(
    d: dict, key: str, kind: type, expected: str, field: str, optional=False, nullable=False
) -> None:
    """`d[key]` is a `kind` (`optional`: may be absent; `nullable`: may be null)."""
    if key not in d:
        if optional:
            return
        raise ScenesplitError(f"damaged project: '{field}' is missing")
    value = d[key]
    if nullable and value is None:
        return
    # bool is an int to Python, not to a project file.
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise _fail(field, expected, value)


def check_project_data(d: Any, newest_format: int) -> None:
    """Raise ScenesplitError unless `d` has the shape of a saved project."""
    if not isinstance(d, dict) or "recording" not in d:
        raise ScenesplitError("not a Scenesplit project (no 'recording')")
    _need(d, "format", int, "a whole number", "format", optional=True)
    if d.get("format", newest_format) > newest_format:
        raise ScenesplitError(
            f"project format {d['format']} is newer than this editor ({newest_format})"
        )
    _need(d, "recording", str, "a file path", "recording")
    if not d["recording"]:
        raise _fail("recording", "a file path", "")
    _need(d, "recording_absolute", str, "a file path", "recording_absolute", True, True)
    _need(d, "job_id", str, "a job id", "job_id", optional=True, nullable=True)
    _need(d, "version", int, "a version number", "version", optional=True, nullable=True)
    _need(d, "versions", list, "a list", "versions", optional=True)
    for i, v in enumerate(d.get("versions", [])):
        where = f"versions[{i}]"
        if not isinstance(v, dict):
            raise _fail(where, "an object", v)
        _need(v, "number", int, "a version number", f"{where}.number")
        _need(v, "stems_dir", str, "a folder path", f"{where}.stems_dir")
        _need(v, "manifest", dict, "an object", f"{where}.manifest")
        _need(v, "operation", dict, "an object", f"{where}.operation", True, True)
        tracks = v["manifest"].get("tracks", [])
        if not isinstance(tracks, list):
            raise _fail(f"{where}.manifest.tracks", "a list", tracks)
        for j, t in enumerate(tracks):
            at = f"{where}.manifest.tracks[{j}]"
            if not isinstance(t, dict):
                raise _fail(at, "an object", t)
            _need(t, "label", str, "a class name", f"{at}.label")
            _need(t, "file", str, "a file name", f"{at}.file")
    _need(d, "lanes", dict, "an object", "lanes", optional=True)
    for label, lane in d.get("lanes", {}).items():
        if not isinstance(lane, dict):
            raise _fail(f"lanes.{label}", "an object", lane)
        for key, kind in _LANE_FIELDS.items():
            _need(lane, key, kind, kind.__name__, f"lanes.{label}.{key}", optional=True)
