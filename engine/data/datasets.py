"""PyTorch datasets of scenes: synthesised on the fly (seeded per item) or read from disk.

Both return dicts of tensors: mixture [4, N], targets [3, N], interference [2, N], noise [1, N]
(float32), label_index [3] (long, -1 for silence), active [3] (bool).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from engine.constants import CLASS_INDEX, SILENCE
from engine.data.dcase_layout import list_scenes, read_scene
from engine.data.scenes import Scene, SceneConfig, synthesize_scene
from engine.data.sources import SourcePool

# The entries of `scene_to_tensors` with one row per foreground slot.
SLOT_KEYS = ("targets", "label_index", "active")


def scene_to_tensors(scene: Scene) -> dict[str, torch.Tensor]:
    """The documented dict of tensors of one scene."""
    index = [CLASS_INDEX[label] if label != SILENCE else -1 for label in scene.labels]
    return {
        "mixture": torch.from_numpy(np.ascontiguousarray(scene.mixture, np.float32)),
        "targets": torch.from_numpy(np.ascontiguousarray(scene.targets, np.float32)),
        "interference": torch.from_numpy(np.ascontiguousarray(scene.interference, np.float32)),
        "noise": torch.from_numpy(np.ascontiguousarray(scene.noise, np.float32)),
        "label_index": torch.tensor(index, dtype=torch.long),
        "active": torch.tensor([i >= 0 for i in index], dtype=torch.bool),
    }


class SynthesizedScenes(Dataset):
    """`length` scenes synthesised on demand; item i is seeded by (base_seed, i).

    Worker-safe: nothing random is shared; each DataLoader worker loads its own room bank (from
    the disk cache) and source pool on first use.
    """

    def __init__(
        self,
        length: int,
        config: SceneConfig | None = None,
        split: str = "train",
        base_seed: int = 0,
        manifest: str | Path | None = None,
    ) -> None:
        if length <= 0:
            raise ValueError(f"length must be positive, got {length}")
        self.length = length
        self.config = config or SceneConfig()
        self.split = split
        self.base_seed = base_seed
        self.manifest = manifest
        self._sources: SourcePool | None = None

    def __len__(self) -> int:
        return self.length

    def _pool(self) -> SourcePool:
        if self._sources is None:
            cfg = self.config
            self._sources = (
                SourcePool.from_manifest(self.manifest, cfg.real_fraction)
                if self.manifest
                else SourcePool(real_fraction=cfg.real_fraction, lowpass_p=cfg.lowpass_p)
            )
        return self._sources

    def scene(self, index: int) -> Scene:
        """The Scene of item `index`."""
        if not 0 <= index < self.length:
            raise IndexError(f"index {index} out of range for {self.length} scenes")
        return synthesize_scene((self.base_seed, index), self.config, self.split, self._pool())

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return scene_to_tensors(self.scene(index))


class SceneFolder(Dataset):
    """A fixed set of scenes in the official layout (ours or the challenge's)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.names = list_scenes(self.root)
        if not self.names:
            raise ValueError(f"no soundscapes found under {self.root / 'soundscape'}")

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return scene_to_tensors(read_scene(self.root, self.names[index]))
