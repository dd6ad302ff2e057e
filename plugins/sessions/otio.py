"""OpenTimelineIO timeline (.otio): one audio track per class, each clip a range of its stem.

Written through the `opentimelineio` library (optional: `pip install scenesplit[sessions]`), so
any OTIO reader (DaVinci Resolve, Premiere through adapters, otioview) opens it.
"""

from __future__ import annotations

import os
from pathlib import Path

from plugins.sessions.common import file_ref, range_start, write_atomic


def _otio():
    try:
        import opentimelineio
    except ImportError as exc:
        raise RuntimeError(
            "OpenTimelineIO export needs the opentimelineio package "
            "(pip install 'scenesplit[sessions]')"
        ) from exc
    return opentimelineio


def write_otio(
    manifest: dict,
    stems_dir: str | os.PathLike,
    out_path: str | os.PathLike,
    include_mixture: bool = True,
    relative: bool = False,
) -> Path:
    """Write an OTIO timeline for `manifest` whose stems are in `stems_dir`.

    Times are counted in samples at the result's rate (`recording.sample_rate`), so clip
    edges are exact. Between clips a track holds gaps; a class without clips gets its whole stem.

    Args:
        manifest: the result's manifest (plain data).
        stems_dir: folder holding the stems named in the manifest.
        out_path: the .otio to write.
        include_mixture: add the original recording as the first track.
        relative: media paths relative to the .otio's folder.
    """
    otio = _otio()
    stems_dir = Path(stems_dir)
    session_dir = Path(out_path).parent if relative else None
    rec = manifest["recording"]
    rate = float(rec["sample_rate"])
    duration = float(rec["duration_s"])

    def t(seconds: float):
        return otio.opentime.RationalTime(round(seconds * rate), rate)

    def span(start: float, length: float):
        return otio.opentime.TimeRange(t(start), t(length))

    def reference(path, start: float, length: float):
        return otio.schema.ExternalReference(
            target_url=file_ref(path, session_dir), available_range=span(start, length)
        )

    timeline = otio.schema.Timeline(name=rec["name"], global_start_time=t(0.0))
    timeline.metadata["scenesplit"] = {"recording": rec["name"], "sample_rate": rec["sample_rate"]}
    if include_mixture:
        track = otio.schema.Track(name=f"{rec['name']} (mixture)", kind=otio.schema.TrackKind.Audio)
        # The mixture file is longer than a --start range: its clip starts at the range start.
        offset = range_start(manifest)
        mixture_length = offset + duration
        track.append(
            otio.schema.Clip(
                name=rec["name"],
                media_reference=reference(rec["path"], 0.0, mixture_length),
                source_range=span(offset, duration),
            )
        )
        timeline.tracks.append(track)
    for entry in manifest["tracks"]:
        track = otio.schema.Track(name=entry["label"], kind=otio.schema.TrackKind.Audio)
        track.metadata["scenesplit"] = {"confidence": entry["confidence"]}
        stem = stems_dir / entry["file"]
        clips = entry["clips"] or [
            {"id": entry["label"], "start_s": 0.0, "end_s": duration, "confidence": None}
        ]
        cursor = 0.0
        for clip in sorted(clips, key=lambda c: c["start_s"]):
            start, end = float(clip["start_s"]), float(clip["end_s"])
            if t(start).value > t(cursor).value:
                track.append(otio.schema.Gap(source_range=span(0.0, start - cursor)))
            item = otio.schema.Clip(
                name=f"{entry['label']} {clip['id']}",
                media_reference=reference(stem, 0.0, duration),
                source_range=span(start, end - start),
            )
            item.metadata["scenesplit"] = {"id": clip["id"], "confidence": clip["confidence"]}
            track.append(item)
            cursor = end
        timeline.tracks.append(track)
    return write_atomic(out_path, otio.adapters.write_to_string(timeline, adapter_name="otio_json"))
