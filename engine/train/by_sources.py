"""Validation SI-SDRi of USS checkpoints by the number of foreground sources in the scene.

`python -m engine.train.by_sources CKPT [CKPT ...] [--manifest CSV]` scores each checkpoint
on the `cpu` recipe's fixed validation set, slots in the best-permutation order as in
training. It tells whether a separator learns the easy scenes and fails the crowded ones (or
the reverse), which the single validation mean hides.
"""

from __future__ import annotations

import argparse
import collections
from collections.abc import Iterable

import numpy as np
import torch
from torch import nn

from engine.losses import pit_order, reorder
from engine.metrics.separation import si_sdr


@torch.no_grad()
def si_sdri_by_sources(model: nn.Module, batches: Iterable[dict]) -> dict[int, tuple[float, int]]:
    """`{n_sources: (mean SI-SDRi of the active slots in dB, slots)}` over `batches`."""
    scores: dict[int, list[float]] = collections.defaultdict(list)
    for batch in batches:
        fg = model(batch["mixture"]).foreground
        fg = reorder(fg, pit_order(fg, batch["targets"]))
        est, ref = fg.double().numpy(), batch["targets"].double().numpy()
        mix = batch["mixture"][:, 0].double().numpy()
        for b in range(est.shape[0]):
            active = [k for k in range(ref.shape[1]) if int(batch["label_index"][b, k]) >= 0]
            for k in active:
                gain = si_sdr(est[b, k], ref[b, k]) - si_sdr(mix[b], ref[b, k])
                scores[len(active)].append(float(gain))
    return {n: (float(np.mean(v)), len(v)) for n, v in sorted(scores.items())}


def main(argv: list[str] | None = None) -> int:
    """Print one line per checkpoint."""
    from engine.models.checkpoint import load_checkpoint
    from engine.train.campaign import manifest_path
    from engine.train.config import named_config
    from engine.train.data import valid_dir, valid_loader

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("checkpoints", nargs="+", help="USS checkpoints (best.pt, last.pt, ...)")
    p.add_argument("--manifest", default=str(manifest_path()), help="the corpus manifest")
    args = p.parse_args(argv)
    cfg = named_config("uss", "cpu")
    cfg.data.manifest = args.manifest
    root = valid_dir(cfg.data)
    for path in args.checkpoints:
        model, meta = load_checkpoint(path)
        scores = si_sdri_by_sources(model, valid_loader(root, cfg.data, rank=0, world_size=1))
        cells = ", ".join(f"{n} sources {m:+.2f} dB ({k} slots)" for n, (m, k) in scores.items())
        print(f"{path} (step {meta.get('step')}): {cells}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
