"""One session of the CPU training campaign: resume, train, evaluate, ship when better, record.

`python -m engine.train.campaign --minutes 120` (or `bash packaging/cpu/campaign.sh 120`):

1. the run folders `runs/campaign/{uss,tse}` resume from the state kept in the repository
   (`packaging/cpu/state/*_last.pt`: weights, optimizer, step, CPU time) unless they hold a
   newer `last.pt` of their own;
2. the USS and the TSE train at once, one process and one thread each (on two cores this
   is ~1.5x the throughput of one two-thread process; never run other heavy work beside them),
   the TSE taking its enrollment from the USS of the state (the best weights so far; a
   TSE state trained from scratch is retired and the TSE restarts with its trunk copied from
   that USS, `TSE_INIT_FROM_USS`);
   both checkpoint every `valid_every` steps (a few CPU-minutes), and the campaign copies
   those checkpoints into `packaging/cpu/state/` every 15 minutes, so a stopped session loses
   little; `--tasks uss,sc` gives the second core to the classifier instead, fine-tuned from
   the shipped one on that USS's outputs (the pipeline classifies separated waveforms);
3. the best weights go through `bundle assemble` with the classifier (this session's
   fine-tune, else the shipped one), once with the
   shipped classifier's silence thresholds and once with thresholds recalibrated on the pipeline's
   outputs (`bundle recalibrate` on `calibration_valid`: 60 scenes of the valid split, seed
   20261201), and through the same held-out evaluation as every session (`heldout_test`: 50
   scenes of the test split, seed 20261130, never used in training or calibration). Each
   variant runs by default the number of TSE rounds (0, 1 or 2) whose output row has the best
   CA-SDRi (`pipeline.tse_rounds` in its bundle.json: a TSE that does not yet improve on the
   USS is not run); the better variant replaces the shipped bundle only when that CA-SDRi is
   higher than the shipped bundle's (found the same way), and in any case
4. the state is copied back to `packaging/cpu/state/` and the session's point (CPU-hours so far,
   scenes seen, every Table 1 row) is appended to `packaging/cpu/campaign.jsonl`, with the plot
   `packaging/cpu/campaign.png`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch

from engine.contract import PAPER_TSE_ROUNDS
from engine.paths import cache_dir
from engine.pipeline.stages import best_rounds, output_row
from engine.train.config import DataConfig

ROOT = Path(__file__).resolve().parents[2]
STATE = ROOT / "packaging" / "cpu" / "state"
CAMPAIGN = ROOT / "packaging" / "cpu" / "campaign.jsonl"
SHIPPED = ROOT / "engine" / "assets" / "bundle"
HELDOUT_SEED = 20261130
HELDOUT_SCENES = 50
CALIBRATION_SEED = 20261201
CALIBRATION_SCENES = 60
FINAL_ROW = output_row(PAPER_TSE_ROUNDS)
FIRST_ROW = "FSS 1 + CP 1"
TASKS = ("uss", "tse", "sc")
DEFAULT_TASKS = ("uss", "tse")
# The report fine-tunes M2D's last two blocks because its backbone is pretrained on AudioSet;
# ours learned from scratch on CPU (67 % on clean sources), so the whole network trains.
SC_FINETUNE_BLOCKS = -1
# Stage 2 (ArcFace + KL + 0.001 energy hinge): the stage-1 classifier's energies sit at ~27
# for active and silent items alike (every cosine ~ -0.85), so its silence thresholds barely
# separate; the hinge pulls active energies below m_in and silent ones above m_out.
SC_STAGE = 2
# The shipped classifier's embeddings and class weights had collapsed onto one direction
# (pairwise cosines ~0.93, every energy ~27: ArcFace's margin out of reach); each fine-tune
# starts from it with its head recentred on clean training items (`tasks.sc.recentre_head`).
SC_RECENTRE = True
# ArcFace's margin (0.5) kept the fine-tune collapsing: with a from-scratch backbone the
# target's theta + m sits near pi where its logit has no slope, and the loss fell by pushing
# every other cosine to -1 (energies of active and silent items both climbed to ~27 within
# 350 steps). Without the margin the loss is a plain scaled-cosine softmax.
SC_MARGIN = 0.0
# Sessions end without warning; while the trainers run, their checkpoints are copied into
# the repository's state this often, so a cut-off session still hands its steps on.
SAVE_STATE_EVERY_S = 15 * 60
# The TSE trained from scratch (sessions 1-5, on a batch whose clues and targets were in another
# slot order than its USS enrollment) lowered SI-SDRi each round. A TSE whose trunk starts as the state's best USS (`task.init_from_uss`) reproduces
# that USS at step 0 and learns from there to use its clues, so a from-scratch TSE state is
# retired (moved to `tse_scratch/`) the next time the TSE trains.
TSE_INIT_FROM_USS = True
# Where a separator's cosine ends, when not at the `cpu` recipe's 20,000 steps. The USS's
# validation SI-SDRi sat at 2.5 +- 0.3 dB from step ~3,800 to 4,782 at lr ~9e-4 (sessions 9-10):
# a plateau of the learning rate, not of the model, so session 11 anneals it (lr 9e-4 -> 1e-4
# at once, then to 1e-5 by step 6,000). A trainer at its end step is not launched; to train it
# further, raise its entry and give it a `RESTARTS` entry (raising the end step alone continues
# the old cosine near its floor). The TSE (USS-initialised at step 0 of its lineage) rose
# 3.2 -> 4.0 dB validation SI-SDRi over steps 525-1,449 at lr ~1e-3; session 12 anneals it the
# same way (lr ~2e-4 at once at step 1,449, to 1e-5 by 2,100: about one session's steps).
# Session 13 found both flat at their floors (USS 3.2 dB from step 5,400; TSE 4.20 +- 0.03 dB
# over steps 1,650-1,904) and re-warms the USS: a second cosine from step 5,811 at half the
# first peak, ending at 7,800 (about two sessions' steps beside the classifier). Session 14
# re-warms the TSE too (from 1,904, half its first peak, ending at 2,900: about two sessions'
# steps beside the USS): its enrollment USS improved (best 3.26 -> 3.39 dB) while the TSE sat
# at its floor, adding only ~0.4 dB SI-SDRi over the USS on the held-out set.
MAX_STEPS = {"uss": 7_800, "tse": 2_900}
# Warm restarts: (the step a new cycle starts at, its peak learning rate).
RESTARTS = {"uss": (5_811, 5e-4), "tse": (1_904, 5e-4)}


def heldout_dir() -> Path:
    """The fixed held-out test set (synthesised on first use, identical every session)."""
    return cache_dir() / "heldout_test"


def calibration_dir() -> Path:
    """The fixed calibration set of the silence thresholds (valid split)."""
    return cache_dir() / "calibration_valid"


def manifest_path() -> Path:
    """The corpus manifest of the Debian-package sources."""
    return cache_dir() / "corpus" / "manifest.csv"


def _run(cmd: list[str], **kw) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, **kw)


def _scenesplit() -> list[str]:
    return [sys.executable, "-m", "engine.cli.main"]


def ensure_data() -> None:
    """Corpus, held-out and calibration sets, built once per machine (deterministic)."""
    if not manifest_path().is_file():
        _run([*_scenesplit(), "corpus", "fetch", "--update"])
        _run([*_scenesplit(), "corpus", "build"])
    for folder, n, seed, split in (
        (heldout_dir(), HELDOUT_SCENES, HELDOUT_SEED, "test"),
        (calibration_dir(), CALIBRATION_SCENES, CALIBRATION_SEED, "valid"),
    ):
        if not (folder / "soundscape").is_dir():
            _run(
                [
                    *_scenesplit(),
                    "synth",
                    "--out",
                    str(folder),
                    "--n",
                    str(n),
                    "--seed",
                    str(seed),
                    "--split",
                    split,
                    "--manifest",
                    str(manifest_path()),
                ]
            )


def seed_runs(runs: Path) -> None:
    """Put the repository's state into run folders that have none (fresh clone).

    Both files: a trainer this session does not run still gives the bundle its best weights.
    """
    for task in ("uss", "tse"):
        folder = runs / task
        folder.mkdir(parents=True, exist_ok=True)
        for kind in ("last", "best"):
            state = STATE / f"{task}_{kind}.pt"
            if not (folder / f"{kind}.pt").is_file() and state.is_file():
                shutil.copy2(state, folder / f"{kind}.pt")


def save_state(runs: Path) -> list[Path]:
    """Copy the run folders' `last.pt` / `best.pt` of USS and TSE into the repository's state."""
    STATE.mkdir(parents=True, exist_ok=True)
    saved = []
    for task in ("uss", "tse"):
        for kind in ("last", "best"):
            src = runs / task / f"{kind}.pt"
            if src.is_file():
                dst = STATE / f"{task}_{kind}.pt"
                part = dst.with_name(f".{dst.name}.part")
                shutil.copy2(src, part)
                os.replace(part, dst)  # a reader never sees half a file
                saved.append(dst)
    return saved


def retire_scratch_tse(runs: Path) -> Path | None:
    """Move a from-scratch TSE run folder aside (see `TSE_INIT_FROM_USS`); returns where to."""
    last = runs / "tse" / "last.pt"
    if (
        not TSE_INIT_FROM_USS
        or not last.is_file()
        or run_config(last).get("task", {}).get("init_from_uss")
    ):
        return None
    dest = runs / "tse_scratch"
    shutil.rmtree(dest, ignore_errors=True)
    shutil.move(str(runs / "tse"), dest)
    return dest


def adopt(kit_out: Path, runs: Path) -> None:
    """Make the GPU kit's results the run folders' state (the campaign goes on from them)."""
    found = False
    for task in ("uss", "tse"):
        for kind in ("last", "best"):
            src = kit_out / f"{task}_{kind}.pt"
            if src.is_file():
                shutil.copy2(src, runs / task / f"{kind}.pt")
                found = True
    if not found:
        raise SystemExit(f"{kit_out}: no uss_/tse_ last.pt or best.pt to adopt")


def run_config(checkpoint: Path) -> dict[str, Any]:
    """The training config a run checkpoint records (plain data)."""
    extra = torch.load(checkpoint, weights_only=True, map_location="cpu").get("extra", {})
    return extra.get("train", {}).get("config", {})


def run_step(run_dir: Path) -> int:
    """The optimizer step a run folder's `last.pt` reached (0: no state yet)."""
    last = run_dir / "last.pt"
    if not last.is_file():
        return 0
    return int(torch.load(last, weights_only=True, map_location="cpu")["extra"]["trainer"]["step"])


