"""Learning curves against CPU time: validation metrics of training runs, and a campaign's points.

`python -m engine.train.curves RUN_DIR ... --out PNG [--metric si_sdri]` draws each run's
validation metric against CPU-hours (the `cpu_hours` its trainer logs; for runs logged before
that counter existed, elapsed wall time of its one-thread process stands in, and the legend
says so). `--campaign FILE.jsonl` draws a campaign's per-session points instead (see
`append_campaign_point`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from engine.train.logging import read_metrics
from engine.train.plots import save_figure


def validation_curve(run_dir: str | Path, metric: str = "si_sdri") -> dict[str, Any]:
    """`{"hours": [...], "values": [...], "steps": [...], "clock": "cpu" | "wall"}` of one run."""
    rows = read_metrics(Path(run_dir))
    if not rows:
        raise ValueError(f"{run_dir}: no metrics.jsonl records")
    t0 = rows[0]["time"]
    valid = [r for r in rows if r["kind"] == "valid" and metric in r]
    clock = "cpu" if valid and all("cpu_hours" in r for r in valid) else "wall"
    hours = [r["cpu_hours"] if clock == "cpu" else (r["time"] - t0) / 3600 for r in valid]
    return {
        "hours": hours,
        "values": [r[metric] for r in valid],
        "steps": [r["step"] for r in valid],
        "clock": clock,
    }


SMOOTH = 8
"""Validation checks in a learning curve's running mean."""


def plot_runs(runs: list[str | Path], png: str | Path, metric: str = "si_sdri") -> Path:
    """One line per run: validation `metric` against CPU-minutes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    for run in runs:
        c = validation_curve(run, metric)
        # parent/name: runs of one task in several experiment folders are all called "uss".
        label = "/".join(Path(run).parts[-2:]) + (" (wall clock)" if c["clock"] == "wall" else "")
        minutes = [h * 60 for h in c["hours"]]
        if len(c["values"]) < 2 * SMOOTH:
            ax.plot(minutes, c["values"], "o-", ms=3, label=label)
            continue
        # Validation on 48 scenes is noisy (+-1 dB from one check to the next): points, and
        # their running mean over SMOOTH checks as the line.
        (line,) = ax.plot(minutes, c["values"], "o", ms=2, alpha=0.3)
        values = c["values"]
        windows = [values[max(0, i - SMOOTH + 1) : i + 1] for i in range(len(values))]
        mean = [sum(w) / len(w) for w in windows]
        ax.plot(minutes, mean, "-", color=line.get_color(), label=f"{label}, mean of {SMOOTH}")
    ax.axhline(0.0, color="k", lw=0.6)
    ax.set_xlabel("CPU-minutes (one core)")
    ax.set_ylabel(f"validation {metric} (dB)" if "sdr" in metric else f"validation {metric}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f"Learning curves: validation {metric} against CPU time")
    return save_figure(fig, png)


def append_campaign_point(path: str | Path, point: dict[str, Any]) -> None:
    """Append one session's point (CPU-hours, scenes, Table 1 rows, ...) to a JSON-lines file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        f.write(json.dumps(point, sort_keys=True) + "\n")


def read_campaign(path: str | Path) -> list[dict[str, Any]]:
    """The points of a campaign file, in session order."""
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def plot_campaign(path: str | Path, png: str | Path) -> Path:
    """FSS 1 SI-SDRi, FSS 3 + CP 3 CA-SDRi and the CA-SDRi of the output with the best TSE
    rounds (what the bundle runs by default) of every session against cumulative CPU-hours."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = read_campaign(path)
    hours = [p["cpu_hours"] for p in points]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(hours, [p["fss1_si_sdri"] for p in points], "o-", label="FSS 1 SI-SDRi")
    ax.plot(hours, [p["final_ca_sdri"] for p in points], "s-", label="FSS 3 + CP 3 CA-SDRi")
    best = [(h, p["rows"]) for h, p in zip(hours, points, strict=True) if "rows" in p]
    if best:
        from engine.pipeline.stages import best_rounds, output_row

        ax.plot(
            [h for h, _ in best],
            [rows[output_row(best_rounds(rows))]["ca_sdri"] for _, rows in best],
            "^:",
            label="output CA-SDRi, best TSE rounds (shipped default)",
        )
    ax.axhline(8.0, color="tab:green", lw=0.8, ls="--", label="campaign target 8 dB")
    ax.set_xlim(left=0)
    ax.set_xlabel("CPU-hours of separator training so far")
    ax.set_ylabel("dB on the fixed held-out set")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(fig, png)


def main(argv: list[str] | None = None) -> int:
    """Plot runs' validation curves, or a campaign file."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs", nargs="*", help="run folders (holding metrics.jsonl)")
    p.add_argument("--out", required=True, help="PNG path")
    p.add_argument("--metric", default="si_sdri")
    p.add_argument("--campaign", help="a campaign JSON-lines file to plot instead of runs")
    args = p.parse_args(argv)
    if args.campaign:
        print(plot_campaign(args.campaign, args.out))
        return 0
    if not args.runs:
        p.error("give run folders or --campaign")
    print(plot_runs(args.runs, args.out, args.metric))
    for run in args.runs:
        c = validation_curve(run, args.metric)
        last = f"{c['values'][-1]:.2f} at step {c['steps'][-1]}" if c["values"] else "none"
        print(f"{run}: {len(c['values'])} validations, last {args.metric} {last}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
