"""The engine service behind the HTTP routes: checks requests, creates jobs, finds results.

Everything that can be known to be wrong before a job is queued (a path outside the allowed
folders, an unreadable file, a channel selection that does not fit, an operation naming an
unknown clip) is refused here with a clear error, so queued jobs fail only for reasons that
appear while they run.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from engine import __version__
from engine.audio import audio_info, infer_layout, parse_channel_selection
from engine.contract import AddClass, operation_from_dict
from engine.errors import AudioError, ScenesplitError
from engine.pipeline.manifest import MANIFEST_FILE, Manifest
from engine.pipeline.refine import plan_overrides
from engine.server.hygiene import RetentionPolicy, apply_retention
from engine.server.jobs import MAX_QUEUED, Job, JobNotFound, JobStore, now_iso, version_dirs
from engine.server.schemas import JobOptions, RefineRequest
from engine.server.security import NAME_MAX, BadPath, PathPolicy
from engine.server.worker import JobRunner, Worker

INPUT_DIR = "input"


class UploadTooLarge(ScenesplitError):
    """An upload over the server's size limit."""

    status = 413


class DamagedResult(ScenesplitError):
    """A result version whose files cannot be read (disk damage, a hand edit)."""

    status = 409


class WorkerStopped(ScenesplitError):
    """The job worker is not running: queued jobs would wait forever."""

    status = 503


@dataclass
class ServiceInfo:
    """What /health reports about the loaded models."""

    device: str
    bundle: dict[str, Any]


def safe_filename(name: str) -> str:
    """An uploaded file's name, reduced to a plain file name (no folders, no control chars)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not base or base in (".", "..") or any(ord(c) < 32 or c == "\x7f" for c in base):
        raise BadPath(f"unusable upload file name {name!r}")
    if len(base.encode()) > NAME_MAX:
        raise BadPath(
            f"upload file name is {len(base.encode())} bytes long; the limit is {NAME_MAX}"
        )
    if base.startswith("."):
        base = "_" + base[1:]
    return base


def recording_summary(path: Path, display_path: str | None, channels: list[int] | None) -> dict:
    """The job's `recording`: what the header says (the manifest adds the rest)."""
    info = audio_info(path)
    return {
        "name": path.stem,
        "path": display_path,
        "duration_s": info.duration_s,
        "frames": info.frames,
        "sample_rate": info.sample_rate,
        "channels": info.channels,
        "selected_channels": channels,
        "format": info.format,
        "layout": info.layout.value if info.layout else None,
    }


def check_audio(path: Path, options: JobOptions, shown_as: str) -> list[int] | None:
    """Header and channel checks of an input; AudioError naming `shown_as` otherwise."""
    try:
        info = audio_info(path)
        channels = None
        if options.channels is not None:
            channels = parse_channel_selection(options.channels, info.channels, shown_as)
        infer_layout(len(channels) if channels else info.channels, shown_as)
        return channels
    except AudioError as exc:
        if exc.path != shown_as:
            raise AudioError(shown_as, exc.problem) from None
        raise


