"""Request and response bodies of the engine HTTP API (pydantic; they make the OpenAPI schema)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from engine.contract import (
    BATCH_WINDOWS_MAX,
    DEFAULTS,
    TSE_ROUNDS_HELP,
    TSE_ROUNDS_MAX,
    WINDOW_S_MAX,
    WINDOW_S_MIN,
)

Seconds = Annotated[float, Field(ge=0.0, le=1e7, allow_inf_nan=False)]


class JobOptions(BaseModel):
    """How to separate: TSE rounds, channels of the file, analysis windows, batch size."""

    model_config = ConfigDict(extra="forbid")

    tse_rounds: int | None = Field(
        DEFAULTS.tse_rounds, ge=0, le=TSE_ROUNDS_MAX, description=TSE_ROUNDS_HELP
    )
    channels: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="file channels to use, e.g. '0-3' or '0,1'; null: all (1, 2 or 4 channels)",
    )
    window_s: float = Field(
        DEFAULTS.window_s, ge=WINDOW_S_MIN, le=WINDOW_S_MAX, allow_inf_nan=False
    )
    hop_s: float = Field(DEFAULTS.hop_s, gt=0.0, le=WINDOW_S_MAX, allow_inf_nan=False)
    batch_windows: int = Field(
        DEFAULTS.batch_windows, ge=1, le=BATCH_WINDOWS_MAX, description="windows per forward pass"
    )

    @model_validator(mode="after")
    def _hop_within_window(self) -> JobOptions:
        if self.hop_s > self.window_s:
            raise ValueError(
                f"hop_s must be <= window_s, got hop_s={self.hop_s}, window_s={self.window_s}"
            )
        return self


class SubmitRequest(BaseModel):
    """`POST /jobs`: separate a file the server can read."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1, max_length=4096, description="absolute path on the server")
    options: JobOptions = Field(default_factory=JobOptions)


class UploadParams(JobOptions):
    """`POST /jobs/upload` query: the file's name plus the job options."""

    filename: str = Field(min_length=1, max_length=255, description="name of the uploaded file")


class ChangeClassOp(BaseModel):
    """Re-extract one clip with another class clue."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["change_class"]
    clip_id: str = Field(min_length=1, max_length=200)
    label: str = Field(min_length=1, max_length=100)


class ChangeTrackOp(BaseModel):
    """Re-extract every clip of a track with another class clue."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["change_track"]
    track: str = Field(min_length=1, max_length=100)
    label: str = Field(min_length=1, max_length=100)


class RemoveClipOp(BaseModel):
    """Remove a false detection."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["remove_clip"]
    clip_id: str = Field(min_length=1, max_length=200)


class RemoveTrackOp(BaseModel):
    """Remove every clip of a track."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["remove_track"]
    track: str = Field(min_length=1, max_length=100)


class AddClassOp(BaseModel):
    """Extract a class over a time range, optionally like a region or an example file."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["add_class"]
    label: str = Field(min_length=1, max_length=100)
    start_s: Seconds
    end_s: Seconds
    enrollment_region: tuple[Seconds, Seconds] | None = None
    enrollment_file: str | None = Field(None, min_length=1, max_length=4096)

    @model_validator(mode="after")
    def _ordered(self) -> AddClassOp:
        if self.end_s <= self.start_s:
            raise ValueError(f"end_s must be > start_s, got {self.start_s}-{self.end_s}")
        if self.enrollment_region is not None:
            a, b = self.enrollment_region
            if b <= a:
                raise ValueError(
                    f"enrollment_region must be [start, end] with end > start, got {[a, b]}"
                )
        if self.enrollment_region is not None and self.enrollment_file is not None:
            raise ValueError("give enrollment_region or enrollment_file, not both")
        return self


Operation = Annotated[
    ChangeClassOp | ChangeTrackOp | RemoveClipOp | RemoveTrackOp | AddClassOp,
    Field(discriminator="kind"),
]


class RefineRequest(BaseModel):
    """`POST /jobs/{id}/refine`: apply a correction to a result version."""

    model_config = ConfigDict(extra="forbid")

    version: int | Literal["latest"] = Field("latest", description="result version to correct")
    operation: Operation


class ProgressModel(BaseModel):
    """Progress of a job (`reported_at`: server time of the report, epoch seconds)."""

    stage: str
    done: float
    total: float
    fraction: float
    message: str
    eta_s: float | None
    elapsed_s: float
    reported_at: float | None


class JobModel(BaseModel):
    """A job as the API shows it."""

    id: str
    kind: Literal["separate", "refine"]
    state: Literal["queued", "running", "done", "failed", "cancelled", "interrupted"]
    progress: ProgressModel
    queue_position: int | None = Field(description="1 = runs next; null when not queued")
    error: str | None
    created: str
    started: str | None
    finished: str | None
    recording: dict[str, Any] | None
    options: dict[str, Any]
    parent: str | None
    base_version: int | None
    result_version: int | None
    versions: list[int]
    operation: dict[str, Any] | None
    cancel_requested: bool


class JobList(BaseModel):
    """`GET /jobs`."""

    jobs: list[JobModel]


class Deleted(BaseModel):
    """`DELETE /jobs/{id}`: the jobs removed (a separate job takes its refinements along)."""

    deleted: list[str]


class Health(BaseModel):
    """`GET /health`: without the token only status and version (no paths, no configs)."""

    status: Literal["ok"]
    version: str
    device: str | None = None
    bundle: dict[str, Any] | None = None
    busy: bool | None = None
    queued: int | None = None


class ErrorBody(BaseModel):
    """Every error response."""

    error: str
    status: int
