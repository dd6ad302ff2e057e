"""The GPU training kit: one device call turns a lent GPU into trained separators.

`bash packaging/gpu/train_all.sh --out $OUT [--budget-minutes 9] [--sources .pack]` installs the
carried wheels, then runs `python -m engine.train.gpu_kit`, which within the call's budget

1. builds the room banks and the validation set with all cores;
2. resumes the `cpu` USS and TSE from the campaign's state (`packaging/cpu/state/*_last.pt`,
   when they hold runs of the same model) and trains both **at once** on the one GPU (two
   processes, bf16, batch `KitPlan.batch_size`, the cores split between their DataLoaders),
   the TSE taking its enrollment from the state's best USS (oracle-degraded when none exists);
3. samples GPU utilisation and memory from `nvidia-smi` while they train;
4. copies back at most 8 files: `{uss,tse}_best.pt` (weights only), `{uss,tse}_last.pt` (the
   campaign resumes from them), `{uss,tse}_metrics.jsonl`, `train_all.log` and `summary.json`
   (scenes per second, GPU utilisation, peak GPU memory, the last validation figures);
5. with 30 s or more left, records the inference real-time factor of the `paper` sizes and of
   the shipped `cpu` bundle on the GPU (bf16).

`--dry-run` runs the same steps on this machine's CPU with toy models (`smoke` configs, bf16
autocast on CPU, a one-minute budget) and the same output layout; a test runs it. The sizes are
chosen in packaging/gpu/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from engine.train.config import named_config

ROOT = Path(__file__).resolve().parents[2]
STATE = ROOT / "packaging" / "cpu" / "state"
SHIPPED = ROOT / "engine" / "assets" / "bundle"
TASKS = ("uss", "tse")
MAX_FILES = 8
MAX_FILE_BYTES = 15 * 2**20  # the device tool takes back files of < 16 MiB
# Time kept after training: exporting and copying (~20 s) and the optional inference check.
RESERVE_S = 75.0
INFERENCE_MIN_S = 30.0
# What a device call may carry: the working tree (tracked and untracked-not-ignored files)
# plus the carried folders. The wheels of wheels.txt take ~3 MiB; the source pack the rest.
TRAVEL_LIMIT_BYTES = 64 * 2**20
WHEELS_BYTES = 4 * 2**20
PACK_MB = 24


@dataclass(frozen=True)
class KitPlan:
    """What one call trains, and with what: the same for both tasks."""

    config: str  # named training config of both tasks
    device: str
    batch_size: int  # scenes per step and process
    workers: int  # DataLoader workers per task
    valid_every: int
    precision: str = "bf16"
    inference_configs: tuple[str, ...] = ("paper",)  # sizes of random bundles to time
    inference_shipped: bool = True  # time the shipped bundle too
    inference_minutes: float = 1.0


def make_plan(dry_run: bool, cores: int) -> KitPlan:
    """The GPU plan (packaging/gpu/README.md has the arithmetic), or its CPU dry run."""
    if dry_run:
        return KitPlan(
            "smoke",
            "cpu",
            2,
            0,
            2,
            inference_configs=("tiny",),
            inference_shipped=False,
            inference_minutes=0.05,
        )
    # Synthesis is the bottleneck (~0.13 CPU-s per 4 s scene): every core but the two
    # training processes' own feeds a DataLoader.
    return KitPlan("cpu", "cuda", 32, max(1, (cores - 2) // 2), 50)


def overrides(plan: KitPlan, manifest: str) -> list[str]:
    """The dotted overrides both tasks train with."""
    out = [
        f"data.batch_size={plan.batch_size}",
        f"data.num_workers={plan.workers}",
        f"valid_every={plan.valid_every}",
        f"precision={plan.precision}",
        f"device={plan.device}",
        "data.room_workers=0",
    ]
    if manifest:
        out.append(f"data.manifest={manifest}")
    return out


def state_matches(checkpoint: Path, task: str, config: str) -> bool:
    """Whether `checkpoint` holds a `task` run of the model sizes `config` trains."""
    if not checkpoint.is_file():
        return False
    extra = torch.load(checkpoint, map_location="cpu", weights_only=True).get("extra", {})
    saved = extra.get("train", {})
    return saved.get("task") == task and saved.get("config", {}).get("model") == (
        named_config(task, config).model
    )


def seed_run(task: str, run_dir: Path, state: Path, config: str) -> str:
    """Copy the campaign's `last.pt` into a fresh run folder when it fits; say what happened."""
    run_dir.mkdir(parents=True, exist_ok=True)
    if (run_dir / "last.pt").is_file():
        return "resumes its own run folder"
    source = state / f"{task}_last.pt"
    if state_matches(source, task, config):
        shutil.copy2(source, run_dir / "last.pt")
        return f"resumes {source}"
    return "starts fresh" + (f" ({source} holds other sizes)" if source.is_file() else "")