class EngineService:
    """Jobs, worker, path policy and limits of one engine server."""

    def __init__(
        self,
        workdir: str | os.PathLike,
        runner: JobRunner,
        info: ServiceInfo,
        policy: PathPolicy,
        max_upload_bytes: int = 2048 * 2**20,
        retention: RetentionPolicy | None = None,
        max_queued: int = MAX_QUEUED,
    ):
        self.workdir = Path(workdir)
        self.store = JobStore(self.workdir, max_queued)
        self.retention = retention or RetentionPolicy()
        self.worker = Worker(self.store, runner, after_job=self.retain)
        self.info = info
        self.policy = policy
        self.max_upload_bytes = max_upload_bytes

    def start(self) -> None:
        """Apply the retention policy, then start running queued jobs."""
        self.retain()
        self.worker.start()

    def stop(self, timeout: float | None = None) -> bool:
        """Stop the worker (the running job ends as interrupted, at once if it cannot reach
        a checkpoint within `timeout` s); True if it stopped in time."""
        return self.worker.stop() if timeout is None else self.worker.stop(timeout)

    def retain(self) -> list[str]:
        """Remove the finished jobs the retention policy no longer keeps; returns their ids."""
        try:
            return apply_retention(self.store, self.retention)
        except OSError as exc:  # cleaning up must never stop the server
            print(f"scenesplit serve: retention skipped: {exc}", file=sys.stderr)
            return []

    def delete(self, job_id: str) -> list[str]:
        """Delete a finished job (and a separate job's refinements); 409 while one runs."""
        return self.store.delete(job_id)

    def health(self) -> dict[str, Any]:
        """The /health body; WorkerStopped when no job would ever run."""
        if not self.worker.alive():
            raise WorkerStopped(
                "the job worker has stopped (see the engine log); restart the engine"
            )
        busy, queued = self.store.counts()
        return {
            "status": "ok",
            "version": __version__,
            "device": self.info.device,
            "bundle": self.info.bundle,
            "busy": busy,
            "queued": queued,
        }

    # -- separation ----------------------------------------------------------------------------

    def submit_path(self, path: str, options: JobOptions) -> dict[str, Any]:
        """Queue the separation of a local file under the allowed roots."""
        resolved = self.policy.check(path, "recording")
        channels = check_audio(resolved, options, path)
        job = Job(
            id=self.store.new_id(),
            kind="separate",
            state="queued",
            created=now_iso(),
            options=options.model_dump(),
            recording=recording_summary(resolved, str(resolved), channels),
            input_path=str(resolved),
        )
        return self.store.add(job)

    async def submit_upload(
        self,
        filename: str,
        options: JobOptions,
        chunks: AsyncIterator[bytes],
        content_length: int | None,
    ) -> dict[str, Any]:
        """Stream an uploaded file into a new job's input folder, check it, and queue the job."""
        name = safe_filename(filename)
        if content_length is not None and content_length > self.max_upload_bytes:
            raise UploadTooLarge(self._too_large(content_length))
        self.store.check_room()  # before the upload is received, not after
        job_id = self.store.new_id()
        job_dir = self.store.job_dir(job_id)
        target = job_dir / INPUT_DIR / name
        target.parent.mkdir(parents=True)
        try:
            size = 0
            with open(target, "wb") as f:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > self.max_upload_bytes:
                        raise UploadTooLarge(self._too_large(size, at_least=True))
                    f.write(chunk)
            channels = check_audio(target, options, name)
            job = Job(
                id=job_id,
                kind="separate",
                state="queued",
                created=now_iso(),
                options=options.model_dump(),
                recording={**recording_summary(target, None, channels), "uploaded_bytes": size},
                input_path=str(target),
            )
            return self.store.add(job)
        except BaseException:
            shutil.rmtree(job_dir, ignore_errors=True)
            raise

    def _too_large(self, size: int, at_least: bool = False) -> str:
        mb = self.max_upload_bytes / 2**20
        got = f"{'more than ' if at_least else ''}{size / 2**20:.1f} MB"
        return f"upload too large: {got}, the limit is {mb:g} MB (--max-upload-mb)"

    # -- results -------------------------------------------------------------------------------

    def _result_job(self, job_id: str) -> Job:
        job = self.store.get(job_id)
        if job.kind != "separate":
            raise JobNotFound(
                f"job {job_id} is a refinement; its result is version {job.result_version} "
                f"of job {job.parent}"
            )
        return job

    def version_dir(self, job_id: str, version: int | str) -> tuple[int, Path]:
        """(number, folder) of a result version of a separate job; `latest` = the newest."""
        job = self._result_job(job_id)
        versions = version_dirs(self.store.job_dir(job_id))
        if not versions:
            raise JobNotFound(f"job {job_id} has no results ({job.state})")
        n = max(versions) if version == "latest" else int(version)
        if n not in versions:
            raise JobNotFound(
                f"job {job_id} has no version {version}; versions: {', '.join(map(str, versions))}"
            )
        return n, versions[n]

    def _manifest_data(self, job_id: str, version: int | str) -> tuple[int, Path, dict]:
        """(number, folder, manifest JSON) of a result version; DamagedResult (naming no
        server path) when the manifest cannot be read or is not a manifest."""
        n, folder = self.version_dir(job_id, version)
        try:
            data = json.loads((folder / MANIFEST_FILE).read_text())
            if not isinstance(data, dict) or not isinstance(data.get("tracks"), list):
                raise ValueError("not a manifest object with tracks")
            if not all(
                isinstance(t, dict) and isinstance(t.get("file"), str) for t in data["tracks"]
            ):
                raise ValueError("a track without a file name")
        except (OSError, ValueError) as exc:  # JSONDecodeError and UnicodeDecodeError included
            reason = exc.strerror if isinstance(exc, OSError) else str(exc).split(":")[0]
            raise DamagedResult(
                f"version {n} of job {job_id} is damaged: its {MANIFEST_FILE} cannot be read "
                f"({reason}); use another version, or delete the job"
            ) from None
        return n, folder, data

    def manifest(self, job_id: str, version: int | str) -> dict[str, Any]:
        """The manifest JSON of a result version."""
        return self._manifest_data(job_id, version)[2]

    def stem_path(self, job_id: str, version: int | str, filename: str) -> Path:
        """A stem file of a result version; only names the manifest lists are served."""
        _, folder, manifest = self._manifest_data(job_id, version)
        listed = {t["file"] for t in manifest["tracks"]}
        if filename not in listed:
            raise JobNotFound(
                f"no stem {filename!r} in this result; stems: {', '.join(sorted(listed)) or 'none'}"
            )
        path = folder / filename
        if path.resolve().parent != folder.resolve() or not path.is_file():
            raise JobNotFound(f"stem {filename!r} is missing from the result folder")
        return path

    # -- refinement and cancel -----------------------------------------------------------------

    def refine(self, parent_id: str, request: RefineRequest) -> dict[str, Any]:
        """Queue a correction of a result version as a refine job (checked against the manifest)."""
        parent = self._result_job(parent_id)
        n, folder, data = self._manifest_data(parent_id, request.version)
        # The schema checked the wire form; from here on the correction is the contract's type.
        op = operation_from_dict(request.operation.model_dump())
        if isinstance(op, AddClass) and op.enrollment_file is not None:
            resolved = self.policy.check(op.enrollment_file, "enrollment file")
            try:
                audio_info(resolved)
            except AudioError as exc:
                raise AudioError(op.enrollment_file, exc.problem) from None
            op = replace(op, enrollment_file=str(resolved))
        try:
            manifest = Manifest.from_dict(data)
        except (TypeError, KeyError, ValueError, AttributeError) as exc:
            raise DamagedResult(
                f"version {n} of job {parent_id} is damaged: its {MANIFEST_FILE} is incomplete "
                f"({type(exc).__name__}: {exc}); use another version, or delete the job"
            ) from None
        duration = manifest.recording.get("duration_s") or 0.0
        if isinstance(op, AddClass):
            for key, times in (
                ("start_s", [op.start_s]),
                ("enrollment_region", op.enrollment_region),
            ):
                if times is not None and any(t >= duration for t in times):
                    shown = list(times) if len(times) > 1 else times[0]
                    raise ScenesplitError(
                        f"{key} {shown} is past the end of the recording ({duration:.2f} s)"
                    )
        plan_overrides(manifest, op)
        if not Path(manifest.recording.get("path") or "").is_file():
            # An upload's copy lives on the server: name it as the client knows it.
            shown = (parent.recording or {}).get("path") or manifest.recording.get("name")
            raise AudioError(shown, "the recording of this result is gone")
        job = Job(
            id=self.store.new_id(),
            kind="refine",
            state="queued",
            created=now_iso(),
            options={"version": request.version},
            recording=parent.recording,
            parent=parent_id,
            base_version=n,
            operation=op.to_dict(),
        )
        return self.store.add(job)

    def cancel(self, job_id: str) -> dict[str, Any]:
        """Cancel a queued or running job."""
        return self.store.cancel(job_id)