def annealed(task: str, runs: Path) -> bool:
    """Whether `task`'s run has reached the end step `MAX_STEPS` gives it."""
    return task in MAX_STEPS and run_step(runs / task) >= MAX_STEPS[task]


def run_model(run_dir: Path) -> str | None:
    """The model size a run folder's `last.pt` trains (None: no state yet)."""
    last = run_dir / "last.pt"
    return run_config(last).get("model") if last.is_file() else None


def trainer_command(task: str, runs: Path, minutes: float) -> list[str]:
    """The `scenesplit train` command of one campaign trainer.

    USS and TSE resume their run folders on the model their state holds (the `cpu` tier's DeFT
    trunk or its U-Net control: the state decides), the TSE's enrollment from the state's best
    USS. The classifier is fine-tuned from the shipped one on that USS's outputs and on
    clean sources (every block, stage 2 loss, head recentred; the shipped `sc.pt` is its state:
    no optimizer is kept between sessions).
    """
    cmd = [*_scenesplit(), "train", task, "--out", str(runs / task), "--config", "cpu"]
    cmd += ["--max-minutes", str(minutes), f"data.manifest={manifest_path()}"]
    enrollment = STATE / "uss_best.pt"
    if task in ("tse", "sc") and enrollment.is_file():
        cmd.append(f"task.uss_checkpoint={enrollment}")
    if task == "sc":
        cmd += [f"task.init={SHIPPED / 'sc.pt'}", f"task.finetune_blocks={SC_FINETUNE_BLOCKS}"]
        cmd += [f"task.stage={SC_STAGE}", f"task.recentre_head={str(SC_RECENTRE).lower()}"]
        cmd.append(f"task.margin={SC_MARGIN}")
        # Each session's fine-tune restarts from the shipped classifier, so its cosine is the
        # session's: at a constant 3e-4 its validation score swung 0.42-0.49 from one 50-step
        # check to the next (session 12) and the best checkpoint was a draw.
        cmd.append("optim.time_schedule=true")
    else:
        if task in MAX_STEPS:
            cmd.append(f"max_steps={MAX_STEPS[task]}")
        if task in RESTARTS:
            start, peak = RESTARTS[task]
            cmd += [f"optim.restart_step={start}", f"optim.lr={peak}"]
        model = run_model(runs / task)
        if model:
            cmd.append(f"model={model}")
            # A resumed run records the config it is given: the lineage mark must come along,
            # or the next session would take this TSE for a from-scratch one and retire it
            # (the resume then overwrites the trunk it was initialised with).
            lineage = run_config(runs / task / "last.pt").get("task", {}).get("init_from_uss")
            if task == "tse" and lineage and enrollment.is_file():
                cmd.append(f"task.init_from_uss={enrollment}")
        elif task == "tse" and TSE_INIT_FROM_USS and enrollment.is_file():
            cmd.append(f"task.init_from_uss={enrollment}")
    return cmd


