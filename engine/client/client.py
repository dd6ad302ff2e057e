"""`EngineClient`: the Python client of the engine HTTP API (ENGINE_API.md).

Used by the editor, the plugins and `scenesplit separate --server`. Only httpx and the standard
library: importing it never loads torch.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from engine.contract import MANIFEST_FILE, TERMINAL_STATES, Operation
from engine.durable import write_text_durable
from engine.errors import ScenesplitError

STREAM_READ_TIMEOUT_S = 60.0
"""The server sends a keep-alive at least every 15 s; silence this long means it is gone."""


class EngineError(ScenesplitError):
    """A request the engine refused or could not answer; `status` is the HTTP status (None when
    the engine could not be reached) and the message is the server's `error` text."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.status = status


def _error_from(response: httpx.Response) -> EngineError:
    try:
        body = response.json()
        message = body.get("error") if isinstance(body, dict) else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        message = None
    if not message:
        text = response.text.strip()[:300] if response.content else ""
        message = f"HTTP {response.status_code} {response.reason_phrase}" + (
            f": {text}" if text else ""
        )
    return EngineError(message, response.status_code)


def plain_file_name(name: object, what: str = "file name") -> str:
    """`name` if it is a plain file name; EngineError otherwise.

    Names an engine sends (stems, job ids) become local paths: from a remote engine they must
    not reach outside the folder they are joined to, so folders, '.', '..' and NUL are refused.
    """
    if (
        not isinstance(name, str)
        or name in ("", ".", "..")
        or any(c in name for c in ("/", "\\", "\x00"))
    ):
        raise EngineError(f"the engine sent an unusable {what} {name!r}: not a plain file name")
    return name


def result_files(manifest: dict) -> list[str]:
    """The stem files a result manifest lists, each checked with `plain_file_name`."""
    return [plain_file_name(t.get("file"), "stem file name") for t in manifest.get("tracks", [])]


def _options(options: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in options.items() if v is not None}


