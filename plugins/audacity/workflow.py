"""`separate` and `relabel` for a running Audacity, through its script pipe and the engine client.

separate: the selected audio tracks over the selected time range (every audio track over the
whole project when no track is selected) -> one multichannel WAV -> the engine -> every stem back
into Audacity as a new track named by its class, starting where the selection starts.

relabel: stem tracks the user renamed to another class are re-extracted with that class clue
(the engine's `change_track` refinement, as the editor does it) and their audio is replaced in
place. What ties tracks to engine jobs is in `plugins.audacity.sidecar`.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from engine.client import (
    ChangeTrack,
    EngineClient,
    EngineError,
    LocalEngine,
    plain_file_name,
    result_files,
)
from engine.constants import CLASSES
from plugins.audacity import project
from plugins.audacity.pipe import AudacityError, ScriptPipe
from plugins.audacity.project import Selection, Track
from plugins.audacity.sidecar import (
    Rename,
    Separation,
    StemRecord,
    TrackRecord,
    find_renamed,
    load_all,
)

JobCallback = Callable[[dict], None]
Say = Callable[[str], None]
RECORDING_NAME = "audacity_selection.wav"


@dataclass
class EngineSpec:
    """Where the engine runs: a server at `url` (with its `token_file`), or else a local one that
    is started on demand in `workdir` (kept between runs: `relabel` needs the job)."""

    url: str | None = None
    token_file: str | None = None
    workdir: Path | None = None
    bundle: str | None = None
    device: str = "auto"
    threads: int | None = None

    def record(self) -> dict:
        """What a sidecar keeps to reach the same engine (and models) again."""
        if self.url:
            return {"kind": "remote", "url": self.url, "token_file": self.token_file}
        return {"kind": "local", "workdir": str(self.workdir), "bundle": self.bundle}


@contextlib.contextmanager
def engine_client(spec: EngineSpec, say: Say) -> Iterator[EngineClient]:
    """A client of the engine `spec` names; a local engine is stopped again afterwards."""
    if spec.url:
        if not spec.token_file:
            raise EngineError("--engine-url needs --token-file (the token file the server wrote)")
        with EngineClient.from_token_file(spec.url, spec.token_file) as client:
            client.health()  # fail now, before anything changes in Audacity
            yield client
        return
    if spec.workdir is None:
        raise EngineError("a local engine needs a work directory")
    say("starting the local engine...")
    engine = LocalEngine(spec.workdir, spec.bundle, spec.device, threads=spec.threads)
    try:
        yield engine.start()
    finally:
        engine.stop()


def _quiet(_: str) -> None:
    pass


# -- separate --------------------------------------------------------------------------------


def read_selection(pipe: ScriptPipe, current: list[Track]) -> Selection:
    """The tracks and time range to separate, checked; AudacityError (one line) when unusable."""
    audio = [t for t in current if t.is_audio]
    if not audio:
        raise AudacityError("the Audacity project has no audio tracks: import a recording first")
    selected = [t for t in current if t.selected]
    if not selected:
        return Selection(tuple(audio), min(t.start for t in audio), max(t.end for t in audio), True)
    chosen = tuple(t for t in selected if t.is_audio)
    start, end = project.selected_time(pipe, current)
    project.restore_selection(pipe, [t.index for t in selected], start, end)
    if not chosen:
        raise AudacityError("no audio track is selected (only label or note tracks)")
    if end - start <= 0:
        raise AudacityError(
            f"the selection has zero length (a cursor at {start:.3f} s): drag over a time range, "
            "or use Select > None to separate the whole project"
        )
    return Selection(chosen, start, end)


def _check_audible(selection: Selection) -> None:
    muted = [t.name for t in selection.tracks if t.mute]
    if muted:
        raise AudacityError(
            f"selected track {muted[0]!r} is muted (Audacity exports no audio from it): "
            "unmute it or leave it out of the selection"
        )
    if not any(t.start < selection.end and t.end > selection.start for t in selection.tracks):
        raise AudacityError(
            f"no audio in the selected tracks between {selection.start:.3f} and "
            f"{selection.end:.3f} s"
        )


def separate(
    pipe: ScriptPipe,
    engine: EngineSpec,
    records_dir: str | Path,
    options: dict | None = None,
    on_update: JobCallback | None = None,
    say: Say = _quiet,
) -> Separation | None:
    """Separate the selection and import the stems; returns the sidecar record (None when the
    engine found no sound event).

    Args:
        pipe: a connected script pipe.
        engine: the engine to use.
        records_dir: where sidecar records are written.
        options: separation options for the engine (window_s, hop_s, tse_rounds, ...).
        on_update: called with the job after every change (progress display).
        say: one-line status messages.
    """
    current = project.tracks(pipe)
    selection = read_selection(pipe, current)
    _check_audible(selection)
    with (
        engine_client(engine, say) as client,
        tempfile.TemporaryDirectory(prefix="scenesplit-audacity-") as tmp,
    ):
        tmp = Path(tmp)
        where = "the whole project" if selection.whole_project else "the selection"
        say(
            f"{where}: {len(selection.tracks)} track(s), "
            f"{selection.start:.3f}-{selection.end:.3f} s ({selection.duration:.3f} s)"
        )
        try:
            recording, rate = project.export_tracks(pipe, selection, tmp, tmp / RECORDING_NAME)
        finally:
            _restore(pipe, current, selection)
        say(f"exported {recording.name} ({rate} Hz); sending it to the engine")
        # Always upload: the engine keeps its own copy, which a later relabel re-reads.
        job = client.upload(recording, **(options or {}))
        final = _follow(client, job, on_update)
        version = max(final["versions"])
        manifest = client.manifest(final["id"], version)
        files = result_files(manifest)
        if not files:
            say("the engine found no sound event in the selection")
            return None
        stems = []
        for track, name in zip(manifest["tracks"], files, strict=True):
            label = _known_class(track.get("label"))
            path = client.download_stem(final["id"], version, name, tmp / f"{label}.wav")
            placed = project.import_track(pipe, path, label, selection.start)
            stems.append(StemRecord(placed.index, label, placed.start, placed.end, file=name))
            say(f"imported {label} as track {placed.index + 1} at {placed.start:.3f} s")
        _restore(pipe, current, selection)
    record = Separation(
        job_id=final["id"],
        version=version,
        engine=engine.record(),
        start=selection.start,
        end=selection.end,
        sources=[TrackRecord(t.index, t.name, t.start, t.end) for t in selection.tracks],
        stems=stems,
        created=time.strftime("%Y-%m-%dT%H:%M:%S"),
    )
    record.save(records_dir)
    return record


def _known_class(label: object) -> str:
    """`label` if it is one of the classes: it becomes a track name and a file name here."""
    if label not in CLASSES:
        raise EngineError(f"the engine sent an unknown class label {label!r}")
    return label


def _restore(pipe: ScriptPipe, current: list[Track], selection: Selection) -> None:
    if selection.whole_project:
        project.restore_selection(pipe, [], selection.start, selection.start)
    else:
        selected = [t.index for t in current if t.selected]
        project.restore_selection(pipe, selected, selection.start, selection.end)


def _follow(client: EngineClient, job: dict, on_update: JobCallback | None) -> dict:
    """Wait for a job; cancel it on Ctrl+C; EngineError unless it ends done."""
    try:
        final = client.wait(job["id"], on_update=on_update)
    except KeyboardInterrupt:
        client.cancel(job["id"])
        raise
    if final["state"] != "done":
        reason = final.get("error") or final["state"]
        raise EngineError(f"{final['kind']} job {final['id']} {final['state']}: {reason}")
    return final


# -- relabel ---------------------------------------------------------------------------------


def class_name(name: str) -> str | None:
    """The class `name` means (exact, else ignoring case and surrounding spaces), or None."""
    if name in CLASSES:
        return name
    folded = {c.lower(): c for c in CLASSES}
    return folded.get(name.strip().lower())


def engine_for(separation: Separation, override: EngineSpec) -> EngineSpec:
    """The engine that holds `separation`'s job; a URL or bundle given now takes precedence."""
    rec = separation.engine
    if override.url:
        return override
    if rec.get("kind") == "remote":
        return EngineSpec(url=rec["url"], token_file=override.token_file or rec.get("token_file"))
    return EngineSpec(
        workdir=Path(rec["workdir"]),
        bundle=override.bundle or rec.get("bundle"),
        device=override.device,
        threads=override.threads,
    )


