"""Task parts without a training run: SC items and initialisation, TSE clues and enrollment."""

from __future__ import annotations

import pytest
import torch

from engine.losses.classification import kl_to_uniform
from engine.models.checkpoint import save_checkpoint
from engine.models.registry import build_model
from engine.train.config import named_config
from engine.train.distributed import DistInfo
from engine.train.tasks.m2d_pretrain import CONFIGS, M2DPretrainModel
from engine.train.tasks.sc import (
    SCTraining,
    crop_items,
    load_initial_weights,
    recentre_head,
    silence_f1,
)

CPU = DistInfo(0, 1, 0, torch.device("cpu"))


def scene_batch(b: int = 2, n: int = 16_000, seed: int = 0) -> dict[str, torch.Tensor]:
    """A fake collated batch: scene 0 has 2 active slots, scene 1 has 1."""
    g = torch.Generator().manual_seed(seed)
    targets = torch.randn(b, 3, n, generator=g) * 0.01
    label_index = torch.tensor([[3, 7, -1], [11, -1, -1]])[:b]
    active = label_index >= 0
    targets = targets * active[..., None]
    return {
        "mixture": torch.randn(b, 4, n, generator=g) * 0.01 + targets.sum(1, keepdim=True),
        "targets": targets,
        "interference": torch.zeros(b, 2, n),
        "noise": torch.zeros(b, 1, n),
        "label_index": label_index,
        "active": active,
    }


def sc_task(*overrides: str) -> SCTraining:
    from engine.train.config import apply_overrides

    task = SCTraining(apply_overrides(named_config("sc", "smoke"), list(overrides)), CPU)
    task.uss = None
    return task


def test_sc_items_are_active_targets_plus_seeded_silent_items():
    batch = scene_batch()
    task = sc_task("task.p_silent_items=0.5", "task.p_zero_silence=0.0")
    a = task.items(batch, torch.Generator().manual_seed(1))
    b = task.items(batch, torch.Generator().manual_seed(1))
    assert torch.equal(a["wave"], b["wave"])  # same step seed, same items
    assert a["label"][:3].tolist() == [3, 7, 11]
    n_silent = int((~a["active"]).sum())
    assert n_silent in (3, 4)  # 3 active items at p = 0.5 -> 3 silent expected
    silent = a["wave"][~a["active"]]
    # Residual silent items are 20-45 dB below the residual, never digital zeros here.
    residual = batch["mixture"][:, 0] - batch["targets"].sum(1)
    ratio_db = 10 * torch.log10(silent.pow(2).mean(-1) / residual.pow(2).mean(-1).max())
    assert bool((ratio_db < -19).all()) and bool((silent.abs().sum(-1) > 0).all())


def test_sc_items_never_empty_and_crop_keeps_the_peak():
    batch = scene_batch()
    batch["active"][:] = False
    batch["label_index"][:] = -1
    items = sc_task("task.p_silent_items=0.0").items(batch, torch.Generator().manual_seed(0))
    assert items["wave"].shape[0] >= 1 and not items["active"].any()
    waves = torch.zeros(3, 10_000)
    waves[0, 9_990] = 1.0
    waves[1, 5] = 1.0
    waves[2, 5_000] = 1.0
    cropped = crop_items(waves, 1_000, torch.Generator().manual_seed(0))
    assert cropped.shape == (3, 1_000) and torch.equal(cropped.abs().amax(-1), torch.ones(3))


def test_silence_f1_counts_silent_as_positive():
    energy = torch.tensor([-10.0, -2.0, 0.0, -8.0])
    pred = torch.tensor([0, 0, 1, 1])
    active = torch.tensor([True, False, False, True])
    thr = torch.tensor([-5.0, -5.0])
    assert silence_f1(energy, thr, pred, active) == 1.0
    assert silence_f1(energy, torch.tensor([-20.0, -20.0]), pred, active) == pytest.approx(2 / 3)


def test_sc_starts_from_an_m2d_pretrain_or_sc_checkpoint(tmp_path):
    torch.manual_seed(0)
    pre = M2DPretrainModel(CONFIGS["toy"])
    pre.frontend.set_norm_stats(-7.0, 3.0)
    pre.config.norm_mean, pre.config.norm_std = -7.0, 3.0
    save_checkpoint(tmp_path / "pre.pt", pre)
    sc = build_model("m2d_sc", "toy")
    load_initial_weights(sc, str(tmp_path / "pre.pt"))
    online = pre.pretrainer.online.state_dict()
    assert all(torch.equal(sc.encoder.state_dict()[k], online[k]) for k in online)
    assert float(sc.frontend.mean) == -7.0 and sc.config.norm_std == 3.0

    sc.thresholds.fill_(-4.25)
    save_checkpoint(tmp_path / "sc.pt", sc)
    other = build_model("m2d_sc", "toy")
    load_initial_weights(other, str(tmp_path / "sc.pt"))
    assert torch.equal(other.thresholds, sc.thresholds)


