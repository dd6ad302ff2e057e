"""Spectrogram pictures of the procedural generators, one PNG per class (and per interference kind).

python -m engine.data.plots --out artifacts/data [--examples 3] [--split train]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from engine.constants import CLASSES, SAMPLE_RATE
from engine.data.generators import INTERFERENCE, generate_event


def plot_label(
    label: str, out: Path, examples: int, split: str, seed: int, duration: float
) -> Path:
    """Save `examples` spectrograms of `label` side by side as `<out>/<label>.png`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy import signal

    fig, axes = plt.subplots(1, examples, figsize=(4 * examples, 3), squeeze=False)
    for i, ax in enumerate(axes[0]):
        x = generate_event(np.random.default_rng([seed, i]), label, split, duration)
        f, t, s = signal.spectrogram(x, SAMPLE_RATE, nperseg=1024, noverlap=768)
        ax.pcolormesh(t, f / 1000, 10 * np.log10(s + 1e-10), vmin=-110, vmax=-30, shading="auto")
        ax.set_title(f"{label} #{i}", fontsize=9)
        ax.set_xlabel("s")
        ax.set_ylabel("kHz")
    fig.tight_layout()
    path = out / f"{label}.png"
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    """Write the pictures; with --wav also write the audio of the first example of each label."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", type=Path, default=Path("artifacts/data"))
    p.add_argument("--examples", type=int, default=3)
    p.add_argument("--split", default="train")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--duration", type=float, default=5.0)
    p.add_argument("--wav", action="store_true")
    p.add_argument("--labels", nargs="*", default=None)
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    labels = args.labels or list(CLASSES) + list(INTERFERENCE)
    for label in labels:
        print(plot_label(label, args.out, args.examples, args.split, args.seed, args.duration))
        if args.wav:
            import soundfile as sf

            x = generate_event(
                np.random.default_rng([args.seed, 0]), label, args.split, args.duration
            )
            sf.write(str(args.out / f"{label}.wav"), x, SAMPLE_RATE)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