def train(runs: Path, minutes: float, tasks: tuple[str, ...]) -> None:
    """The `tasks` trainers concurrently, one thread each, for `minutes`, their checkpoints
    copied into the state every `SAVE_STATE_EVERY_S` meanwhile."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    procs = []
    for task in tasks:
        if annealed(task, runs):
            print(
                f"{task}: annealed at step {MAX_STEPS[task]} (MAX_STEPS); not trained", flush=True
            )
            continue
        cmd = trainer_command(task, runs, minutes)
        (runs / task).mkdir(parents=True, exist_ok=True)
        log = open(runs / f"{task}.log", "a")
        print("+", " ".join(cmd), flush=True)
        procs.append(subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT))
    next_save = time.monotonic() + SAVE_STATE_EVERY_S
    while any(p.poll() is None for p in procs):
        time.sleep(min(5.0, SAVE_STATE_EVERY_S))
        if time.monotonic() >= next_save:
            saved = save_state(runs)
            print(f"state saved: {', '.join(f.name for f in saved)}", flush=True)
            next_save += SAVE_STATE_EVERY_S
    codes = [p.returncode for p in procs]
    if any(codes):
        raise SystemExit(f"training failed (exit codes {codes}); see {runs}/*.log")


def classifier(runs: Path, tasks: tuple[str, ...]) -> Path:
    """The classifier a candidate bundle carries: this session's fine-tune, else the shipped."""
    tuned = runs / "sc" / "best.pt"
    return tuned if "sc" in tasks and tuned.is_file() else SHIPPED / "sc.pt"


