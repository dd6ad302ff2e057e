"""SC thresholds recalibrated on the pipeline's own slots: which slots count as kept, and the
bundle rewritten in place (checkpoint buffer, bundle.json, notes) so a reload uses them."""

import json

import numpy as np
import soundfile as sf
import torch

from engine.cli.main import main
from engine.constants import CLASS_INDEX, NUM_CLASSES
from engine.models.m2d_sc import calibrate_thresholds
from engine.pipeline.bundle import load_bundle, make_random_bundle
from engine.pipeline.separator import Separator
from engine.pipeline.stages import ClassPrediction, WindowStages
from engine.train.recalibrate import SlotItems, collect_items


def write_scene(root, name, labels, n=32_000, seed=0):
    rng = np.random.default_rng(seed)
    targets = {label: 0.1 * rng.normal(size=n).astype(np.float32) for label in labels}
    mix = sum(targets.values()) + 0.01 * rng.normal(size=n).astype(np.float32)
    (root / "soundscape").mkdir(parents=True, exist_ok=True)
    (root / "oracle_target").mkdir(exist_ok=True)
    sf.write(str(root / "soundscape" / f"{name}.wav"), np.stack([mix] * 4).T, 32_000)
    for label, t in targets.items():
        sf.write(str(root / "oracle_target" / f"{name}_{label}.wav"), t, 32_000)


class ScriptedSeparator:
    """Returns fixed SC decisions per call: `[(classes[3], energies[3]), ...]` per stage."""

    def __init__(self, script):
        self.script = list(script)

    def run(self, mixture, cancel=None):
        cps = []
        for classes, energies in self.script.pop(0):
            probs = torch.full((1, 3, NUM_CLASSES), 0.01)
            for k, c in enumerate(classes):
                probs[0, k, CLASS_INDEX[c]] = 0.8
            index = torch.full((1, 3), -1)  # silence decisions must not hide the class
            cps.append(
                ClassPrediction(index, probs.max(-1).values, torch.tensor([energies]), probs)
            )
        return WindowStages([torch.zeros(1, 3, 8)], cps, cps[0])


def test_a_slot_is_kept_when_its_class_is_one_of_the_scenes_sources(tmp_path):
    write_scene(tmp_path, "a", ["Speech", "Doorbell"])
    write_scene(tmp_path, "b", ["Cough"], seed=1)
    stage_a = (["Speech", "Buzzer", "Doorbell"], [-9.0, -2.0, -5.0])
    stage_b = (["Cough", "Speech", "Cough"], [-7.0, -1.0, -3.0])
    items = collect_items(ScriptedSeparator([[stage_a, stage_a], [stage_b]]), tmp_path)
    assert items.keep.tolist() == [True, False, True] * 2 + [True, False, True]
    assert items.predicted.tolist()[:3] == [CLASS_INDEX[c] for c in stage_a[0]]
    assert items.energy.tolist()[-3:] == [-7.0, -1.0, -3.0]


def test_balanced_accuracy_of_a_threshold():
    items = SlotItems(
        torch.tensor([-9.0, -1.0, -5.0, -2.0], dtype=torch.float64),
        torch.tensor([0, 0, 1, 1]),
        torch.tensor([True, False, True, False]),
    )
    separating = torch.full((NUM_CLASSES,), -3.0)
    assert items.balanced_accuracy(separating) == 1.0
    assert items.balanced_accuracy(torch.full((NUM_CLASSES,), 0.0)) == 0.5  # keeps everything


def test_recalibrate_rewrites_the_bundle_in_place(tmp_path):
    bundle = make_random_bundle(tmp_path / "bundle", "tiny", seed=0)
    twin = make_random_bundle(tmp_path / "twin", "tiny", seed=0)
    data = tmp_path / "calibration"
    for i, labels in enumerate([["Speech"], ["Doorbell", "Cough"], ["Dishes"]]):
        write_scene(data, f"s{i}", labels, seed=i)
    before = load_bundle(bundle).sc.thresholds.clone()
    torch.manual_seed(0)
    items = collect_items(Separator(load_bundle(twin), "cpu"), data)
    expected = calibrate_thresholds(items.energy, items.predicted, items.keep)

    torch.manual_seed(0)
    assert main(["bundle", "recalibrate", str(bundle), "--data", str(data), "--device", "cpu"]) == 0
    meta = json.loads((bundle / "bundle.json").read_text())
    notes = meta["notes"]["recalibration"]
    assert notes["slots"] == 3 * 3 * 3  # 3 scenes x (CP 1-1 + 2 TSE rounds) x 3 slots
    assert notes["thresholds_before"] == [round(float(t), 4) for t in before]
    reloaded = load_bundle(bundle)  # the checkpoint's buffer, not only bundle.json, changed
    assert torch.allclose(reloaded.sc.thresholds, expected)
    assert reloaded.sc.thresholds.tolist() == meta["thresholds"]
