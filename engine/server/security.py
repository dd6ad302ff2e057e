"""What keeps the engine server to itself: the bearer token and the folders it may read."""

from __future__ import annotations

import hmac
import json
import os
import secrets
from collections.abc import Sequence
from pathlib import Path

from engine.errors import ScenesplitError

OPEN_PATHS = frozenset({"/health"})
"""The only endpoints served without the token."""
NAME_MAX = 255
"""Longest file or folder name, in bytes, on the file systems we run on (Linux, macOS)."""


class Forbidden(ScenesplitError):
    """A path outside the folders the server was allowed to read."""

    status = 403


class BadPath(ScenesplitError):
    """A path that is not usable at all (relative, NUL bytes, ...)."""

    status = 400


def write_token_file(path: Path, token: str) -> None:
    """Write `token` to `path`, readable by the owner only (0600), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, (token + "\n").encode())
    finally:
        os.close(fd)
    os.replace(tmp, path)


def load_or_create_token(token_file: str | os.PathLike | None, workdir: Path) -> tuple[str, Path]:
    """The server's token and its file: read from `token_file` when that exists, otherwise a
    new random token written there (default `<workdir>/token`, a fresh one on every start)."""
    if token_file is not None:
        path = Path(token_file).expanduser().absolute()
        if path.exists() and not path.is_file():
            raise ScenesplitError(f"{path}: the token file is not a regular file")
        if path.is_file():
            mode = path.stat().st_mode & 0o777
            if mode & 0o077:
                # As OpenSSH does with private keys: a token others can read is no secret.
                raise ScenesplitError(
                    f"{path}: token file is readable by other users (mode {mode:04o}); "
                    f"run: chmod 600 {path}"
                )
            token = path.read_text().strip()
            if len(token) < 16:
                raise ScenesplitError(f"{path}: token is empty or shorter than 16 characters")
            return token, path
    else:
        path = workdir.absolute() / "token"
    token = secrets.token_urlsafe(32)
    write_token_file(path, token)
    return token, path


class PathPolicy:
    """Local files the server may read: only those under the allowed roots, symlinks resolved."""

    def __init__(self, roots: Sequence[str | os.PathLike] = ()):
        self.roots = [Path(r).expanduser().resolve() for r in roots]

    def check(self, path: str | os.PathLike, what: str = "file") -> Path:
        """The resolved path if it lies under an allowed root; Forbidden/BadPath otherwise."""
        text = os.fspath(path)
        if "\x00" in text:
            raise BadPath(f"{what} path contains a NUL byte")
        p = Path(text).expanduser()
        if not p.is_absolute():
            raise BadPath(f"{what} path must be absolute, got {text!r}")
        # The OS would answer ENAMETOOLONG from deep inside a check: refuse it here, as a 400.
        long = next((part for part in p.parts if len(os.fsencode(part)) > NAME_MAX), None)
        if long is not None:
            raise BadPath(
                f"{what} path has a name of {len(os.fsencode(long))} bytes "
                f"({long[:40]}...); the limit is {NAME_MAX}"
            )
        try:
            resolved = p.resolve()
        except (OSError, RuntimeError) as exc:  # symlink loops, unreadable components
            raise BadPath(f"{text}: cannot resolve path ({exc})") from None
        if not any(resolved.is_relative_to(root) for root in self.roots):
            if not self.roots:
                raise Forbidden(
                    f"{text}: this engine reads no local files (started without --allow-root); "
                    "upload the file instead"
                )
            allowed = ", ".join(str(r) for r in self.roots)
            raise Forbidden(f"{text}: outside the folders this engine may read ({allowed})")
        return resolved


class BearerAuth:
    """ASGI middleware: every request except `OPEN_PATHS` needs `Authorization: Bearer <token>`.

    Plain ASGI (not BaseHTTPMiddleware) so streamed responses pass through untouched.
    """

    def __init__(self, app, token: str):
        self.app = app
        self._token = token.encode()

    def _valid(self, given: bytes) -> bool:
        # RFC 7235: the scheme name is case-insensitive ("bearer", "BEARER" alike).
        scheme, _, credentials = given.partition(b" ")
        return scheme.lower() == b"bearer" and hmac.compare_digest(credentials.strip(), self._token)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = b""
        for name, value in scope["headers"]:
            if name == b"authorization":
                given = value
                break
        valid = bool(given) and self._valid(given)
        if scope["path"] in OPEN_PATHS:
            # Open paths answer everyone, but say more to a client that holds the token.
            scope.setdefault("state", {})["authenticated"] = valid
            await self.app(scope, receive, send)
            return
        if valid:
            await self.app(scope, receive, send)
            return
        message = "invalid token" if given else "missing token (send Authorization: Bearer <token>)"
        body = json.dumps({"error": message, "status": 401}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", b"Bearer"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