def evaluate(bundle: Path, out_json: Path) -> dict[str, Any]:
    """Table 1 of a bundle on the held-out set (one thread: the cores' other half is free)."""
    _run(
        [
            *_scenesplit(),
            "evaluate",
            "--data",
            str(heldout_dir()),
            "--bundle",
            str(bundle),
            "--device",
            "cpu",
            "--json",
            str(out_json),
        ]
    )
    return json.loads(out_json.read_text())


def session_point(
    report: dict[str, Any],
    runs: Path,
    tasks: tuple[str, ...] = DEFAULT_TASKS,
    previous: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The campaign's record of this session: counters from the checkpoints + Table 1.

    `cpu_hours` is the separators' training so far: `previous` (the last point)'s figure plus
    what each of USS and TSE trained since (all of a run's hours when its counter went back:
    a retired lineage's hours stay counted).
    """
    point: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d"),
        "cpu_hours": (previous or {}).get("cpu_hours", 0.0),
    }
    if "sc" in tasks and (runs / "sc" / "last.pt").is_file():
        trainer = torch.load(runs / "sc" / "last.pt", weights_only=True)["extra"]["trainer"]
        point["sc_finetune_step"] = int(trainer["step"])
    for task in ("uss", "tse"):
        extra = torch.load(runs / task / "last.pt", weights_only=True)["extra"]
        trainer = extra["trainer"]
        batch = extra.get("train", {}).get("config", {}).get("data", {}).get("batch_size")
        point[f"{task}_step"] = int(trainer["step"])
        point[f"{task}_cpu_hours"] = round(float(trainer.get("cpu_s", 0.0)) / 3600, 3)
        before = (previous or {}).get(f"{task}_cpu_hours", 0.0)
        now = point[f"{task}_cpu_hours"]
        point["cpu_hours"] += now - before if now >= before else now
        point[f"{task}_scenes"] = int(
            trainer.get("scenes", int(trainer["step"]) * (batch or DataConfig.batch_size))
        )
    point["cpu_hours"] = round(point["cpu_hours"], 3)
    rows = report["rows"]
    point["rows"] = rows
    point["fss1_si_sdri"] = rows[FIRST_ROW]["si_sdri"]
    point["final_ca_sdri"] = rows[FINAL_ROW]["ca_sdri"]
    point["final_accuracy"] = rows[FINAL_ROW]["accuracy"]
    point["tse_rounds"] = rounds = best_rounds(rows)
    point["pipeline_ca_sdri"] = rows[output_row(rounds)]["ca_sdri"]
    return point


def shipped_score() -> float | None:
    """The held-out CA-SDRi of the shipped bundle's output, with its best TSE rounds, from its
    notes (None: never evaluated)."""
    meta = json.loads((SHIPPED / "bundle.json").read_text())
    rows = meta.get("notes", {}).get("heldout", {}).get("rows")
    return rows[output_row(best_rounds(rows))]["ca_sdri"] if rows else None


def main(argv: list[str] | None = None) -> int:
    """Run one campaign session (see the module docstring)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=120.0, help="training time of this session")
    p.add_argument("--runs", default=str(ROOT / "runs" / "campaign"))
    p.add_argument("--no-train", action="store_true", help="only evaluate, ship and record")
    p.add_argument(
        "--tasks",
        default=",".join(DEFAULT_TASKS),
        help="trainers of this session, one core each (uss, tse, sc: the classifier fine-tuned"
        " on the USS's outputs); with --no-train, whose results the candidate takes",
    )
    p.add_argument(
        "--adopt",
        metavar="DIR",
        help="first take {uss,tse}_{last,best}.pt from DIR (what the GPU kit brought back)",
    )
    p.add_argument(
        "--no-recalibrate",
        action="store_true",
        help="skip the variant with silence thresholds recalibrated on the pipeline's outputs",
    )
    args = p.parse_args(argv)
    tasks = tuple(t for t in args.tasks.split(",") if t)
    if not tasks or set(tasks) - set(TASKS):
        p.error(f"--tasks: a comma-separated list of {', '.join(TASKS)}, got {args.tasks!r}")
    runs = Path(args.runs)
    ensure_data()
    seed_runs(runs)
    if args.adopt:
        adopt(Path(args.adopt), runs)
    if not args.no_train:
        if "tse" in tasks and (retired := retire_scratch_tse(runs)):
            print(f"from-scratch TSE moved to {retired}; the TSE restarts from the USS", flush=True)
        train(runs, args.minutes, tasks)
    candidate = runs / "bundle"
    _run(
        [
            *_scenesplit(),
            "bundle",
            "assemble",
            "--uss",
            str(runs / "uss" / "best.pt"),
            "--tse",
            str(runs / "tse" / "best.pt"),
            "--sc",
            str(classifier(runs, tasks)),
            "--out",
            str(candidate),
            "--name",
            "scenesplit-cpu",
            "--half",
        ]
    )
    report = evaluate(candidate, runs / "heldout.json")
    from engine.train.curves import append_campaign_point, plot_campaign, read_campaign

    history = read_campaign(CAMPAIGN) if CAMPAIGN.is_file() else []
    previous = history[-1] if history else None
    point = session_point(report, runs, tasks, previous)
    point["thresholds"] = "as shipped"
    if not args.no_recalibrate:
        recalibrated = runs / "bundle_recalibrated"
        shutil.rmtree(recalibrated, ignore_errors=True)
        shutil.copytree(candidate, recalibrated)
        _run(
            [
                *_scenesplit(),
                "bundle",
                "recalibrate",
                str(recalibrated),
                "--data",
                str(calibration_dir()),
            ]
        )
        other = evaluate(recalibrated, runs / "heldout_recalibrated.json")
        other = session_point(other, runs, tasks, previous)
        point["variants"] = {
            "as shipped": point["pipeline_ca_sdri"],
            "recalibrated": other["pipeline_ca_sdri"],
        }
        if other["pipeline_ca_sdri"] > point["pipeline_ca_sdri"]:
            point = {**other, "thresholds": "recalibrated", "variants": point["variants"]}
            candidate = recalibrated
    before = shipped_score()
    point["shipped"] = before is None or point["pipeline_ca_sdri"] > before
    if point["shipped"]:
        from engine.train.bundle import add_heldout_notes, set_tse_rounds, ship_bundle

        set_tse_rounds(candidate, point["tse_rounds"])
        add_heldout_notes(candidate, point)
        ship_bundle(candidate, SHIPPED)
    save_state(runs)
    append_campaign_point(CAMPAIGN, point)
    plot_campaign(CAMPAIGN, CAMPAIGN.with_suffix(".png"))
    print(json.dumps({k: v for k, v in point.items() if k != "rows"}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
