"""The engine's HTTP API (FastAPI): jobs, progress stream, results, refinement (ENGINE_API.md)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import FastAPI, Path, Query, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse

from engine import __version__
from engine.server.errors import install_error_handlers
from engine.server.jobs import TERMINAL
from engine.server.schemas import (
    Deleted,
    ErrorBody,
    Health,
    JobList,
    JobModel,
    JobOptions,
    RefineRequest,
    SubmitRequest,
    UploadParams,
)
from engine.server.security import OPEN_PATHS, BearerAuth
from engine.server.service import EngineService

KEEPALIVE_S = 15.0
"""A comment line this often on a quiet event stream, so proxies and clients see it alive."""

JobId = Annotated[str, Path(min_length=1, max_length=64, description="job id")]
Version = Annotated[
    str, Path(pattern=r"^(latest|[0-9]{1,9})$", description="version number or 'latest'")
]
_E = {"model": ErrorBody}
ERRORS: dict[int | str, dict[str, Any]] = {401: _E, 404: _E, 422: _E}


def _version(v: str) -> int | str:
    return v if v == "latest" else int(v)


def create_app(service: EngineService, token: str) -> FastAPI:
    """The FastAPI app serving `service`, every route but /health behind `token`."""
    app = FastAPI(
        title="Scenesplit engine",
        version=__version__,
        description="Separation jobs, progress, cancellation, results and refinement.",
    )
    app.state.service = service
    install_error_handlers(app)
    app.add_middleware(BearerAuth, token=token)
    store = service.store

    # Reads of in-memory state run on the event loop (no thread hop: they answer while a job
    # keeps the worker busy); handlers that touch files are plain functions (thread pool).
    @app.get(
        "/health",
        response_model=Health,
        response_model_exclude_none=True,
        responses={503: _E},
        tags=["engine"],
    )
    async def health(request: Request) -> dict:
        """Liveness (no token needed); with the token also device, model bundle and queue;
        503 if jobs cannot run."""
        body = service.health()
        if not getattr(request.state, "authenticated", False):
            return {"status": body["status"], "version": body["version"]}
        return body

    @app.get("/jobs", response_model=JobList, responses=ERRORS, tags=["jobs"])
    async def list_jobs() -> dict:
        """Every job, oldest first."""
        return {"jobs": store.list_public()}

    @app.post(
        "/jobs",
        status_code=202,
        response_model=JobModel,
        responses={**ERRORS, 400: _E, 403: _E, 409: _E, 429: _E},
        tags=["jobs"],
    )
    def submit(request: SubmitRequest) -> dict:
        """Separate a file the server may read (under one of its --allow-root folders)."""
        return service.submit_path(request.path, request.options)

    @app.post(
        "/jobs/upload",
        status_code=202,
        response_model=JobModel,
        responses={**ERRORS, 400: _E, 409: _E, 413: _E, 429: _E},
        tags=["jobs"],
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                },
            }
        },
    )
    async def upload(request: Request, params: Annotated[UploadParams, Query()]) -> dict:
        """Separate an uploaded file: the raw request body is the file's bytes."""
        length = request.headers.get("content-length")
        options = JobOptions(**params.model_dump(exclude={"filename"}))
        return await service.submit_upload(
            params.filename,
            options,
            request.stream(),
            int(length) if length and length.isdigit() else None,
        )

    @app.get("/jobs/{job_id}", response_model=JobModel, responses=ERRORS, tags=["jobs"])
    async def get_job(job_id: JobId) -> dict:
        """One job."""
        return store.public(job_id)

    @app.delete(
        "/jobs/{job_id}", response_model=Deleted, responses={**ERRORS, 409: _E}, tags=["jobs"]
    )
    def delete_job(job_id: JobId) -> dict:
        """Delete a finished job and its files; a separate job takes its refinements along.
        409 while it (or one of its refinements) is queued or running: cancel it first."""
        return {"deleted": service.delete(job_id)}

    @app.get(
        "/jobs/{job_id}/events",
        responses={
            **ERRORS,
            200: {"content": {"text/event-stream": {}}, "description": "job events"},
        },
        response_class=StreamingResponse,
        tags=["jobs"],
    )
    def events(job_id: JobId) -> StreamingResponse:
        """Server-sent events: `event: job` with the job JSON on every change, until it ends."""
        store.get(job_id)  # 404 before the stream starts
        return StreamingResponse(
            _job_events(service, job_id),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @app.post(
        "/jobs/{job_id}/cancel",
        response_model=JobModel,
        responses={**ERRORS, 409: _E},
        tags=["jobs"],
    )
    def cancel(job_id: JobId) -> dict:
        """Cancel a queued job, or stop a running one at its next batch (no partial results)."""
        return service.cancel(job_id)

    @app.get(
        "/jobs/{job_id}/versions/{version}/manifest",
        responses={**ERRORS, 409: _E},
        tags=["results"],
    )
    def manifest(job_id: JobId, version: Version) -> JSONResponse:
        """The manifest of a result version (tracks, clips, windows, history)."""
        return JSONResponse(service.manifest(job_id, _version(version)))

    @app.get(
        "/jobs/{job_id}/versions/{version}/stems/{filename}",
        responses={
            **ERRORS,
            409: _E,
            200: {"content": {"audio/wav": {}}, "description": "the stem"},
        },
        response_class=FileResponse,
        tags=["results"],
    )
    def stem(
        job_id: JobId, version: Version, filename: Annotated[str, Path(max_length=400)]
    ) -> FileResponse:
        """A stem WAV of a result version (names as listed in its manifest's tracks)."""
        path = service.stem_path(job_id, _version(version), filename)
        return FileResponse(path, media_type="audio/wav", filename=filename)

    @app.post(
        "/jobs/{job_id}/refine",
        status_code=202,
        response_model=JobModel,
        responses={**ERRORS, 400: _E, 403: _E, 409: _E, 429: _E},
        tags=["results"],
    )
    def refine(job_id: JobId, request: RefineRequest) -> dict:
        """Correct a result version; when done, the job's versions gain the new one."""
        return service.refine(job_id, request)

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schema.setdefault("components", {})["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer"}
            }
            schema["security"] = [{"bearer": []}]
            for path in OPEN_PATHS:
                for op in schema["paths"].get(path, {}).values():
                    op["security"] = []
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


async def _job_events(service: EngineService, job_id: str) -> AsyncIterator[str]:
    """The SSE body: the job now, then after every change (coalesced), until a terminal state."""
    store = service.store
    event = store.subscribe(job_id)
    try:
        changed = True
        while True:
            if changed:
                event.clear()
                job = store.public(job_id)
                yield f"event: job\ndata: {json.dumps(job)}\n\n"
                if job["state"] in TERMINAL:
                    return
            try:
                await asyncio.wait_for(event.wait(), KEEPALIVE_S)
                changed = True
            except TimeoutError:
                yield ": keep-alive\n\n"
                changed = False
    finally:
        store.unsubscribe(job_id, event)
