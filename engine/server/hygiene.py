"""Keeping the engine's work directory bounded: what a killed server left, and old results.

Orphans are removed when the server starts (it holds the work directory then, so nothing is
being written): the upload of a job that was never recorded, half-written results and job
records, jobs half-way through deletion. The retention policy removes finished jobs by age
and by total size, at start and after every job.
"""

from __future__ import annotations

import datetime as _dt
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from engine.contract import TERMINAL_STATES
from engine.errors import ScenesplitError

JOB_FILE = "job.json"
TMP_PREFIX = ".tmp-"
DELETED_PREFIX = ".deleted-"
"""A job folder renamed for deletion: gone from the listing at once, removed after."""


@dataclass(frozen=True)
class RetentionPolicy:
    """Which finished jobs the server removes by itself (at start and after each job).

    A separate job and its refinements go together, judged by the newest of them; queued and
    running jobs are never removed.
    """

    max_age_days: float | None = 30.0
    """Remove jobs finished longer ago than this (None: any age is kept)."""
    max_total_gb: float | None = 20.0
    """Then remove the oldest until the jobs fit in this many GB (None: no limit)."""

    def __post_init__(self) -> None:
        for name in ("max_age_days", "max_total_gb"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ScenesplitError(f"{name} must be > 0 (or None for no limit), got {value}")


def clean_orphans(root: Path) -> list[Path]:
    """Remove what a killed server left in the jobs folder `root`; returns what went.

    Call only while this process holds the work directory (see `engine.server.workdir.workdir_lock`).
    """
    removed: list[Path] = []
    for child in sorted(root.iterdir()):
        if child.is_dir() and not child.is_symlink():
            if child.name.startswith(DELETED_PREFIX) or not (child / JOB_FILE).exists():
                # No job.json: an upload cut off by the kill, before its job was recorded.
                removed.append(child)
                continue
            removed += [p for p in child.iterdir() if _is_leftover(p)]
        elif child.name.endswith(".part"):
            removed.append(child)
    for path in removed:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return removed


def _is_leftover(path: Path) -> bool:
    """A half-written result folder or job record inside a job folder."""
    name = path.name
    return name.startswith(TMP_PREFIX) or (
        name.startswith(f".{JOB_FILE}.") and name.endswith(".part")
    )


def folder_bytes(path: Path) -> int:
    """Bytes of the files under `path` (symlinks not followed)."""
    total = 0
    for entry in os.scandir(path):
        try:
            if entry.is_dir(follow_symlinks=False):
                total += folder_bytes(Path(entry.path))
            else:
                total += entry.stat(follow_symlinks=False).st_size
        except OSError:  # removed while we looked
            continue
    return total


@dataclass
class _Family:
    """A separate job with its refinements: removed together, as old as its newest member."""

    id: str
    last: _dt.datetime
    finished: bool
    bytes: int = 0


def _time(job: dict) -> _dt.datetime:
    stamp = job.get("finished") or job.get("created") or ""
    try:
        t = _dt.datetime.fromisoformat(stamp)
    except ValueError:
        return _dt.datetime.now(_dt.UTC)  # unknown age: never too old
    return t if t.tzinfo else t.replace(tzinfo=_dt.UTC)


def _families(jobs: list[dict], job_dir) -> list[_Family]:
    ids = {j["id"] for j in jobs}
    families: dict[str, _Family] = {}
    for job in jobs:
        head = job["parent"] if job["kind"] == "refine" and job["parent"] in ids else job["id"]
        fam = families.setdefault(head, _Family(head, _time(job), True))
        fam.last = max(fam.last, _time(job))
        fam.finished = fam.finished and job["state"] in TERMINAL_STATES
        fam.bytes += folder_bytes(job_dir(job["id"])) if job_dir(job["id"]).is_dir() else 0
    return sorted(families.values(), key=lambda f: f.last)


def apply_retention(store, policy: RetentionPolicy, now: _dt.datetime | None = None) -> list[str]:
    """Delete the finished jobs `policy` no longer keeps, oldest first; returns their ids.

    Args:
        store: the server's `JobStore`.
        policy: the limits.
        now: the current time (tests).
    """
    now = now or _dt.datetime.now(_dt.UTC)
    families = _families(store.list_public(), store.job_dir)
    total = sum(f.bytes for f in families)
    removed: list[str] = []
    for fam in families:  # oldest first
        too_old = (
            policy.max_age_days is not None
            and (now - fam.last).total_seconds() > policy.max_age_days * 86400
        )
        too_big = policy.max_total_gb is not None and total > policy.max_total_gb * 1e9
        if not (too_old or too_big) or not fam.finished:
            continue
        try:
            removed += store.delete(fam.id)
        except ScenesplitError:  # became busy (a refinement came in) or went meanwhile
            continue
        total -= fam.bytes
        why = (
            "older than the retention limit" if too_old else "over the work directory's size limit"
        )
        print(f"scenesplit serve: removed job {fam.id} ({why})", file=sys.stderr)
    return removed
