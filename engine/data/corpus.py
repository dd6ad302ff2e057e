"""The offline source corpus: real recordings from Debian packages, labelled by explicit rules.

`fetch` downloads .deb files with `apt-get download` (never installing), `unpack` extracts them
with `dpkg-deb -x` (and zip containers such as ufoai's 0snd.pk3), `build` labels files with the
rules of `corpus_rules`, resamples to 32 kHz mono FLAC and writes `manifest.csv` (label, role,
split by source file, package, source path, clip path, licence, duration). Every step is
idempotent and resumable; a missing package is reported and skipped. `pack` writes a compact
subset as OGG Vorbis with its own manifest, small enough to travel to a GPU machine.
"""

from __future__ import annotations

import csv
import hashlib
import re
import shutil
import subprocess
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.constants import CLASSES, SAMPLE_RATE
from engine.data.corpus_rules import BACKGROUND, INTERFERENCE, PACKAGES
from engine.errors import ScenesplitError
from engine.paths import cache_dir
from engine.progress import CancelToken, ProgressCallback, ProgressReporter

AUDIO_SUFFIXES = (".wav", ".ogg", ".oga", ".flac")
MANIFEST_FIELDS = (
    "label",
    "role",
    "split",
    "package",
    "source_path",
    "path",
    "licence",
    "duration",
)
MIN_SECONDS = 0.05
MAX_SECONDS = 30.0


def corpus_dir() -> Path:
    """Default corpus root: <cache>/corpus."""
    return cache_dir() / "corpus"


@dataclass
class StepReport:
    """What a step did per package: done, skipped (already there) and failed (with why)."""

    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def role_of(label: str) -> str:
    """'foreground' for a target class, else the label itself (interference / background)."""
    return "foreground" if label in CLASSES else label


def split_of(package: str, source_path: str) -> str:
    """Split by source file, stable across runs: 80 % train, 10 % valid, 10 % test."""
    h = int(hashlib.sha1(f"{package}/{source_path}".encode()).hexdigest()[:8], 16) % 10
    return "test" if h == 0 else "valid" if h == 1 else "train"


def label_for(package: str, source_path: str) -> str | None:
    """The label the package's rules give a file (None: not used)."""
    rules = PACKAGES[package].rules
    for pattern, label in rules:
        if re.search(pattern, source_path):
            return None if label == "skip" else label
    return None


def _check_packages(packages) -> list[str]:
    unknown = [p for p in packages if p not in PACKAGES]
    if unknown:
        raise ScenesplitError(
            f"unknown corpus package(s) {', '.join(unknown)}; known: {', '.join(PACKAGES)}"
        )
    return list(packages)


def _deb(root: Path, package: str) -> Path | None:
    found = sorted((root / "debs").glob(f"{package}_*.deb"))
    return found[-1] if found else None


def fetch(
    packages,
    root: str | Path | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    update_first: bool = False,
) -> StepReport:
    """Download the packages' .deb files into <root>/debs (already present: skipped)."""
    packages = _check_packages(packages)
    root = Path(root) if root else corpus_dir()
    (root / "debs").mkdir(parents=True, exist_ok=True)
    report = StepReport()
    reporter = ProgressReporter("fetch", len(packages), progress, cancel)
    updated = False
    for i, pkg in enumerate(packages):
        if _deb(root, pkg):
            report.skipped.append(pkg)
        else:
            for attempt in range(2):
                if (update_first or attempt == 1) and not updated:
                    subprocess.run(["apt-get", "update"], capture_output=True, text=True)
                    updated = True
                r = subprocess.run(
                    ["apt-get", "download", pkg], cwd=root / "debs", capture_output=True, text=True
                )
                if r.returncode == 0 and _deb(root, pkg):
                    report.done.append(pkg)
                    break
            else:
                err = [line for line in r.stderr.splitlines() if line.startswith("E:")]
                report.failed[pkg] = err[-1] if err else f"apt-get exit {r.returncode}"
        reporter.update(i + 1, pkg)
    return report