class GpuSampler:
    """Samples `nvidia-smi` utilisation (%) and memory (MiB) every half second."""

    def __init__(self) -> None:
        self.util: list[float] = []
        self.mem: list[float] = []
        self.name = ""
        self._proc: subprocess.Popen | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> GpuSampler:
        if shutil.which("nvidia-smi") is None:
            return self
        query = "--query-gpu=name,utilization.gpu,memory.used"
        self._proc = subprocess.Popen(
            ["nvidia-smi", query, "--format=csv,noheader,nounits", "-lms", "500"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        return self

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            parts = [p.strip() for p in line.split(",")]
            if len(parts) >= 3:
                try:
                    self.util.append(float(parts[1]))
                    self.mem.append(float(parts[2]))
                    self.name = parts[0]
                except ValueError:
                    continue

    def stop(self) -> dict[str, Any] | None:
        """Summary of the samples (None without nvidia-smi)."""
        if self._proc is None:
            return None
        self._proc.terminate()
        self._proc.wait(timeout=10)
        if self._thread is not None:
            self._thread.join(timeout=5)
        if not self.util:
            return {"name": self.name, "samples": 0}
        return {
            "name": self.name,
            "samples": len(self.util),
            "util_mean_pct": round(statistics.fmean(self.util), 1),
            "util_median_pct": statistics.median(self.util),
            "util_max_pct": max(self.util),
            "memory_max_mib": max(self.mem),
        }


def _cli() -> list[str]:
    return [sys.executable, "-m", "engine.cli.main"]


def _say(text: str) -> None:
    print(f"[gpu-kit {time.strftime('%H:%M:%S')}] {text}", flush=True)


def prepare(plan: KitPlan, extra: list[str]) -> None:
    """Rooms and validation sets of both tasks, with every core."""
    for task in TASKS:
        subprocess.run(
            [*_cli(), "train", task, "--config", plan.config, "--prepare-only", *extra],
            check=True,
        )


def train_both(
    plan: KitPlan, runs: Path, minutes: float, extra: list[str], enrollment: Path | None
) -> dict[str, int]:
    """Both tasks at once for `minutes`; their exit codes."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    procs = {}
    for task in TASKS:
        cmd = [*_cli(), "train", task, "--config", plan.config, "--out", str(runs / task)]
        cmd += ["--max-minutes", f"{minutes:.2f}", *extra]
        if task == "tse" and enrollment is not None:
            cmd.append(f"task.uss_checkpoint={enrollment}")
        _say("+ " + " ".join(cmd))
        log = open(runs / f"{task}.out", "w")
        procs[task] = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    return {task: p.wait() for task, p in procs.items()}


def run_report(run_dir: Path, since: float) -> dict[str, Any]:
    """Steps, scenes per second and the last validation figures of this call's training."""
    rows = []
    metrics = run_dir / "metrics.jsonl"
    if metrics.is_file():
        rows = [json.loads(line) for line in metrics.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if r.get("time", 0) >= since]
    train = [r for r in rows if r["kind"] == "train"]
    valid = [r for r in rows if r["kind"] == "valid"]
    report: dict[str, Any] = {"train_rows": len(train), "valid_rows": len(valid)}
    if len(train) >= 2:
        first, last = train[0], train[-1]
        seconds = last["time"] - first["time"]
        report["steps"] = [first["step"], last["step"]]
        report["scenes_per_s"] = round((last["scenes"] - first["scenes"]) / max(seconds, 1e-9), 2)
        report["steps_per_s"] = round((last["step"] - first["step"]) / max(seconds, 1e-9), 3)
    if valid:
        report["last_valid"] = valid[-1]
        peaks = [r["gpu_peak_gib"] for r in valid if "gpu_peak_gib" in r]
        if peaks:
            report["gpu_peak_gib"] = round(max(peaks), 2)
    if (run_dir / "last.pt").is_file():
        trainer = torch.load(run_dir / "last.pt", map_location="cpu", weights_only=True)
        report["best"] = trainer["extra"]["trainer"].get("best")
    return report


def collect(runs: Path, out: Path) -> list[str]:
    """Weights, resumable state and metrics of both tasks into `out`; the files written."""
    written = []
    for task in TASKS:
        run = runs / task
        if (run / "best.pt").is_file():
            dst = out / f"{task}_best.pt"
            cmd = [*_cli(), "bundle", "export", str(run / "best.pt"), "--out", str(dst)]
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            if dst.stat().st_size > MAX_FILE_BYTES:
                subprocess.run([*cmd, "--half"], check=True, stdout=subprocess.DEVNULL)
            written.append(dst.name)
        last = run / "last.pt"
        if last.is_file() and last.stat().st_size <= MAX_FILE_BYTES:
            shutil.copy2(last, out / f"{task}_last.pt")
            written.append(f"{task}_last.pt")
        if (run / "metrics.jsonl").is_file():
            shutil.copy2(run / "metrics.jsonl", out / f"{task}_metrics.jsonl")
            written.append(f"{task}_metrics.jsonl")
    return written


def inference_speed(plan: KitPlan, seconds_left: float, out: Path) -> dict[str, Any]:
    """Real-time factor of the shipped bundle and of random `paper`-size bundles on the device."""
    results: dict[str, Any] = {}
    jobs = [("shipped", ["--bundle", str(SHIPPED)])] if plan.inference_shipped else []
    jobs += [(name, ["--config", name]) for name in plan.inference_configs]
    deadline = time.monotonic() + seconds_left
    for name, args in jobs:
        left = deadline - time.monotonic()
        if left < INFERENCE_MIN_S / 2:
            results[name] = {"skipped": "no time left"}
            continue
        report = out / f".bench_{name}.json"
        cmd = [*_cli(), "bench", "pipeline", *args, "--device", plan.device]
        cmd += ["--minutes", f"{plan.inference_minutes:g}", "--json", str(report)]
        try:
            subprocess.run(cmd, check=True, timeout=left, capture_output=True, text=True)
            row = json.loads(report.read_text())["rows"][0]
            results[name] = {k: row[k] for k in ("audio_s", "rtf", "windows") if k in row}
            if "peak_gpu_mb" in row:
                results[name]["peak_gpu_mb"] = round(row["peak_gpu_mb"])
        except (subprocess.SubprocessError, OSError, KeyError, ValueError) as exc:
            results[name] = {"failed": type(exc).__name__}
        finally:
            report.unlink(missing_ok=True)
    return results


def travel_bytes(root: Path, carry: list[Path]) -> dict[str, int]:
    """Bytes a device call would send: the working tree as git sees it, and each carried folder."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=root,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    tree = sum(
        (root / os.fsdecode(f)).stat().st_size for f in listed if (root / os.fsdecode(f)).is_file()
    )
    sizes = {"working tree": tree}
    for folder in carry:
        sizes[str(folder)] = sum(f.stat().st_size for f in Path(folder).rglob("*") if f.is_file())
    return sizes


def check_travel(carry: list[Path]) -> int:
    """Print what would travel; 1 when it passes the device tool's limit."""
    sizes = travel_bytes(ROOT, carry)
    for name, size in sizes.items():
        print(f"{name:>14}: {size / 2**20:6.1f} MiB")
    total = sum(sizes.values())
    ok = total <= TRAVEL_LIMIT_BYTES
    print(f"{'total':>14}: {total / 2**20:6.1f} MiB of {TRAVEL_LIMIT_BYTES / 2**20:.0f} MiB")
    if not ok:
        print("too much to travel: make the pack smaller (corpus pack --max-mb)")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    """Run the kit (see the module docstring)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", help="folder the device tool brings back ($OUT)")
    p.add_argument("--budget-minutes", type=float, default=9.0, help="the whole call's budget")
    p.add_argument("--sources", default="", help="compact source pack (corpus pack --out)")
    p.add_argument("--state", default=str(STATE), help="campaign state to resume from")
    p.add_argument("--runs", default="/tmp/scenesplit-kit", help="run folders")
    p.add_argument("--dry-run", action="store_true", help="toy sizes on this CPU, same steps")
    p.add_argument(
        "--check-travel", nargs="*", metavar="FOLDER", help="only report what would travel"
    )
    args = p.parse_args(argv)
    if args.check_travel is not None:
        return check_travel([Path(f) for f in args.check_travel])
    if not args.out:
        p.error("--out is required")

    t0 = float(os.environ.get("KIT_T0", time.time()))
    budget_s = args.budget_minutes * 60
    if args.dry_run:
        budget_s = min(budget_s, 150.0)
    out, runs, state = Path(args.out), Path(args.runs), Path(args.state)
    out.mkdir(parents=True, exist_ok=True)
    runs.mkdir(parents=True, exist_ok=True)
    cores = os.cpu_count() or 1
    plan = make_plan(args.dry_run, cores)
    if plan.device == "cuda" and not torch.cuda.is_available():
        _say("no CUDA device: use --dry-run on a CPU machine")
        return 2
    manifest = ""
    if args.sources:
        manifest = str((Path(args.sources) / "manifest.csv").resolve())
        if not Path(manifest).is_file():
            _say(f"{manifest}: not found (make the pack with `scenesplit corpus pack`)")
            return 2
    extra = overrides(plan, manifest)
    summary: dict[str, Any] = {"plan": asdict(plan), "cores": cores, "dry_run": args.dry_run}
    if torch.cuda.is_available():
        summary["gpu"] = torch.cuda.get_device_name(0)

    _say(f"plan {plan}; preparing rooms and validation sets on {cores} cores")
    prepare(plan, extra)
    for task in TASKS:
        summary[f"{task}_start"] = seed_run(task, runs / task, state, plan.config)
        _say(f"{task}: {summary[f'{task}_start']}")
    best_uss = state / "uss_best.pt"
    enrollment = best_uss if best_uss.is_file() else None
    summary["tse_enrollment"] = str(enrollment) if enrollment else "oracle-degraded"

    minutes = (budget_s - (time.time() - t0) - RESERVE_S) / 60
    if minutes <= 0.2:
        _say(f"no time left to train ({minutes:.2f} min after preparing)")
        return 3
    sampler = GpuSampler().start()
    started = time.time()
    _say(f"training both for {minutes:.2f} min")
    codes = train_both(plan, runs, minutes, extra, enrollment)
    summary["train_wall_s"] = round(time.time() - started, 1)
    summary["gpu_sampled"] = sampler.stop()
    summary["exit_codes"] = codes
    for task in TASKS:
        summary[task] = run_report(runs / task, started)

    written = collect(runs, out)
    left = budget_s - (time.time() - t0) - 10
    if left >= INFERENCE_MIN_S:
        _say(f"inference speed ({left:.0f} s left)")
        summary["inference"] = inference_speed(plan, left, out)
    summary["wall_s"] = round(time.time() - t0, 1)
    with open(out / "train_all.log", "a") as log:
        for task in TASKS:
            if (runs / task / "train.log").is_file():
                log.write(f"\n===== {task} train.log\n" + (runs / task / "train.log").read_text())
            if (runs / f"{task}.out").is_file():
                log.write(f"\n===== {task} output\n" + (runs / f"{task}.out").read_text()[-20000:])
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
    written += ["train_all.log", "summary.json"]
    assert len(set(written)) <= MAX_FILES, written
    _say(f"done in {summary['wall_s']:.0f} s; {', '.join(sorted(set(written)))}")
    return 0 if not any(codes.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