class EngineClient:
    """A connection to one engine server (`url`, bearer `token`)."""

    def __init__(self, url: str, token: str, timeout: float = 30.0):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._http = httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )

    @classmethod
    def from_token_file(cls, url: str, token_file: str | os.PathLike) -> EngineClient:
        """A client whose token is read from `token_file`."""
        path = Path(token_file).expanduser()
        try:
            token = path.read_text().strip()
        except OSError as exc:
            raise EngineError(f"{path}: cannot read the engine token ({exc.strerror})") from None
        if not token:
            raise EngineError(f"{path}: the token file is empty")
        return cls(url, token)

    def __enter__(self) -> EngineClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    # -- plumbing ------------------------------------------------------------------------------

    def _request(self, method: str, path: str, **kw) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kw)
        except httpx.TimeoutException:
            raise EngineError(f"the engine at {self.url} did not answer in time") from None
        except httpx.HTTPError as exc:
            raise EngineError(f"cannot reach the engine at {self.url}: {exc}") from None
        if response.is_error:
            raise _error_from(response)
        return response

    def _json(self, method: str, path: str, **kw) -> Any:
        return self._request(method, path, **kw).json()

    # -- API -----------------------------------------------------------------------------------

    def health(self) -> dict:
        """Status, version, device, model bundle and queue of the engine."""
        return self._json("GET", "/health")

    def submit(self, path: str | os.PathLike, **options) -> dict:
        """Separate a local file by path; when the engine may not read it (403), upload it."""
        body = {"path": str(Path(path).expanduser().absolute()), "options": options}
        try:
            return self._json("POST", "/jobs", json=body)
        except EngineError as exc:
            if exc.status != 403:
                raise
        return self.upload(path, **options)

    def upload(self, path: str | os.PathLike, **options) -> dict:
        """Separate a local file by sending its bytes to the engine."""
        path = Path(path).expanduser()
        try:
            f = open(path, "rb")
        except OSError as exc:
            raise EngineError(f"{path}: cannot read ({exc.strerror})") from None
        with f:
            return self._json(
                "POST",
                "/jobs/upload",
                params={"filename": path.name, **_options(options)},
                content=f,
                headers={"Content-Type": "application/octet-stream"},
                timeout=httpx.Timeout(self.timeout, write=None, read=max(self.timeout, 120.0)),
            )

    def jobs(self) -> list[dict]:
        """Every job the engine knows, oldest first."""
        return self._json("GET", "/jobs")["jobs"]

    def job(self, job_id: str) -> dict:
        """One job."""
        return self._json("GET", f"/jobs/{job_id}")

    def events(self, job_id: str) -> Iterator[dict]:
        """The job after every change (server-sent events), ending with its terminal state."""
        timeout = httpx.Timeout(self.timeout, read=STREAM_READ_TIMEOUT_S)
        try:
            with self._http.stream("GET", f"/jobs/{job_id}/events", timeout=timeout) as response:
                if response.is_error:
                    response.read()
                    raise _error_from(response)
                for event, data in _parse_sse(response.iter_lines()):
                    if event != "job":
                        continue
                    job = json.loads(data)
                    yield job
                    if job.get("state") in TERMINAL_STATES:
                        return
        except httpx.TimeoutException:
            raise EngineError(f"the engine at {self.url} stopped sending progress") from None
        except httpx.HTTPError as exc:
            raise EngineError(f"lost the connection to the engine at {self.url}: {exc}") from None
        # The stream ended without a terminal state (server shutting down): say where it is.
        job = self.job(job_id)
        if job["state"] not in TERMINAL_STATES:
            raise EngineError(f"the engine closed the progress stream of job {job_id}")
        yield job

    def wait(self, job_id: str, on_update: Callable[[dict], None] | None = None) -> dict:
        """Follow a job until it ends; returns its final state (calls `on_update` on changes)."""
        last = None
        for job in self.events(job_id):
            last = job
            if on_update is not None:
                on_update(job)
        return last if last is not None else self.job(job_id)

    def cancel(self, job_id: str) -> dict:
        """Cancel a queued or running job (a running one ends "cancelled" at its next batch)."""
        return self._json("POST", f"/jobs/{job_id}/cancel")

    def delete(self, job_id: str) -> list[str]:
        """Delete a finished job and its files (a separate job takes its refinements along);
        EngineError 409 while it runs: cancel it first. Returns the ids deleted."""
        return self._json("DELETE", f"/jobs/{job_id}")["deleted"]

    def manifest(self, job_id: str, version: int | str = "latest") -> dict:
        """The manifest of a result version."""
        return self._json("GET", f"/jobs/{job_id}/versions/{version}/manifest")

    def download_stem(
        self, job_id: str, version: int | str, filename: str, dest: str | os.PathLike
    ) -> Path:
        """Save a stem to `dest` (a file, or a folder to put `filename` in), atomically."""
        dest = Path(dest)
        if dest.is_dir():
            dest = dest / plain_file_name(filename, "stem file name")
        tmp = dest.with_name(f".{dest.name}.part")
        url = f"/jobs/{job_id}/versions/{version}/stems/{filename}"
        timeout = httpx.Timeout(self.timeout, read=max(self.timeout, 120.0))
        try:
            with self._http.stream("GET", url, timeout=timeout) as response:
                if response.is_error:
                    response.read()
                    raise _error_from(response)
                with open(tmp, "wb") as f:
                    for chunk in response.iter_bytes(1 << 20):
                        f.write(chunk)
            os.replace(tmp, dest)
        except httpx.HTTPError as exc:
            raise EngineError(f"download of {filename} from {self.url} failed: {exc}") from None
        finally:
            tmp.unlink(missing_ok=True)
        return dest

    def download_version(
        self, job_id: str, version: int | str, folder: str | os.PathLike
    ) -> dict[str, Any]:
        """Save a result version's stems and then its manifest into `folder`; returns the
        manifest. Every stem name is checked before anything is written; the manifest comes
        last, so a folder with one holds the whole version."""
        manifest = self.manifest(job_id, version)
        files = result_files(manifest)
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name in files:
            self.download_stem(job_id, version, name, folder / name)
        write_text_durable(folder / MANIFEST_FILE, json.dumps(manifest, indent=1))
        return manifest

    def refine(self, job_id: str, operation: Operation, version: int | str = "latest") -> dict:
        """Queue a correction of a result version; the new version appears in the job's versions."""
        body = {"version": version, "operation": operation.to_dict()}
        return self._json("POST", f"/jobs/{job_id}/refine", json=body)


def _parse_sse(lines: Iterator[str]) -> Iterator[tuple[str, str]]:
    """(event, data) pairs of a server-sent event stream (comments skipped)."""
    event, data = "message", []
    for line in lines:
        if not line:
            if data:
                yield event, "\n".join(data)
            event, data = "message", []
        elif line.startswith(":"):
            continue
        else:
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "event":
                event = value
            elif name == "data":
                data.append(value)
    if data:
        yield event, "\n".join(data)
