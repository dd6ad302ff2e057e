"""Load official M2D encoder weights from a checkpoint file the user supplies.

Official files (e.g. `m2d_as_vit_base-80x1001p16x16p32k-240413_AS-FT_enconly/weights_ep69it3124-0.47998.pth`)
hold a timm-style ViT state dict, possibly wrapped (`{"model": ...}` or `{"state_dict": ...}`)
and prefixed (`module.ar.runtime.backbone.`, `module.`, `backbone.`, `encoder.` ...). Keys of
other parts of the training graph (the target encoder, the predictor/decoder, mask tokens, a
classification head) are ignored and listed in the result. `norm_stats` (mean, std of the
training log-mels) are read from the top level or from the state dict when present.

The ViT size is inferred from the shapes (width from `pos_embed`, depth from the block indices,
heads from the width: 64 per head as in every ViT size M2D publishes), and the number of time
patches from `pos_embed`. A file that lacks encoder keys, has unknown ones, or has shapes that
do not fit raises `M2DCheckpointError` naming the file and the keys.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import torch

from engine.errors import ScenesplitError
from engine.models.vit import FREQ_PATCHES, M2DEncoder

PREFIXES = (
    "module.ar.runtime.backbone.",
    "ar.runtime.backbone.",
    "runtime.backbone.",
    "module.backbone.",
    "module.encoder.",
    "module.",
    "backbone.",
    "encoder.",
)
# Parts of a training graph or fine-tuned model that are not the encoder.
IGNORED = re.compile(
    r"^(target_|decoder|predictor|mask_token|head\.|fc_norm\.|bn\.|ar\.|.*norm_stats$)"
)
_MAX_LISTED = 8


class M2DCheckpointError(ScenesplitError):
    """An M2D checkpoint that cannot be loaded; the message names the file and the keys."""

    def __init__(self, path, problem: str):
        self.path = str(path)
        super().__init__(f"{self.path}: {problem}")


@dataclass
class M2DWeights:
    """Encoder weights read from an official file, with what was inferred and ignored."""

    state_dict: dict[str, torch.Tensor]
    embed_dim: int
    depth: int
    num_heads: int
    max_time_patches: int
    norm_stats: tuple[float, float] | None = None
    ignored: list[str] = field(default_factory=list)


def _listed(keys: list[str]) -> str:
    more = f" and {len(keys) - _MAX_LISTED} more" if len(keys) > _MAX_LISTED else ""
    return ", ".join(keys[:_MAX_LISTED]) + more


def _strip(key: str) -> str:
    for prefix in PREFIXES:
        if key.startswith(prefix):
            return key[len(prefix) :]
    return key


def _unwrap(data, path) -> tuple[dict, tuple[float, float] | None]:
    if not isinstance(data, dict):
        raise M2DCheckpointError(path, f"expected a state dict, found {type(data).__name__}")
    stats = data.get("norm_stats")
    for key in ("model", "state_dict", "module"):
        if isinstance(data.get(key), dict):
            data = data[key]
            break
    for key, value in data.items():
        if stats is None and key.endswith("norm_stats"):
            stats = value
    if stats is not None:
        values = torch.as_tensor(stats, dtype=torch.float64).flatten().tolist()
        if len(values) != 2 or values[1] <= 0:
            raise M2DCheckpointError(path, f"norm_stats must be (mean, std > 0), got {values}")
        stats = (float(values[0]), float(values[1]))
    return data, stats


def read_m2d_weights(path: str | os.PathLike) -> M2DWeights:
    """Read and check an official M2D checkpoint; sizes inferred, foreign parts ignored."""
    path = Path(path)
    if not path.is_file():
        raise M2DCheckpointError(path, "M2D checkpoint not found")
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means unusable file
        raise M2DCheckpointError(
            path, f"not a readable PyTorch checkpoint ({exc.__class__.__name__})"
        ) from None
    raw, stats = _unwrap(raw, path)
    state, ignored = {}, []
    for key, value in raw.items():
        if not isinstance(value, torch.Tensor):
            continue
        name = _strip(key)
        if IGNORED.match(name):
            ignored.append(key)
        else:
            state[name] = value
    pos = state.get("pos_embed")
    if pos is None or pos.ndim != 3:
        found = _listed(sorted(state)) or "none"
        raise M2DCheckpointError(
            path,
            f"no ViT encoder found (missing pos_embed [1, 1 + 5*T', D]); encoder-like keys: {found}",
        )
    embed_dim = pos.shape[-1]
    n_tokens = pos.shape[1] - 1
    if n_tokens % FREQ_PATCHES:
        raise M2DCheckpointError(
            path,
            f"pos_embed has {pos.shape[1]} positions; expected 1 + 5 * T' (80 mel bins, "
            "16x16 patches, with a cls position)",
        )
    blocks = {int(m.group(1)) for k in state if (m := re.match(r"blocks\.(\d+)\.", k))}
    depth = max(blocks) + 1 if blocks else 0
    num_heads = max(1, embed_dim // 64)
    return M2DWeights(
        state_dict=state,
        embed_dim=embed_dim,
        depth=depth,
        num_heads=num_heads,
        max_time_patches=n_tokens // FREQ_PATCHES,
        norm_stats=stats,
        ignored=ignored,
    )


def load_m2d_encoder(
    encoder: M2DEncoder, weights: M2DWeights, path: str | os.PathLike = "<weights>"
) -> None:
    """Copy `weights` into `encoder`; M2DCheckpointError listing missing/unexpected/mismatched keys."""
    own = encoder.state_dict()
    missing = sorted(set(own) - set(weights.state_dict))
    unexpected = sorted(set(weights.state_dict) - set(own))
    mismatched = sorted(
        f"{k} {tuple(weights.state_dict[k].shape)} vs {tuple(own[k].shape)}"
        for k in set(own) & set(weights.state_dict)
        if weights.state_dict[k].shape != own[k].shape
    )
    problems = []
    if missing:
        problems.append(f"missing keys: {_listed(missing)}")
    if unexpected:
        problems.append(f"unexpected keys: {_listed(unexpected)}")
    if mismatched:
        problems.append(f"shape mismatch (file vs model): {_listed(mismatched)}")
    if problems:
        raise M2DCheckpointError(
            path, "not an M2D ViT encoder of this layout; " + "; ".join(problems)
        )
    encoder.load_state_dict({k: v.to(own[k].dtype) for k, v in weights.state_dict.items()})


def load_official_m2d(model, path: str | os.PathLike):
    """Load an official M2D encoder into an `M2DSC` (head and thresholds untouched).

    The model's size must match the file's (build it with `config_for_checkpoint`). Sets the
    front end's normalisation from the file's `norm_stats` when present. Returns the
    `M2DWeights` read (inferred sizes, ignored keys).
    """
    weights = read_m2d_weights(path)
    cfg = model.config
    if (weights.embed_dim, weights.depth) != (cfg.embed_dim, cfg.depth):
        raise M2DCheckpointError(
            path,
            f"encoder is {weights.embed_dim} dim x {weights.depth} blocks, model is "
            f"{cfg.embed_dim} x {cfg.depth}; build the model with config_for_checkpoint()",
        )
    load_m2d_encoder(model.encoder, weights, path)
    if weights.norm_stats is not None:
        model.frontend.set_norm_stats(*weights.norm_stats)
    return weights


def config_for_checkpoint(path: str | os.PathLike, **overrides):
    """An `SCConfig` whose encoder matches the official file at `path` (sizes, stats)."""
    from engine.models.m2d_sc import SCConfig

    w = read_m2d_weights(path)
    values = dict(
        embed_dim=w.embed_dim,
        depth=w.depth,
        num_heads=w.num_heads,
        max_time_patches=w.max_time_patches,
    )
    if w.norm_stats is not None:
        values.update(norm_mean=w.norm_stats[0], norm_std=w.norm_stats[1])
    values.update(overrides)
    return SCConfig(**values)


def m2dsc_from_official(path: str | os.PathLike, **overrides):
    """A new `M2DSC` sized for the official file at `path` with its encoder weights loaded.

    The head is untrained and the thresholds are the config default: fine-tune (the paper
    trains the last 2 blocks, see `M2DSC.freeze_except_last`) and calibrate before use.
    """
    from engine.models.m2d_sc import M2DSC

    model = M2DSC(config_for_checkpoint(path, **overrides))
    load_official_m2d(model, path)
    return model
