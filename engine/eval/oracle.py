"""The oracle ceiling of a mask-based separator: an ideal ratio mask on channel 0's STFT."""

from __future__ import annotations

import numpy as np
import torch

from engine.dsp import istft, stft


def ideal_ratio_mask_estimates(
    y0: np.ndarray, targets: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Per target, `istft(|S| / (|S| + |Y0 - S|) * Y0)`: the best a real-valued mask can do.

    Shape: y0 `[N]`, each target `[N]` -> each estimate `[N]`.
    """
    if not targets:
        return {}
    n = y0.shape[0]
    y = stft(torch.as_tensor(y0, dtype=torch.float64)[None, None])
    out = {}
    for label, s in targets.items():
        spec = stft(torch.as_tensor(s, dtype=torch.float64)[None, None])
        mag, rest = spec.abs(), (y - spec).abs()
        mask = mag / (mag + rest + 1e-12)
        out[label] = istft(mask * y, n)[0, 0].numpy()
    return out
