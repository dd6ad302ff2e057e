"""What the workflow asks of an Audacity project, in script-pipe commands.

Reading tracks and the selection, exporting tracks to one multichannel WAV, importing a stem as a
named track at a time, and replacing a track's audio. Each function states which Audacity
behaviour it relies on (checked on Audacity 3.2.4; shared/spec/HOSTS.md).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from plugins.audacity.pipe import AudacityError, ScriptPipe

TIME_TOLERANCE_S = 1e-3


@dataclass(frozen=True)
class Track:
    """One track as `GetInfo: Type=Tracks` reports it (`index`: its position, from 0)."""

    index: int
    name: str
    kind: str
    selected: bool
    start: float = 0.0
    end: float = 0.0
    channels: int = 0
    mute: bool = False

    @property
    def is_audio(self) -> bool:
        """A wave track (label and note tracks hold no audio)."""
        return self.kind == "wave"


@dataclass(frozen=True)
class Selection:
    """The tracks and time range a command works on."""

    tracks: tuple[Track, ...]
    start: float
    end: float
    whole_project: bool = False

    @property
    def duration(self) -> float:
        """Length of the time range in seconds."""
        return self.end - self.start


def _time(t: float) -> str:
    return f"{t:.6f}"


def _quoted(path: str | os.PathLike) -> str:
    text = str(path)
    if '"' in text or "\n" in text:
        raise AudacityError(f"cannot pass a path with a quote or newline to Audacity: {text!r}")
    return f'"{text}"'


def tracks(pipe: ScriptPipe) -> list[Track]:
    """Every track of the project, in order."""
    info = pipe.query("GetInfo: Type=Tracks")
    if not isinstance(info, list):
        raise AudacityError(f"GetInfo: Type=Tracks answered {type(info).__name__}, not a list")
    return [
        Track(
            index=i,
            name=str(t.get("name", "")),
            kind=str(t.get("kind", "")),
            selected=bool(t.get("selected")),
            start=float(t.get("start", 0.0)),
            end=float(t.get("end", 0.0)),
            channels=int(t.get("channels", 0)),
            mute=bool(t.get("mute")),
        )
        for i, t in enumerate(info)
    ]


def selected_time(pipe: ScriptPipe, current: list[Track]) -> tuple[float, float]:
    """The project's time selection (start, end) in seconds.

    The script API has no command that reports it, but a label added at the selection does: a
    new label track takes one label (`NewLabelTrack:`, `AddLabel:`), `GetInfo: Type=Labels`
    reads it and the label track is removed again. The label track becomes the only selected
    track on the way, so the caller restores the track selection (`restore_selection`).
    """
    label_track = len(current)
    pipe.command("NewLabelTrack:")
    try:
        pipe.command("AddLabel:")
        labels = pipe.query("GetInfo: Type=Labels")
    finally:
        pipe.command(f"SelectTracks: Track={label_track} TrackCount=1 Mode=Set")
        pipe.command("RemoveTracks:")
    for index, items in labels:
        if index == label_track and items:
            start, end = items[-1][0], items[-1][1]
            return float(start), float(end)
    raise AudacityError("could not read Audacity's time selection (no label was added)")


def restore_selection(pipe: ScriptPipe, indices: list[int], start: float, end: float) -> None:
    """Select `indices` (none: no track) and the time range `start`-`end`."""
    if not indices:
        pipe.command("SelectNone:")
    for k, index in enumerate(indices):
        mode = "Set" if k == 0 else "Add"
        pipe.command(f"SelectTracks: Track={index} TrackCount=1 Mode={mode}")
    pipe.command(f"SelectTime: Start={_time(start)} End={_time(end)}")


def export_tracks(
    pipe: ScriptPipe, selection: Selection, folder: str | os.PathLike, out: str | os.PathLike
) -> tuple[Path, int]:
    """Write the selection as one WAV with one channel per track channel; (path, sample rate).

    `Export2` mixes all selected tracks into every output channel, so each track is exported
    alone (`NumChannels` = its own channel count) and the channels are put together here.
    Exports apply the track's gain, and a muted track exports no audio at all.
    """
    folder = Path(folder)
    parts, rate = [], None
    for track in selection.tracks:
        part = folder / f"track{track.index}.wav"
        pipe.command(
            f"Select: Start={_time(selection.start)} End={_time(selection.end)} "
            f"Track={track.index} TrackCount=1 Mode=Set"
        )
        pipe.command(f"Export2: Filename={_quoted(part)} NumChannels={max(1, track.channels)}")
        try:
            audio, sr = sf.read(str(part), dtype="float32", always_2d=True)
        except (OSError, RuntimeError) as exc:
            raise AudacityError(
                f"Audacity's export of track {track.name!r} is unreadable: {exc}"
            ) from None
        if audio.shape[0] == 0:
            raise AudacityError(
                f"Audacity exported no audio from track {track.name!r} "
                f"(muted, or nothing in {selection.start:.3f}-{selection.end:.3f} s)"
            )
        if rate is not None and sr != rate:
            raise AudacityError(f"Audacity exported {sr} Hz and {rate} Hz in one project")
        rate = sr
        parts.append(audio)
    frames = min(p.shape[0] for p in parts)
    audio = np.concatenate([p[:frames] for p in parts], axis=1)
    out = Path(out)
    sf.write(str(out), audio, rate, subtype="FLOAT")
    return out, rate


def import_track(pipe: ScriptPipe, path: str | os.PathLike, name: str, start: float) -> Track:
    """Import an audio file as a new last track named `name`, its clip starting at `start` s.

    `Import2` appends the track; `SetClip`/`SetTrack` act on the selected tracks (a `Track=`
    argument is ignored), so the new track is selected alone first.
    """
    before = len(tracks(pipe))
    pipe.command(f"Import2: Filename={_quoted(path)}")
    after = tracks(pipe)
    if len(after) != before + 1:
        raise AudacityError(
            f"importing {Path(path).name} added {len(after) - before} tracks, expected 1"
        )
    new = after[-1]
    pipe.command(f"SelectTracks: Track={new.index} TrackCount=1 Mode=Set")
    if abs(new.start - start) > TIME_TOLERANCE_S:
        middle = (new.start + new.end) / 2
        pipe.command(f"SetClip: At={_time(middle)} Start={_time(start)}")
    pipe.command(f'SetTrack: Name="{name}"')
    placed = tracks(pipe)[new.index]
    if abs(placed.start - start) > TIME_TOLERANCE_S or placed.name != name:
        raise AudacityError(
            f"Audacity placed {Path(path).name} as {placed.name!r} at {placed.start:.3f} s, "
            f"not as {name!r} at {start:.3f} s"
        )
    return placed


def replace_audio(pipe: ScriptPipe, target: Track, path: str | os.PathLike) -> Track:
    """Put the audio of `path` into `target` from its start, keeping its name, gain, pan, mute
    and position in the track list.

    The file is imported as a temporary track and copied (Audacity's clipboard); the target's
    audio is deleted and the copy pasted at its start, so the clip takes the file's name (pasted
    over a selection, the old clip would keep its name); the temporary track is removed again.
    """
    temp = import_track(pipe, path, "scenesplit-replacement", target.start)
    try:
        pipe.command(
            f"Select: Start={_time(temp.start)} End={_time(temp.end)} "
            f"Track={temp.index} TrackCount=1 Mode=Set"
        )
        pipe.command("Copy:")
        pipe.command(
            f"Select: Start={_time(target.start)} End={_time(target.end)} "
            f"Track={target.index} TrackCount=1 Mode=Set"
        )
        pipe.command("Delete:")
        pipe.command(
            f"Select: Start={_time(target.start)} End={_time(target.start)} "
            f"Track={target.index} TrackCount=1 Mode=Set"
        )
        pipe.command("Paste:")
    finally:
        pipe.command(f"SelectTracks: Track={temp.index} TrackCount=1 Mode=Set")
        pipe.command("RemoveTracks:")
    return tracks(pipe)[target.index]