def unpack(
    packages,
    root: str | Path | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> StepReport:
    """Extract fetched packages into <root>/unpacked/<package> (and their zip containers)."""
    packages = _check_packages(packages)
    root = Path(root) if root else corpus_dir()
    report = StepReport()
    reporter = ProgressReporter("unpack", len(packages), progress, cancel)
    for i, pkg in enumerate(packages):
        dest = root / "unpacked" / pkg
        deb = _deb(root, pkg)
        if (dest / ".done").exists():
            report.skipped.append(pkg)
        elif deb is None:
            report.failed[pkg] = "not fetched"
        else:
            tmp = dest.with_name(pkg + ".part")
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            r = subprocess.run(
                ["dpkg-deb", "-x", str(deb), str(tmp)], capture_output=True, text=True
            )
            if r.returncode:
                report.failed[pkg] = r.stderr.strip() or "dpkg-deb failed"
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                for name in PACKAGES[pkg].containers:
                    for archive in tmp.rglob(name):
                        with zipfile.ZipFile(archive) as z:
                            for member in z.namelist():
                                if member.lower().endswith(AUDIO_SUFFIXES):
                                    z.extract(member, archive.parent / (archive.name + ".d"))
                shutil.rmtree(dest, ignore_errors=True)
                tmp.rename(dest)
                (dest / ".done").touch()
                report.done.append(pkg)
        reporter.update(i + 1, pkg)
    return report


def _clip_name(package: str, source_path: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", source_path.rsplit(".", 1)[0])[-80:]
    digest = hashlib.sha1(source_path.encode()).hexdigest()[:6]
    return f"{package}__{stem}_{digest}.flac"


def _convert(src: Path, dst: Path) -> float | None:
    """Read, mix to mono, resample to 32 kHz, trim silence, write FLAC; returns seconds."""
    import soundfile as sf

    from engine.audio import read_audio

    try:
        x = read_audio(src).mean(axis=0)
    except Exception:  # noqa: BLE001 - a broken file is skipped, not fatal
        return None
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if peak <= 1e-4:
        return None
    loud = np.nonzero(np.abs(x) > peak * 1e-3)[0]
    x = x[loud[0] : loud[-1] + 1][: int(MAX_SECONDS * SAMPLE_RATE)]
    if len(x) < MIN_SECONDS * SAMPLE_RATE:
        return None
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(dst.stem + ".part.flac")
    sf.write(
        str(tmp), (x / np.max(np.abs(x)) * 0.99).astype(np.float32), SAMPLE_RATE, subtype="PCM_16"
    )
    tmp.replace(dst)
    return len(x) / SAMPLE_RATE


def build(
    packages,
    root: str | Path | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> tuple[Path, StepReport]:
    """Label and convert unpacked files; write <root>/manifest.csv (rows of every package)."""
    import soundfile as sf

    packages = _check_packages(packages)
    root = Path(root) if root else corpus_dir()
    manifest = root / "manifest.csv"
    rows: dict[str, dict] = {}
    if manifest.exists():
        with open(manifest, newline="") as f:
            rows = {r["path"]: r for r in csv.DictReader(f) if r["package"] not in packages}
    report = StepReport()
    reporter = ProgressReporter("build", len(packages), progress, cancel)
    for i, pkg in enumerate(packages):
        base = root / "unpacked" / pkg
        if not (base / ".done").exists():
            report.failed[pkg] = "not unpacked"
            reporter.update(i + 1, pkg)
            continue
        count = 0
        for src in sorted(base.rglob("*")):
            if src.suffix.lower() not in AUDIO_SUFFIXES or not src.is_file():
                continue
            rel = src.relative_to(base).as_posix()
            label = label_for(pkg, rel)
            if label is None:
                continue
            dst = root / "clips" / label / _clip_name(pkg, rel)
            if dst.exists():
                seconds = sf.info(str(dst)).duration
            else:
                seconds = _convert(src, dst)
                if seconds is None:
                    continue
            path = dst.relative_to(root).as_posix()
            rows[path] = {
                "label": label,
                "role": role_of(label),
                "split": split_of(pkg, rel),
                "package": pkg,
                "source_path": rel,
                "path": path,
                "licence": PACKAGES[pkg].licence,
                "duration": f"{seconds:.3f}",
            }
            count += 1
            if count % 50 == 0 and cancel is not None:
                cancel.check()
        report.done.append(f"{pkg} ({count} clips)")
        reporter.update(i + 1, pkg)
    write_manifest(manifest, rows.values())
    return manifest, report


def write_manifest(path: Path, rows) -> None:
    """Write manifest rows (sorted by path) atomically."""
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=MANIFEST_FIELDS)
        w.writeheader()
        for row in sorted(rows, key=lambda r: r["path"]):
            w.writerow({k: row[k] for k in MANIFEST_FIELDS})
    tmp.replace(path)


def read_manifest(path: str | Path) -> list[dict]:
    """Rows of a manifest CSV."""
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def summarise(rows: list[dict]) -> dict[str, dict[str, float]]:
    """Per label: clip count and total seconds."""
    out: dict[str, dict[str, float]] = {}
    for r in rows:
        s = out.setdefault(r["label"], {"clips": 0, "seconds": 0.0})
        s["clips"] += 1
        s["seconds"] += float(r["duration"])
    return out


def pack(
    manifest: str | Path,
    out: str | Path,
    max_mb: float = 40.0,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Path:
    """Write a compact OGG Vorbis subset (balanced across labels, <= max_mb) with a manifest."""
    import soundfile as sf

    manifest = Path(manifest)
    rows = read_manifest(manifest)
    if not rows:
        raise ScenesplitError(f"{manifest} lists no clips; run `scenesplit corpus build` first")
    rng = np.random.default_rng(seed)
    by_label: dict[str, list[dict]] = {}
    for r in rows:
        by_label.setdefault(r["label"], []).append(r)
    for lst in by_label.values():
        rng.shuffle(lst)
    # Round-robin over labels so rare classes are kept; Vorbis q0.4 mono 32 kHz ~ 6 kB/s.
    order = []
    while any(by_label.values()):
        for lab in sorted(by_label):
            if by_label[lab]:
                order.append(by_label[lab].pop())
    out = Path(out)
    (out / "clips").mkdir(parents=True, exist_ok=True)
    budget = max_mb * 1e6
    used = 0
    kept = []
    reporter = ProgressReporter("pack", len(order), progress, cancel)
    for i, r in enumerate(order):
        dst_rel = Path("clips") / r["label"] / (Path(r["path"]).stem + ".ogg")
        dst = out / dst_rel
        if not dst.exists():
            audio, rate = sf.read(str(manifest.parent / r["path"]), dtype="float32")
            dst.parent.mkdir(parents=True, exist_ok=True)
            sf.write(str(dst), audio, rate, format="OGG", subtype="VORBIS")
        size = dst.stat().st_size
        if used + size > budget:
            dst.unlink()
            continue
        used += size
        kept.append({**r, "path": dst_rel.as_posix()})
        if i % 20 == 0:
            reporter.update(i + 1)
    write_manifest(out / "manifest.csv", kept)
    reporter.update(len(order), f"{len(kept)} clips, {used / 1e6:.1f} MB")
    return out / "manifest.csv"


__all__ = [
    "BACKGROUND",
    "INTERFERENCE",
    "build",
    "corpus_dir",
    "fetch",
    "label_for",
    "pack",
    "read_manifest",
    "split_of",
    "summarise",
    "unpack",
]
