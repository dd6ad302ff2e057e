"""Separating a whole recording: windows in, per-class stems and a manifest out.

Windows are read in blocks, run through the `Separator` in batches, and assembled into stems
on disk as they go, so memory stays flat in the recording's length. Progress is reported per
batch and the cancel token checked between batches; a cancelled or failed run leaves no stems.
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from engine import __version__
from engine.audio import audio_info, read_bext
from engine.audio.layout import infer_layout
from engine.constants import CLASSES, SAMPLE_RATE, SILENCE
from engine.errors import ScenesplitError
from engine.pipeline.assembly import TrackAssembler, build_tracks, slot_records
from engine.pipeline.manifest import Manifest, WindowRecord, stem_filename
from engine.pipeline.separator import Separator
from engine.pipeline.windows import (
    SourceRange,
    WindowSpec,
    iter_windows,
    resampled_length,
    source_range,
)
from engine.progress import CancelToken, ProgressCallback, ProgressReporter


def recording_facts(
    path: Path, channels: Sequence[int] | None, src: SourceRange | None = None, offset: int = 0
) -> dict:
    """What the manifest records about the input file (and its BWF time reference).

    With a range `src` (starting at 32 kHz sample `offset`), `frames` and `duration_s` are the
    range's, `start_s` where it starts in the file, and the time reference moves with it.
    """
    info = audio_info(path)
    src = src or SourceRange()
    time_reference = 0
    if info.format == "WAV":
        try:
            bext = read_bext(path)
        except (OSError, ValueError):
            bext = None
        if bext:
            time_reference = round(bext["time_reference"] * SAMPLE_RATE / info.sample_rate)
    n_used = len(channels) if channels is not None else info.channels
    return {
        "path": str(path.resolve()),
        "name": path.stem,
        "format": info.format,
        "source_sample_rate": info.sample_rate,
        "sample_rate": SAMPLE_RATE,
        "source_channels": info.channels,
        "channels": list(channels) if channels is not None else None,
        "layout": infer_layout(n_used, path).value,
        "frames": resampled_length(path, src),
        "duration_s": (info.frames if src.frames is None else src.frames) / info.sample_rate,
        "time_reference": time_reference + offset,
        "start_s": src.start / info.sample_rate,
        "offset": offset,
    }


def stage_labels(stages, b: int) -> dict[str, list[str]]:
    """Labels of window `b` at every stage (CP 1, CP 1-1, CP 2, ...)."""
    out = {"CP 1": stages.cp_uss.labels(b)}
    for r, cp in enumerate(stages.cp):
        out["CP 1-1" if r == 0 else f"CP {r + 1}"] = cp.labels(b)
    for r, clue in enumerate(stages.clues):
        idx = [int(i) if clue[b, k].any() else -1 for k, i in enumerate(clue[b].argmax(-1))]
        out[f"clue TSE {r + 1}"] = [CLASSES[i] if i >= 0 else SILENCE for i in idx]
    return out


def separate_recording(
    separator: Separator,
    path: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    window: WindowSpec | None = None,
    channels: Sequence[int] | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    start_s: float = 0.0,
    duration_s: float | None = None,
) -> Manifest:
    """Separate `path` into `out_dir/<name>_<Label>.wav` stems plus `manifest.json`.

    With `start_s`/`duration_s` only that range of the file is separated: the stems are the
    range's length and every time in the manifest counts from the range's start.

    Raises:
        AudioError: the input cannot be read (checked before any work).
        Cancelled: `cancel` was set; nothing is left in `out_dir`.
    """
    path = Path(path)
    out_dir = Path(out_dir)
    window = window or WindowSpec()
    src, offset = SourceRange(), 0
    if start_s or duration_s is not None:
        src, offset = source_range(path, start_s, duration_s)
    facts = recording_facts(path, channels, src, offset)
    plan = window.plan(facts["frames"])
    out_dir.mkdir(parents=True, exist_ok=True)
    earlier = listed_stems(out_dir)
    name = facts["name"]
    assembler = TrackAssembler(
        out_dir, lambda label: stem_filename(name, label), plan, facts["time_reference"]
    )
    reporter = ProgressReporter("separate", plan.count, progress, cancel)
    reporter.update(0, f"{plan.count} windows")
    records: list[WindowRecord] = []
    try:
        batch: list[tuple[int, int, np.ndarray]] = []
        windows = iter_windows(path, plan, channels, src)
        for item in windows:
            batch.append(item)
            if len(batch) == separator.batch_windows or item[0] == plan.count - 1:
                records += _run_batch(separator, batch, assembler, plan.length, cancel)
                reporter.update(batch[-1][0] + 1, f"window {batch[-1][0] + 1}/{plan.count}")
                batch = []
        stems = assembler.finish()
    except BaseException:
        assembler.abort()
        raise
    manifest = Manifest(
        recording=facts,
        options={
            "tse_rounds": separator.tse_rounds,
            **asdict(window),
            "device": str(separator.device),
        },
        bundle=separator.bundle.describe(),
        tracks=build_tracks(records, lambda label: stem_filename(name, label)),
        windows=records,
        versions={"scenesplit": __version__, "torch": torch.__version__},
        created=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    )
    # Stems of classes that ended up without a clip (all output below the activity floor) stay,
    # listed as tracks with no clips would confuse; keep files and tracks consistent.
    listed = {t.label for t in manifest.tracks}
    for label, stem in stems.items():
        if label not in listed:
            stem.unlink(missing_ok=True)
    manifest.save(out_dir)
    # A rerun into the same folder: the stems only the earlier result listed go, so the folder
    # holds exactly what its manifest lists (files the user put there are never touched).
    for stale in earlier - listed_stems(out_dir):
        (out_dir / stale).unlink(missing_ok=True)
    return manifest


def listed_stems(folder: Path) -> set[str]:
    """Stem file names the folder's manifest lists (none without a readable manifest)."""
    try:
        manifest = Manifest.load(folder)
    except (ScenesplitError, OSError, ValueError, KeyError, TypeError):
        return set()
    # Only plain names inside the folder: a crafted manifest must not point elsewhere.
    return {
        t.file
        for t in manifest.tracks
        if isinstance(t.file, str) and t.file not in ("", ".", "..") and Path(t.file).name == t.file
    }


def _run_batch(
    separator, batch, assembler: TrackAssembler, length: int, cancel: CancelToken | None
) -> list[WindowRecord]:
    mix = np.stack([w for _, _, w in batch])
    stages = separator.run(mix, cancel=cancel)
    waves = stages.final_waveforms.numpy()
    pred = stages.final_prediction
    records = []
    for b, (index, start, _) in enumerate(batch):
        labels = pred.labels(b)
        assembler.add(index, waves[b], labels)
        records.append(
            WindowRecord(
                index=index,
                start_s=start / SAMPLE_RATE,
                end_s=min(start + waves.shape[-1], length) / SAMPLE_RATE,
                stages=stage_labels(stages, b),
                slots=slot_records(
                    waves[b], labels, pred.prob[b].tolist(), pred.energy[b].tolist(), start, length
                ),
            )
        )
    return records
