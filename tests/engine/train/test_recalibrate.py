"""SC thresholds recalibrated on the pipeline's own slots: the CA-SDRi a threshold gives, the
offset chosen by it, and the bundle rewritten in place (checkpoint buffer, bundle.json, notes) so
a reload uses them."""

import json

import numpy as np
import pytest
import soundfile as sf
import torch

from engine.cli.main import main
from engine.constants import CLASS_INDEX, NUM_CLASSES
from engine.metrics import ca_sdri, snr_improvement
from engine.pipeline.bundle import load_bundle, make_random_bundle
from engine.pipeline.separator import Separator
from engine.pipeline.stages import ClassPrediction, WindowStages
from engine.train.recalibrate import StageSlots, best_offset, collect_stages, mean_ca_sdri


def write_scene(root, name, labels, n=32_000, seed=0):
    rng = np.random.default_rng(seed)
    targets = {label: 0.1 * rng.normal(size=n).astype(np.float32) for label in labels}
    mix = sum(targets.values()) + 0.01 * rng.normal(size=n).astype(np.float32)
    (root / "soundscape").mkdir(parents=True, exist_ok=True)
    (root / "oracle_target").mkdir(exist_ok=True)
    sf.write(str(root / "soundscape" / f"{name}.wav"), np.stack([mix] * 4).T, 32_000)
    for label, t in targets.items():
        sf.write(str(root / "oracle_target" / f"{name}_{label}.wav"), t, 32_000)
    return targets, mix


class ScriptedSeparator:
    """Returns fixed stages per call: `[(classes[3], energies[3], waves [3, N]), ...]`."""

    def __init__(self, script):
        self.script = list(script)

    def run(self, mixture, cancel=None):
        cps, fss = [], []
        for classes, energies, waves in self.script.pop(0):
            probs = torch.full((1, 3, NUM_CLASSES), 0.01)
            for k, c in enumerate(classes):
                probs[0, k, CLASS_INDEX[c]] = 0.8 - 0.1 * k
            index = torch.full((1, 3), -1)  # silence decisions must not hide the class
            cps.append(
                ClassPrediction(index, probs.max(-1).values, torch.tensor([energies]), probs)
            )
            fss.append(torch.as_tensor(waves, dtype=torch.float32)[None])
        return WindowStages(fss, cps, cps[0])


def test_each_stage_records_its_slots_gain_against_the_reference_of_its_class(tmp_path):
    targets, mix = write_scene(tmp_path, "a", ["Speech", "Doorbell"])
    waves = np.stack([targets["Speech"], 0.5 * mix, targets["Doorbell"] + 0.01 * mix])
    stage = (["Speech", "Buzzer", "Doorbell"], [-9.0, -2.0, -5.0], waves)
    stages = collect_stages(ScriptedSeparator([[stage, stage]]), tmp_path)
    assert len(stages) == 2
    first = stages[0]
    assert first.predicted.tolist() == [CLASS_INDEX[c] for c in stage[0]]
    assert first.energy.tolist() == [-9.0, -2.0, -5.0]
    assert first.n_sources == 2
    assert torch.isnan(first.gain[1])  # Buzzer is not in the scene
    expected = snr_improvement(waves[2], targets["Doorbell"], mix)
    assert first.gain[2].item() == pytest.approx(float(expected), abs=0.01)  # wav rounding
    assert first.gain[0] > 50  # the exact reference


def test_a_stages_ca_sdri_is_the_metrics_ca_sdri_of_the_slots_it_keeps():
    rng = np.random.default_rng(3)
    n = 4_000
    refs = {lab: rng.normal(size=n) for lab in ("Speech", "Doorbell", "Cough")}
    y0 = sum(refs.values())
    waves = [refs["Speech"] + 0.3 * y0, refs["Doorbell"] + 0.8 * y0, refs["Speech"] + 0.1 * y0]
    labels = ["Speech", "Doorbell", "Speech"]  # two Speech slots: the more confident one counts
    prob = torch.tensor([0.5, 0.9, 0.7], dtype=torch.float64)
    energy = torch.tensor([-6.0, -4.0, -2.0], dtype=torch.float64)
    gain = torch.tensor(
        [float(snr_improvement(w, refs[lab], y0)) for w, lab in zip(waves, labels, strict=True)],
        dtype=torch.float64,
    )
    stage = StageSlots(energy, torch.tensor([CLASS_INDEX[c] for c in labels]), prob, gain, 3)
    for thr, kept in ((-7.0, []), (-5.0, [0]), (-3.0, [0, 1]), (0.0, [0, 1, 2])):
        by_prob = sorted(kept, key=lambda k: -float(prob[k]))
        estimates = {}
        for k in by_prob:
            estimates.setdefault(labels[k], waves[k])
        expected = ca_sdri(estimates, refs, y0)
        assert stage.ca_sdri(torch.full((NUM_CLASSES,), thr)) == pytest.approx(expected)


def test_the_offset_keeps_sources_the_base_thresholds_drop_and_drops_leaked_mixtures():
    speech, buzzer = CLASS_INDEX["Speech"], CLASS_INDEX["Buzzer"]
    nan = float("nan")
    # Real sources sit just above the base threshold (-3): dropped as silence by it; leaked
    # mixtures called Buzzer (not in the scenes) sit higher still.
    stages = [
        StageSlots(
            torch.tensor([-2.5, -0.5], dtype=torch.float64),
            torch.tensor([speech, buzzer]),
            torch.tensor([0.9, 0.8], dtype=torch.float64),
            torch.tensor([6.0, nan], dtype=torch.float64),
            1,
        )
        for _ in range(4)
    ]
    base = torch.full((NUM_CLASSES,), -3.0)
    offset, score = best_offset(stages, base)
    assert mean_ca_sdri(stages, base) == 0.0
    assert -2.5 < -3.0 + offset < -0.5
    assert score == pytest.approx(6.0)


def test_recalibrate_rewrites_the_bundle_in_place(tmp_path):
    bundle = make_random_bundle(tmp_path / "bundle", "tiny", seed=0)
    twin = make_random_bundle(tmp_path / "twin", "tiny", seed=0)
    data = tmp_path / "calibration"
    for i, labels in enumerate([["Speech"], ["Doorbell", "Cough"], ["Dishes"]]):
        write_scene(data, f"s{i}", labels, seed=i)
    before = load_bundle(bundle).sc.thresholds.clone()
    torch.manual_seed(0)
    stages = collect_stages(Separator(load_bundle(twin), "cpu"), data)
    offset, _ = best_offset(stages, before)
    expected = before + offset

    torch.manual_seed(0)
    assert main(["bundle", "recalibrate", str(bundle), "--data", str(data), "--device", "cpu"]) == 0
    meta = json.loads((bundle / "bundle.json").read_text())
    notes = meta["notes"]["recalibration"]
    assert notes["stages"] == 3 * 3  # 3 scenes x (CP 1-1 + 2 TSE rounds)
    assert notes["slots"] == 3 * 3 * 3
    assert notes["ca_sdri_after"] >= notes["ca_sdri_before"]
    assert notes["thresholds_before"] == [round(float(t), 4) for t in before]
    reloaded = load_bundle(bundle)  # the checkpoint's buffer, not only bundle.json, changed
    assert torch.allclose(reloaded.sc.thresholds, expected)
    assert reloaded.sc.thresholds.tolist() == meta["thresholds"]