def relabel(
    pipe: ScriptPipe,
    engine: EngineSpec,
    records_dir: str | Path,
    on_update: JobCallback | None = None,
    say: Say = _quiet,
) -> list[Rename]:
    """Re-extract every renamed stem track with its new class and replace its audio.

    Args:
        pipe: a connected script pipe.
        engine: overrides of the recorded engine (URL and token file; bundle, device, threads of
            a local one).
        records_dir: where `separate` wrote its sidecar records.
        on_update: called with the refine job after every change (progress display).
        say: one-line status messages.
    Returns:
        The renames carried out.
    """
    current = project.tracks(pipe)
    separations = load_all(records_dir)
    if not any(s.in_project(current) for s in separations):
        raise AudacityError(
            "no stem tracks of `scenesplit audacity separate` in this Audacity project "
            "(or the tracks it read were changed since)"
        )
    renames = find_renamed(separations, current)
    if not renames:
        raise AudacityError(
            "no stem track was renamed: rename one to another class name, then run relabel "
            "(stem tracks moved to another position are not recognised)"
        )
    labels = {}
    for r in renames:
        label = class_name(r.track.name)
        if label is None:
            raise AudacityError(
                f"track {r.track.index + 1} {r.track.name!r} is not a class name; "
                f"use one of: {', '.join(CLASSES)}"
            )
        labels[r.track.index] = label
    done = []
    for r in [r for r in renames if labels[r.track.index] == r.stem.name]:
        # Only the spelling changed ("speech"): the audio is right, the name is put back.
        _set_name(pipe, r.track.index, r.stem.name)
        done.append(r)
    by_job: dict[str, list[Rename]] = {}
    for r in [r for r in renames if labels[r.track.index] != r.stem.name]:
        by_job.setdefault(r.separation.job_id, []).append(r)
    for group in by_job.values():
        sep = group[0].separation
        with (
            engine_client(engine_for(sep, engine), say) as client,
            tempfile.TemporaryDirectory(prefix="scenesplit-audacity-") as tmp,
        ):
            for r in group:
                stem = next(s for s in sep.stems if s.index == r.stem.index)
                sep = _relabel_one(
                    pipe,
                    client,
                    sep,
                    stem,
                    r.track,
                    labels[r.track.index],
                    Path(tmp),
                    on_update,
                    say,
                )
                sep.save(sep.path.parent if sep.path else records_dir)
                done.append(r)
    return done


