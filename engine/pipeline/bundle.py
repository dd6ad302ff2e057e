"""Model bundle: a folder with the three checkpoints and a `bundle.json` describing them.

```
bundle/
  bundle.json   {"format", "name", "versions", "models": {"uss"|"tse"|"sc": {"file", "model",
                 "config", "step"}}, "thresholds": [18 energies],
                 "pipeline": {"tse_rounds": N}, "notes": {...}}
  uss.pt  tse.pt  sc.pt   plain-data checkpoints (engine.models.checkpoint)
```

`pipeline.tse_rounds` is how many TSE rounds separate with this bundle unless a user asks for
another number: the campaign sets it to the number whose held-out CA-SDRi is best (a TSE that
does not yet improve on the USS is not run by default). Absent: the report's 2.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from engine import __version__
from engine.contract import PAPER_TSE_ROUNDS, TSE_ROUNDS_MAX
from engine.durable import write_text_durable
from engine.errors import ScenesplitError
from engine.models.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from engine.models.registry import build_model

ROLES = {"uss": "deft_mamba_uss", "tse": "deft_mamba_tse", "sc": "m2d_sc"}
BUNDLE_FILE = "bundle.json"


class BundleError(ScenesplitError):
    """A model bundle that is missing or unusable."""


@dataclass
class Bundle:
    """The three loaded models and the bundle's description."""

    path: Path
    uss: nn.Module
    tse: nn.Module
    sc: nn.Module
    meta: dict[str, Any]

    @property
    def tse_rounds(self) -> int:
        """TSE rounds to run unless the user asks for another number (see the module doc)."""
        return int(self.meta.get("pipeline", {}).get("tse_rounds", PAPER_TSE_ROUNDS))

    @property
    def name(self) -> str:
        """The bundle's name (folder name when none is recorded)."""
        return self.meta.get("name") or self.path.name

    def to(self, device: torch.device | str) -> Bundle:
        """Move all models to `device`."""
        for model in (self.uss, self.tse, self.sc):
            model.to(device)
        return self

    def describe(self) -> dict[str, Any]:
        """JSON-friendly summary: name, path, model names and configs, versions."""
        return {
            "name": self.name,
            "path": str(self.path),
            "models": {
                role: {k: v for k, v in info.items() if k != "file"}
                for role, info in self.meta.get("models", {}).items()
            },
            "versions": self.meta.get("versions", {}),
            "tse_rounds": self.tse_rounds,
            "notes": self.meta.get("notes", {}),
        }


def read_bundle_meta(path: str | os.PathLike) -> dict[str, Any]:
    """The parsed bundle.json of a bundle folder, with clear errors."""
    path = Path(path)
    meta_path = path / BUNDLE_FILE
    if not meta_path.is_file():
        raise BundleError(
            f"{path}: no model bundle here (missing {BUNDLE_FILE}); pass --bundle DIR or set "
            "SCENESPLIT_BUNDLE"
        )
    try:
        meta = json.loads(meta_path.read_text())
    except json.JSONDecodeError as exc:
        raise BundleError(f"{meta_path}: not valid JSON ({exc})") from None
    missing = [role for role in ROLES if role not in meta.get("models", {})]
    if missing:
        raise BundleError(f"{meta_path}: no entry for {', '.join(missing)}")
    rounds = meta.get("pipeline", {}).get("tse_rounds", PAPER_TSE_ROUNDS)
    if type(rounds) is not int or not 0 <= rounds <= TSE_ROUNDS_MAX:
        raise BundleError(
            f"{meta_path}: pipeline.tse_rounds must be a whole number from 0 to "
            f"{TSE_ROUNDS_MAX}, got {rounds!r}"
        )
    return meta


def load_bundle(path: str | os.PathLike, device: str | torch.device = "cpu") -> Bundle:
    """Load the three models of a bundle folder in eval mode on `device`."""
    path = Path(path)
    meta = read_bundle_meta(path)
    models = {}
    for role, expected in ROLES.items():
        file = path / meta["models"][role]["file"]
        try:
            model, ckpt = load_checkpoint(file, device)
        except CheckpointError as exc:
            raise BundleError(str(exc)) from None
        if ckpt["model"] != expected:
            raise BundleError(f"{file}: holds a {ckpt['model']} model, expected {expected}")
        models[role] = model
    return Bundle(path, models["uss"], models["tse"], models["sc"], meta)


def save_bundle(
    path: str | os.PathLike,
    uss: nn.Module,
    tse: nn.Module,
    sc: nn.Module,
    *,
    name: str = "",
    steps: dict[str, int] | None = None,
    notes: dict[str, Any] | None = None,
    half: bool = False,
) -> Path:
    """Write a bundle folder (checkpoints first, bundle.json last, each atomically).

    `half` stores weights as float16 (half the size, for bundles that ship in the repository).
    """
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    steps = steps or {}
    models = {}
    for role, model in (("uss", uss), ("tse", tse), ("sc", sc)):
        file = f"{role}.pt"
        save_checkpoint(
            path / file, model, step=steps.get(role, 0), dtype=torch.float16 if half else None
        )
        models[role] = {
            "file": file,
            "model": type(model).model_name,
            "config": _plain(model.config),
            "step": steps.get(role, 0),
        }
    thresholds = getattr(sc, "thresholds", None)
    meta = {
        "format": 1,
        "name": name or path.name,
        "versions": {"scenesplit": __version__, "torch": torch.__version__},
        "models": models,
        "thresholds": thresholds.tolist() if thresholds is not None else None,
        "notes": notes or {},
    }
    write_text_durable(path / BUNDLE_FILE, json.dumps(meta, indent=2))
    return path


def _plain(config: Any) -> dict[str, Any]:
    import dataclasses

    return dataclasses.asdict(config)


def make_random_bundle(
    path: str | os.PathLike, config: str = "tiny", seed: int = 0, sc_config: str | None = None
) -> Path:
    """A bundle of untrained models (for tests and plumbing); `config` names the model sizes."""
    torch.manual_seed(seed)
    uss = build_model(ROLES["uss"], config)
    tse = build_model(ROLES["tse"], config)
    sc = build_model(ROLES["sc"], sc_config or ("toy" if config == "tiny" else config))
    return save_bundle(path, uss, tse, sc, name=f"random-{config}", notes={"trained": False})


def copy_bundle(src: str | os.PathLike, dst: str | os.PathLike) -> Path:
    """Copy a bundle folder (e.g. to ship it)."""
    read_bundle_meta(src)
    shutil.copytree(src, dst, dirs_exist_ok=True)
    return Path(dst)
