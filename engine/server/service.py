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
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine import __version__
from engine.audio import audio_info, infer_layout, parse_channel_selection
from engine.errors import AudioError, ScenesplitError
from engine.pipeline.manifest import Manifest
from engine.pipeline.refine import operation_from_dict, plan_overrides
from engine.server.jobs import Job, JobNotFound, JobStore, now_iso, version_dirs
from engine.server.schemas import JobOptions, RefineRequest
from engine.server.security import BadPath, PathPolicy
from engine.server.worker import JobRunner, Worker

INPUT_DIR = "input"


class UploadTooLarge(ScenesplitError):
    """An upload over the server's size limit."""

    status = 413


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
    ):
        self.workdir = Path(workdir)
        self.store = JobStore(self.workdir)
        self.worker = Worker(self.store, runner)
        self.info = info
        self.policy = policy
        self.max_upload_bytes = max_upload_bytes

    def start(self) -> None:
        """Start running queued jobs."""
        self.worker.start()

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop the worker (the running job ends as interrupted); True if it stopped in time."""
        return self.worker.stop(timeout)

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

    def manifest(self, job_id: str, version: int | str) -> dict[str, Any]:
        """The manifest JSON of a result version."""
        _, folder = self.version_dir(job_id, version)
        return json.loads((folder / "manifest.json").read_text())

    def stem_path(self, job_id: str, version: int | str, filename: str) -> Path:
        """A stem file of a result version; only names the manifest lists are served."""
        _, folder = self.version_dir(job_id, version)
        manifest = json.loads((folder / "manifest.json").read_text())
        listed = {t["file"] for t in manifest.get("tracks", [])}
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
        n, folder = self.version_dir(parent_id, request.version)
        op_dict = request.operation.model_dump()
        if op_dict.get("enrollment_file") is not None:
            resolved = self.policy.check(op_dict["enrollment_file"], "enrollment file")
            try:
                audio_info(resolved)
            except AudioError as exc:
                raise AudioError(op_dict["enrollment_file"], exc.problem) from None
            op_dict["enrollment_file"] = str(resolved)
        if op_dict.get("enrollment_region") is not None:
            op_dict["enrollment_region"] = list(op_dict["enrollment_region"])
        manifest = Manifest.load(folder)
        duration = manifest.recording.get("duration_s") or 0.0
        for key in ("start_s", "enrollment_region"):
            value = op_dict.get(key)
            times = value if isinstance(value, list) else [value] if value is not None else []
            if any(t >= duration for t in times):
                raise ScenesplitError(
                    f"{key} {value} is past the end of the recording ({duration:.2f} s)"
                )
        plan_overrides(manifest, operation_from_dict(op_dict))
        if not Path(manifest.recording["path"]).is_file():
            raise AudioError(manifest.recording["path"], "the recording of this result is gone")
        job = Job(
            id=self.store.new_id(),
            kind="refine",
            state="queued",
            created=now_iso(),
            options={"version": request.version},
            recording=parent.recording,
            parent=parent_id,
            base_version=n,
            operation=op_dict,
        )
        return self.store.add(job)

    def cancel(self, job_id: str) -> dict[str, Any]:
        """Cancel a queued or running job."""
        return self.store.cancel(job_id)
