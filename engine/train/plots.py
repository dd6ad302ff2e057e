"""Plots of a finished SC run: the energy distribution of active vs silent validation items.

`python -m engine.train.plots RUN_DIR [--out PNG]` reads RUN_DIR/energies.npz (written by the
SC task's calibration) and draws both histograms with the calibrated thresholds.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from engine.constants import CLASSES


def energy_summary(npz: str | Path) -> dict[str, float]:
    """Counts, means and the share of silent items above their class threshold."""
    z = np.load(npz)
    energy, active, pred, thr = z["energy"], z["active"].astype(bool), z["pred"], z["thresholds"]
    said_silent = energy > thr[pred]
    return {
        "active_items": int(active.sum()),
        "silent_items": int((~active).sum()),
        "energy_active_mean": float(energy[active].mean()) if active.any() else float("nan"),
        "energy_silent_mean": float(energy[~active].mean()) if (~active).any() else float("nan"),
        "silent_detected": float(said_silent[~active].mean()) if (~active).any() else float("nan"),
        "active_kept": float((~said_silent[active]).mean()) if active.any() else float("nan"),
    }


def plot_energies(npz: str | Path, png: str | Path, title: str = "") -> Path:
    """Histogram of energies (active vs silent) with the per-class thresholds as ticks."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    z = np.load(npz)
    energy, active, thr = z["energy"], z["active"].astype(bool), z["thresholds"]
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(12, 4.5), gridspec_kw={"width_ratios": [3, 2]})
    lo, hi = float(energy.min()) - 0.5, float(energy.max()) + 0.5
    bins = np.linspace(lo, hi, 60)
    ax.hist(energy[active], bins, alpha=0.6, label=f"active ({active.sum()})", color="tab:blue")
    ax.hist(energy[~active], bins, alpha=0.6, label=f"silent ({(~active).sum()})", color="tab:red")
    for t in np.unique(thr):
        ax.axvline(t, color="k", lw=0.8, ls="--")
    ax.set_xlabel("energy  E(x) = -logsumexp(logits)")
    ax.set_ylabel("validation items")
    ax.legend()
    ax.set_title(title or "M2D-SC energy: active vs silent (dashed: calibrated thresholds)")
    bx.plot(thr, range(len(thr)), "o", color="k")
    bx.axvspan(
        float(energy[~active].min()) if (~active).any() else lo, hi, color="tab:red", alpha=0.1
    )
    bx.set_xlim(lo, hi)
    bx.grid(axis="x", alpha=0.3)
    bx.set_yticks(
        range(len(thr)),
        [CLASSES[i] if i < len(CLASSES) else str(i) for i in range(len(thr))],
        fontsize=7,
    )
    bx.set_xlabel("silence threshold per predicted class")
    bx.invert_yaxis()
    return save_figure(fig, png)


def save_figure(fig, png: str | Path) -> Path:
    """Lay out, write (creating the folder) and close a matplotlib figure; returns the path."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    png = Path(png)
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return png


def main(argv: list[str] | None = None) -> int:
    """Plot RUN_DIR/energies.npz and print its summary."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run_dir")
    p.add_argument("--out", help="PNG path (default RUN_DIR/energies.png)")
    args = p.parse_args(argv)
    npz = Path(args.run_dir) / "energies.npz"
    png = plot_energies(npz, args.out or Path(args.run_dir) / "energies.png")
    print(png)
    for key, value in energy_summary(npz).items():
        print(f"{key}: {value:.4g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