def _relabel_one(
    pipe: ScriptPipe,
    client: EngineClient,
    sep: Separation,
    stem: StemRecord,
    track: Track,
    label: str,
    tmp: Path,
    on_update: JobCallback | None,
    say: Say,
) -> Separation:
    say(f"re-extracting track {track.index + 1}: {stem.name} -> {label}")
    operation = ChangeTrack(stem.name, label)
    job = client.refine(sep.job_id, operation, version=sep.version)
    final = _follow(client, job, on_update)
    version = final["result_version"]
    manifest = client.manifest(sep.job_id, version)
    entry = next((t for t in manifest.get("tracks", []) if t.get("label") == label), None)
    if entry is None:
        raise EngineError(f"the re-extraction as {label} left no {label} track (version {version})")
    name = plain_file_name(entry.get("file"), "stem file name")
    # Named by its class: the clip keeps the file's name, and Audacity shows it on the clip.
    path = client.download_stem(sep.job_id, version, name, tmp / f"{label}.wav")
    replaced = project.replace_audio(pipe, track, path)
    if replaced.name != label:  # the user typed another spelling of the class
        _set_name(pipe, track.index, label)
    say(f"track {track.index + 1} now holds {label} (result version {version})")
    return sep.relabelled(stem, label, version)


def _set_name(pipe: ScriptPipe, index: int, name: str) -> None:
    pipe.command(f"SelectTracks: Track={index} TrackCount=1 Mode=Set")
    pipe.command(f'SetTrack: Name="{name}"')