@pytest.fixture
def uss_checkpoint(tmp_path):
    """An untrained tiny USS checkpoint (a frozen separator for SC items and TSE enrollment)."""
    torch.manual_seed(0)
    return save_checkpoint(tmp_path / "uss.pt", build_model("deft_mamba_uss", "tiny"))


class SlotSwappingUSS(torch.nn.Module):
    """A stand-in separator whose foreground slots are the references in reversed order."""

    def __init__(self, targets: torch.Tensor):
        super().__init__()
        self.targets = targets

    def forward(self, mixture: torch.Tensor):
        from types import SimpleNamespace

        return SimpleNamespace(foreground=self.targets.flip(1) * 0.9)


def clean_items(data, n_scenes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The active targets of the first training scenes and their labels."""
    from engine.train.data import train_dataset

    dataset = train_dataset(data)
    scenes = [dataset[i] for i in range(n_scenes)]
    wave = torch.cat([s["targets"][s["active"]] for s in scenes])
    return wave, torch.cat([s["label_index"][s["active"]] for s in scenes])


def test_recentre_head_undoes_a_collapse_onto_one_direction(smoke):
    cfg = smoke("sc", "task.recentre_head=true")
    torch.manual_seed(0)
    model = build_model("m2d_sc", "toy").eval()
    direction = torch.nn.functional.normalize(torch.randn(model.config.embed_dim), dim=0)
    with torch.no_grad():
        # What the shipped classifier looked like: every embedding and class weight near one
        # direction (pairwise cosines ~0.93).
        model.encoder.norm.bias.add_(30 * direction)
        model.head.weight.copy_(direction + 0.05 * torch.randn_like(model.head.weight))
    norms = model.head.weight.norm(dim=-1).clone()

    r = recentre_head(model, cfg.data, torch.device("cpu"), n_scenes=16)

    assert r["cosine_before"] > 0.9 and abs(r["cosine_after"]) < 0.3
    assert r["accuracy_after"] >= r["accuracy_before"] and r["items"] > 0
    wave, label = clean_items(cfg.data, 16)
    with torch.no_grad():
        emb = model.embed(wave)
    # The embedding is centred exactly on the items, and each class present among them is
    # aimed at its own items; row norms (the optimiser's scale) are kept.
    assert emb.mean(0).norm() < 1e-3 * emb.norm(dim=-1).mean()
    assert torch.allclose(model.head.weight.norm(dim=-1), norms, rtol=1e-5)
    cos = model.head(emb)
    for k in label.unique().tolist():
        assert cos[label == k, k].mean() > cos[label == k].mean()
    assert not model.training


def test_sc_start_fresh_recentres_only_when_asked(smoke):
    model = build_model("m2d_sc", "toy")
    before = model.head.weight.detach().clone()
    off = SCTraining(smoke("sc"), CPU)
    assert off.start_fresh(model) == [] and torch.equal(model.head.weight, before)
    on = SCTraining(smoke("sc", "task.recentre_head=true"), CPU)
    (line,) = on.start_fresh(model)
    assert "recentred the classifier head" in line
    assert not torch.equal(model.head.weight, before)


def test_sc_with_a_frozen_uss_adds_its_outputs_as_items(uss_checkpoint):
    task = sc_task(f"task.uss_checkpoint={uss_checkpoint}", "task.p_silent_items=0.0")
    task.setup(build_model("m2d_sc", "toy"))
    assert task.uss is not None and not any(p.requires_grad for p in task.uss.parameters())
    batch = scene_batch()
    items = task.items(batch, torch.Generator().manual_seed(0))
    # 3 ground-truth targets + the USS's 6 slots, labelled by the reference each one matches.
    assert items["label"].shape == (9,) and items["label"][:3].tolist() == [3, 7, 11]
    assert sorted(items["label"][3:].tolist()) == [-1, -1, -1, 3, 7, 11]


def test_sc_labels_uss_outputs_by_the_reference_they_match_not_by_slot():
    # A PIT-trained USS puts sources in any slot: the label must follow the waveform.
    task = sc_task("task.p_silent_items=0.0")
    batch = scene_batch()
    task.uss = SlotSwappingUSS(batch["targets"])
    items = task.items(batch, torch.Generator().manual_seed(0))
    separated, labels = items["wave"][3:], items["label"][3:]
    assert labels.tolist() == [3, 7, -1, 11, -1, -1]
    assert torch.allclose(separated, 0.9 * batch["targets"].flatten(0, 1))


def test_sc_validation_scores_uss_outputs_when_fine_tuning_on_them():
    task = sc_task("task.p_silent_items=0.0")
    batch = scene_batch()
    task.uss = SlotSwappingUSS(batch["targets"])
    model = build_model("m2d_sc", "toy").eval()
    c = task.collect(model, [batch])
    assert int(c["separated"].sum()) == 6 and int((~c["separated"]).sum()) == 6
    scores = task.scores(model, c)
    assert {"accuracy_separated", "silence_f1_separated"} <= scores.keys()
    assert scores["score"] == pytest.approx(
        (scores["accuracy_separated"] + scores["silence_f1_separated"]) / 2
    )


def test_tse_batch_has_ground_truth_clues_and_uss_or_oracle_enrollment(uss_checkpoint):
    from engine.train.config import apply_overrides
    from engine.train.tasks.tse import TSETraining, class_clues

    batch = scene_batch()
    clues = class_clues(batch["label_index"])
    assert clues.shape == (2, 3, 18)
    assert clues[0, 0, 3] == 1 and clues[0, 1, 7] == 1 and clues[0, 2].sum() == 0
    assert clues.sum() == 3

    cfg = apply_overrides(named_config("tse", "smoke"), [f"task.uss_checkpoint={uss_checkpoint}"])
    task = TSETraining(cfg, CPU)
    task.setup(build_model("deft_mamba_tse", "tiny"))
    out = task.prepare_batch(dict(batch), torch.Generator().manual_seed(0))
    with torch.no_grad():
        separated = task.uss(batch["mixture"]).foreground
    assert torch.allclose(out["enrollment"], separated)
    # The references follow the USS's slot order (an untrained USS: some permutation of them).
    for b in range(2):
        assert sorted(out["label_index"][b].tolist()) == sorted(batch["label_index"][b].tolist())
        for k, label in enumerate(out["label_index"][b].tolist()):
            src = batch["label_index"][b].tolist().index(label)
            assert torch.equal(out["targets"][b, k], batch["targets"][b, src])
    assert torch.equal(out["clues"], class_clues(out["label_index"]))
    # Slot k holds the USS's estimate of one source with that source's target and clue, as
    # in the pipeline, where slot k's clue is the label read from its enrollment.
    task.uss = SlotSwappingUSS(batch["targets"])
    out = task.prepare_batch(dict(batch), torch.Generator().manual_seed(0))
    assert torch.equal(out["targets"], batch["targets"].flip(1))
    assert torch.equal(out["active"], batch["active"].flip(1))
    assert torch.equal(out["clues"], clues.flip(1))
    act = out["active"]
    assert torch.allclose(out["enrollment"][act], 0.9 * out["targets"][act])

    oracle = TSETraining(named_config("tse", "smoke"), CPU)
    oracle.setup(build_model("deft_mamba_tse", "tiny"))
    enr = oracle.prepare_batch(dict(batch), torch.Generator().manual_seed(0))["enrollment"]
    # The stand-in enrollment is the target plus leakage 5-25 dB below it.
    leak = enr - batch["targets"]
    act = batch["active"]
    ratio = 10 * torch.log10(leak[act].pow(2).mean(-1) / batch["targets"][act].pow(2).mean(-1))
    assert bool(((ratio > -25.1) & (ratio < -4.9)).all())


def test_sc_margin_zero_is_plain_softmax_and_default_is_the_models_arcface():
    torch.manual_seed(0)
    model = build_model("m2d_sc", "toy").eval()
    batch = {"wave": torch.randn(4, 16_000) * 0.1, "label": torch.tensor([0, 3, 5, -1])}
    batch["active"] = batch["label"] >= 0
    logits = model(batch["wave"]).float()
    active = batch["active"]
    plain, _ = sc_task("task.margin=0").loss(model, batch)
    kl = kl_to_uniform(logits[~active]).mean()
    ce = torch.nn.functional.cross_entropy(logits[active], batch["label"][active])
    assert plain.item() == pytest.approx((ce + kl).item(), rel=1e-5)
    default, parts = sc_task().loss(model, batch)
    # The margin lowers the target logit: the ArcFace loss is above the plain one.
    assert parts["arcface"] > ce.item() + 1e-3
    assert default.item() == pytest.approx(parts["arcface"] + parts["kl"], rel=1e-5)
