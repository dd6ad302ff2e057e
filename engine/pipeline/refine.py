"""Refinement: the editor's corrections, re-run through the TSE, as a new result version.

An operation becomes per-window slot overrides (`SlotOverride`). For every affected window the
pipeline runs once; the final outputs with the old and with the new overrides are compared, and
only the difference is blended into the stems (with the same weights as the first assembly).
So an override that changes nothing reproduces the previous stems, and other windows are never
touched. The previous version's folder is left as it was: undo is just going back to it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from engine.audio import StemWriter, iter_blocks, read_audio
from engine.constants import SAMPLE_RATE, SILENCE, class_index
from engine.contract import AddClass, ChangeClass, ChangeTrack, Operation, RemoveClip, RemoveTrack
from engine.dsp import blend_weight
from engine.errors import AudioError, ScenesplitError
from engine.pipeline.assembly import build_tracks, normaliser, slot_records
from engine.pipeline.manifest import Manifest, stem_filename
from engine.pipeline.separator import Separator, SlotOverride
from engine.pipeline.windows import WindowSpec, read_window
from engine.progress import CancelToken, ProgressCallback, ProgressReporter


def plan_overrides(manifest: Manifest, op: Operation) -> dict[int, list[dict]]:
    """Window index -> new override specs (plain data) that carry out `op`."""
    new: dict[int, list[dict]] = {}
    windows = manifest.windows

    def slot_conflict(w: int, slot: int, label: str) -> None:
        for k, rec in enumerate(windows[w].slots):
            if k != slot and rec.label == label:
                raise ScenesplitError(
                    f"{label} is already extracted at {windows[w].start_s:.1f}-{windows[w].end_s:.1f} s; "
                    "change or remove that clip first"
                )

    if isinstance(op, (ChangeClass, RemoveClip, ChangeTrack, RemoveTrack)):
        if isinstance(op, (ChangeTrack, RemoveTrack)):
            track = manifest.track(op.track)
            if track is None:
                raise ScenesplitError(f"no track {op.track!r} in this result")
            clips = track.clips
        else:
            clips = [manifest.clip(op.clip_id)]
        label = SILENCE if isinstance(op, (RemoveClip, RemoveTrack)) else op.label
        if label != SILENCE:
            class_index(label)
        for clip in clips:
            for w, slot in clip.sources:
                if label != SILENCE:
                    slot_conflict(w, slot, label)
                new.setdefault(w, []).append({"slot": slot, "label": label})
    elif isinstance(op, AddClass):
        class_index(op.label)
        for w in windows:
            if w.end_s <= op.start_s or w.start_s >= op.end_s:
                continue
            labels = [s.label for s in w.slots]
            if op.label in labels:
                continue
            if SILENCE not in labels:
                raise ScenesplitError(
                    f"the window at {w.start_s:.1f}-{w.end_s:.1f} s already holds "
                    f"{', '.join(labels)}; remove one of them first"
                )
            span = [max(op.start_s, w.start_s) - w.start_s, min(op.end_s, w.end_s) - w.start_s]
            spec = {
                "slot": labels.index(SILENCE),
                "label": op.label,
                "span_s": span,
                "enrollment": "empty",
            }
            if op.enrollment_region is not None:
                spec["enrollment"] = {"region": list(op.enrollment_region)}
            elif op.enrollment_file is not None:
                spec["enrollment"] = {"file": op.enrollment_file}
            new.setdefault(w.index, []).append(spec)
        if not new:
            raise ScenesplitError(f"{op.label} is already present over {op.start_s}-{op.end_s} s")
    return new


def _merge(old: list[dict], new: list[dict]) -> list[dict]:
    slots = {o["slot"] for o in new}
    return [o for o in old if o["slot"] not in slots] + new


def _enrollment(spec, manifest: Manifest, size: int) -> np.ndarray | None:
    if spec is None:
        return None
    out = np.zeros(size, np.float32)
    if spec == "empty":
        return out
    if "region" in spec:
        a, b = spec["region"]
        rec = manifest.recording
        start = max(0, round(a * SAMPLE_RATE))
        n = max(0, min(size, round((b - a) * SAMPLE_RATE)))
        piece = read_window(
            rec["path"], start, size, rec["frames"], rec["channels"], rec.get("offset", 0)
        )[0, :n]
    else:
        piece = read_audio(spec["file"])[0, :size]  # W (or mono) of the example
    out[: piece.shape[0]] = piece
    return out


def to_slot_overrides(specs: list[dict], manifest: Manifest, size: int) -> list[SlotOverride]:
    """Plain override specs -> `SlotOverride`s for one window."""
    out = []
    for s in specs:
        span = s.get("span_s")
        out.append(
            SlotOverride(
                s["slot"],
                s["label"],
                _enrollment(s.get("enrollment"), manifest, size),
                (round(span[0] * SAMPLE_RATE), round(span[1] * SAMPLE_RATE)) if span else None,
            )
        )
    return out


def refine_result(
    separator: Separator,
    result_dir: str | os.PathLike,
    op: Operation,
    out_dir: str | os.PathLike,
    *,
    version: int | None = None,
    base: Manifest | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Manifest:
    """Apply `op` to the result in `result_dir`, writing version `version` to `out_dir`.

    `version` defaults to the base's + 1 (a server numbers versions by folder, so refining an
    older one makes the newest + 1); `base` is `result_dir`'s manifest when already loaded.
    """
    result_dir, out_dir = Path(result_dir), Path(out_dir)
    manifest = base if base is not None else Manifest.load(result_dir)
    version = manifest.version + 1 if version is None else int(version)
    rec = manifest.recording
    if not Path(rec["path"]).is_file():
        raise AudioError(rec["path"], "the recording of this result is no longer there")
    new_specs = plan_overrides(manifest, op)
    spec = WindowSpec(manifest.options["window_s"], manifest.options["hop_s"])
    plan = spec.plan(rec["frames"])
    affected = sorted(new_specs)
    reporter = ProgressReporter("refine", len(affected), progress, cancel)
    reporter.update(0, f"{len(affected)} windows to re-extract")
    # Per-window deltas go to disk: a clip spanning an hour touches hundreds of windows, and
    # holding their deltas in memory would grow with the clip (GBs for a long recording).
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".refine-", dir=out_dir) as scratch:
        manifest = _refine_windows(
            separator, result_dir, manifest, new_specs, plan, out_dir, Path(scratch), reporter
        )
    manifest.parent = str(result_dir.resolve())
    manifest.version = version
    manifest.rerun_windows = affected
    manifest.history.append({"version": version, **op.to_dict()})
    manifest.save(out_dir)
    return manifest


def _refine_windows(
    separator, result_dir, manifest, new_specs, plan, out_dir, scratch, reporter
) -> Manifest:
    """Re-extract the affected windows and patch the stems; returns the updated manifest."""
    rec = manifest.recording
    affected = sorted(new_specs)
    deltas: dict[str, dict[int, Path]] = {}
    new_slots = {}
    for done, w in enumerate(affected, 1):
        rec_w = manifest.windows[w]
        start = w * plan.hop
        mix = read_window(
            rec["path"], start, plan.size, plan.length, rec["channels"], rec.get("offset", 0)
        )[None]
        stages = separator.run(mix, cancel=reporter.cancel)
        old_ov = to_slot_overrides(rec_w.overrides, manifest, plan.size)
        merged = _merge(rec_w.overrides, new_specs[w])
        new_ov = to_slot_overrides(merged, manifest, plan.size)
        old_wave, old_pred = separator.apply_overrides(mix, stages, [old_ov])
        new_wave, new_pred = separator.apply_overrides(mix, stages, [new_ov])
        window_delta: dict[str, np.ndarray] = {}
        for wave, pred, sign in ((old_wave, old_pred, -1.0), (new_wave, new_pred, 1.0)):
            for slot, label in enumerate(pred.labels(0)):
                if label != SILENCE:
                    d = window_delta.setdefault(label, np.zeros(plan.size))
                    d += sign * wave[0, slot].numpy().astype(np.float64)
        for label, d in window_delta.items():
            if np.any(d):
                path = scratch / f"{label}_{w}.npy"
                np.save(path, d)
                deltas.setdefault(label, {})[w] = path
        labels = new_pred.labels(0)
        new_slots[w] = (
            merged,
            slot_records(
                new_wave[0].numpy(),
                labels,
                new_pred.prob[0].tolist(),
                new_pred.energy[0].tolist(),
                start,
                plan.length,
            ),
        )
        reporter.update(done, f"window {done}/{len(affected)}")

    out_dir.mkdir(parents=True, exist_ok=True)
    for w, (merged, slots) in new_slots.items():
        manifest.windows[w].overrides = merged
        manifest.windows[w].slots = slots
    name = rec["name"]
    filename = lambda label: stem_filename(name, label)  # noqa: E731
    tracks = build_tracks(manifest.windows, filename)
    weight = blend_weight(plan.size, plan.hop, np.float64)
    written = []
    try:
        for track in tracks:
            src = result_dir / track.file
            dst = out_dir / track.file
            changes = deltas.get(track.label, {})
            if not changes and src.is_file():
                _link_or_copy(src, dst)
            else:
                _patch_stem(
                    src if src.is_file() else None,
                    dst,
                    plan,
                    changes,
                    weight,
                    rec["time_reference"],
                    track.label,
                )
            written.append(dst)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    finally:
        deltas.clear()  # drop the memory maps before the scratch folder goes
    manifest.tracks = tracks
    return manifest


def _link_or_copy(src: Path, dst: Path) -> None:
    dst.unlink(missing_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def _patch_stem(src, dst: Path, plan, changes: dict[int, Path], weight, time_ref, label):
    """Write `dst` = `src` (or silence) + the blended window deltas, streaming in hops."""
    length = plan.length
    block = plan.hop
    # The previous version's stem, streamed in hops (checked like every read of ours).
    blocks = iter_blocks(src, block / SAMPLE_RATE) if src is not None else None
    try:
        with StemWriter(dst, 1, SAMPLE_RATE, time_reference=time_ref, description=label) as out:
            for a in range(0, length, block):
                b = min(a + block, length)
                prev = next(blocks, None) if blocks is not None else None
                base = np.zeros(b - a)
                if prev is not None:
                    n = min(b - a, prev.shape[1])
                    base[:n] = prev[0, :n]
                touched = [w for w in changes if w * plan.hop < b and w * plan.hop + plan.size > a]
                if touched:
                    norm = normaliser(plan, a, b)
                    for w in touched:
                        s = w * plan.hop
                        lo, hi = max(a, s), min(b, s + plan.size)
                        base[lo - a : hi - a] += (
                            _delta_slice(changes[w], lo - s, hi - s)
                            * weight[lo - s : hi - s]
                            / norm[lo - a : hi - a]
                        )
                out.write(base.astype(np.float32))
    finally:
        if blocks is not None:
            blocks.close()  # release the file when a cancel or an error stops the patch


def _delta_slice(path: Path, start: int, stop: int) -> np.ndarray:
    """Samples `[start, stop)` of a saved window delta, copied out of a short-lived mapping so
    touched pages do not pile up in the process while a long clip is patched."""
    return np.array(np.load(path, mmap_mode="r")[start:stop])
