"""Every error of the HTTP API as `{"error": "<readable message>", "status": <code>}`."""

from __future__ import annotations

import errno
import sys
import traceback

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine.errors import ScenesplitError, os_error_message

MAX_LISTED_PROBLEMS = 5


def error_response(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    """The JSON error body with its status code."""
    return JSONResponse({"error": message, "status": status}, status_code=status, headers=headers)


def validation_message(errors: list[dict]) -> str:
    """Pydantic/FastAPI validation errors as one sentence naming each bad field."""
    parts = []
    for err in errors[:MAX_LISTED_PROBLEMS]:
        loc = ".".join(str(x) for x in err.get("loc", ())) or "request"
        msg = err.get("msg", "invalid")
        if err.get("type") == "json_invalid":
            parts.append(f"request body is not valid JSON ({err.get('ctx', {}).get('error', msg)})")
        else:
            parts.append(f"{loc}: {msg}")
    more = len(errors) - MAX_LISTED_PROBLEMS
    tail = f"; and {more} more" if more > 0 else ""
    return "invalid request: " + "; ".join(parts) + tail


def install_error_handlers(app: FastAPI) -> None:
    """Map every exception to the JSON error body (500 only for bugs)."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = str(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such endpoint: {request.method} {request.url.path}"
        elif exc.status_code == 405:
            message = f"method {request.method} is not allowed on {request.url.path}"
        return error_response(exc.status_code, message, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, validation_message(list(exc.errors())))

    @app.exception_handler(ScenesplitError)
    async def user_error(request: Request, exc: ScenesplitError) -> JSONResponse:
        return error_response(getattr(exc, "status", 400), str(exc))

    @app.exception_handler(OSError)
    async def environment(request: Request, exc: OSError) -> JSONResponse:
        # The server's own disk or limits: the client learns what, never the server's paths.
        if exc.errno == errno.ENAMETOOLONG:
            return error_response(400, f"a file name in the request is too long ({exc.strerror})")
        traceback.print_exception(exc, file=sys.stderr)
        return error_response(500, f"internal error: {os_error_message(exc, path=False)}")

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception) -> JSONResponse:
        traceback.print_exception(exc, file=sys.stderr)
        return error_response(500, f"internal error: {type(exc).__name__}: {exc}")
