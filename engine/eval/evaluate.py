"""`evaluate`: score a model bundle (every pipeline stage) or a folder of estimates on a set.

With a bundle, every configuration of the report's Table 1 is scored from one pipeline run per
scene (FSS 1 + CP 1 ... FSS 3 + CP 3), plus the oracle ideal-ratio-mask ceiling with true labels.
With `estimates`, files named `<soundscape>_<Label>.wav` from any system are scored as the
challenge does.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from engine.constants import CLASSES, REFERENCE_CHANNEL, SILENCE
from engine.errors import ScenesplitError
from engine.eval.oracle import ideal_ratio_mask_estimates
from engine.eval.references import iter_reference_scenes, read_estimates, soundscape_dir
from engine.eval.scoring import LabelTally, RowScores
from engine.metrics import confusion_matrix
from engine.progress import CancelToken, ProgressCallback, ProgressReporter

ORACLE_ROW = "oracle IRM + true labels"


def _tally_report(tally: LabelTally) -> dict[str, Any]:
    labels = [*CLASSES, SILENCE]
    ref = [r for r, _ in tally.pairs]
    est = [e for _, e in tally.pairs]
    return {
        "per_class": tally.counts.table(),
        "confusion": {"labels": labels, "matrix": confusion_matrix(ref, est, labels).tolist()},
    }


def evaluate_separator(
    separator,
    data_dir: str | os.PathLike,
    *,
    limit: int | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> dict[str, Any]:
    """Score every pipeline stage of `separator` on the scenes of `data_dir`."""
    n_total = len(list(soundscape_dir(data_dir).glob("*.wav")))
    n_total = min(n_total, limit) if limit else n_total
    reporter = ProgressReporter("evaluate", n_total, progress, cancel)
    rows: dict[str, RowScores] = {}
    oracle = RowScores()
    tally = LabelTally()
    for i, scene in enumerate(iter_reference_scenes(data_dir)):
        if limit and i >= limit:
            break
        y0 = scene.mixture[REFERENCE_CHANNEL]
        stages = separator.run(scene.mixture[None])
        table = stages.table_rows()
        for name, waves, pred in table:
            pairs = rows.setdefault(name, RowScores()).add_slots(
                waves[0].numpy(), pred.labels(0), scene.targets, y0
            )
        final_labels = table[-1][2].labels(0)
        tally.counts.add(final_labels, scene.targets)
        tally.pairs += pairs
        oracle.add_labelled(ideal_ratio_mask_estimates(y0, scene.targets), scene.targets, y0)
        reporter.update(i + 1, scene.name)
    return {
        "rows": {name: r.summary() for name, r in rows.items()},
        ORACLE_ROW: oracle.summary(),
        "final_row": list(rows)[-1] if rows else None,
        **_tally_report(tally),
        "options": {"tse_rounds": separator.tse_rounds, "device": str(separator.device)},
        "bundle": separator.bundle.describe(),
        "alignment": "SNRi/SI-SDRi: estimate slots assigned to references by max summed SNR",
    }


def evaluate_estimates(
    est_dir: str | os.PathLike,
    data_dir: str | os.PathLike,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> dict[str, Any]:
    """Score a folder of `<soundscape>_<Label>.wav` estimates (any system's) on `data_dir`."""
    est_dir = Path(est_dir)
    if not est_dir.is_dir():
        raise ScenesplitError(f"--estimates {est_dir}: not a folder")
    n_total = len(list(soundscape_dir(data_dir).glob("*.wav")))
    reporter = ProgressReporter("evaluate", n_total, progress, cancel)
    row, oracle, tally = RowScores(), RowScores(), LabelTally()
    found = 0
    for i, scene in enumerate(iter_reference_scenes(data_dir)):
        y0 = scene.mixture[REFERENCE_CHANNEL]
        est = read_estimates(est_dir, scene.name, y0.shape[0])
        found += len(est)
        row.add_labelled(est, scene.targets, y0)
        tally.counts.add(est, scene.targets)
        tally.pairs += [(lab, lab if lab in est else SILENCE) for lab in scene.targets]
        tally.pairs += [(SILENCE, lab) for lab in est if lab not in scene.targets]
        oracle.add_labelled(ideal_ratio_mask_estimates(y0, scene.targets), scene.targets, y0)
        reporter.update(i + 1, scene.name)
    return {
        "rows": {f"estimates ({est_dir.name})": row.summary()},
        ORACLE_ROW: oracle.summary(),
        **_tally_report(tally),
        "alignment": "estimates matched to references by label; SNRi over true positives",
        "estimates_found": found,
    }


def format_table(report: dict[str, Any]) -> str:
    """The rows as a text table like the report's Table 1."""
    rows = dict(report["rows"])
    rows[ORACLE_ROW] = report[ORACLE_ROW]
    width = max(len(n) for n in rows)

    def cell(v, unit):
        return f"{v:6.1f} {unit}" if v is not None else "     -  "

    lines = [
        f"{'configuration':<{width}}  {'SNRi':>9}  {'SI-SDRi':>9}  {'accuracy':>9}  {'CA-SDRi':>9}"
    ]
    for name, r in rows.items():
        lines.append(
            f"{name:<{width}}  {cell(r['snri'], 'dB')}  {cell(r['si_sdri'], 'dB')}  "
            f"{cell(r['accuracy'], '% ')}  {cell(r['ca_sdri'], 'dB')}"
        )
    n = next(iter(rows.values()))["scenes"]
    lines.append(f"({n} scenes)")
    return "\n".join(lines)


def confusion_text(report: dict[str, Any], top: int = 10) -> str:
    """The most frequent confusions (reference -> estimate), one per line."""
    labels = report["confusion"]["labels"]
    m = np.array(report["confusion"]["matrix"])
    pairs = [
        (m[i, j], labels[i], labels[j])
        for i in range(len(labels))
        for j in range(len(labels))
        if i != j and m[i, j]
    ]
    pairs.sort(reverse=True)
    return "\n".join(f"{n:4d}  {r} -> {e}" for n, r, e in pairs[:top]) or "no confusions"
