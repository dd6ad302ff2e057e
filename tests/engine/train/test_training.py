"""The training loop on every module's smoke config: loss falls, resume is exact, files load."""

from __future__ import annotations

import json

import pytest
import torch

from engine.errors import Cancelled
from engine.models.checkpoint import load_checkpoint
from engine.progress import CancelToken
from engine.train.checkpoints import BEST, CONFIG_JSON, LAST
from engine.train.config import config_from_dict
from engine.train.logging import read_metrics
from engine.train.loop import train
from engine.train.plots import energy_summary, plot_energies


def quiet(_line: str) -> None:
    """Keep test output clean."""


METRIC = {"uss": "ca_sdri", "tse": "ca_sdri", "sc": "score", "m2d-pretrain": "loss"}


@pytest.mark.parametrize("task", ["uss", "tse", "sc", "m2d-pretrain"])
def test_smoke_config_loss_falls_on_a_fixed_batch(task, smoke, tmp_path):
    steps = 4 if task in ("uss", "tse") else 6
    batch = 1 if task in ("uss", "tse") else 2
    cfg = smoke(
        task,
        "data.overfit=true",
        f"max_steps={steps}",
        "valid_every=100",
        f"data.batch_size={batch}",
    )
    result = train(cfg, tmp_path, echo=quiet)
    assert result.step == steps and len(result.losses) == steps
    assert all(torch.isfinite(torch.tensor(result.losses)))
    assert result.losses[-1] < result.losses[0] - 0.05 * abs(result.losses[0])
    # The last step validated and wrote the config, the logs and both checkpoints: plain data,
    # the config inside, trainer state only in last.pt (best.pt goes into bundles as it is).
    assert [r["step"] for r in read_metrics(tmp_path, "valid")] == [steps]
    assert len(read_metrics(tmp_path, "train")) == steps
    assert config_from_dict(json.loads((tmp_path / CONFIG_JSON).read_text())) == cfg
    last = torch.load(tmp_path / LAST, weights_only=True)
    best = torch.load(tmp_path / BEST, weights_only=True)
    assert last["step"] == best["step"] == steps
    assert config_from_dict(last["extra"]["train"]["config"]) == cfg
    assert {"optimizer", "step", "rng", "best"} <= set(last["extra"]["trainer"])
    assert "trainer" not in best["extra"]
    assert METRIC[task] in best["extra"]["train"]["metrics"]
    if task != "m2d-pretrain":  # a training-only model, not in the inference registry
        model, meta = load_checkpoint(tmp_path / BEST)
        assert meta["step"] == steps and not model.training


def test_resume_continues_from_the_same_step_with_the_same_next_loss(smoke, tmp_path):
    cfg = smoke("sc", "max_steps=5", "valid_every=100")
    full = train(cfg, tmp_path / "full", echo=quiet)

    cancel = CancelToken()

    def stop_at_3(p):
        if p.done >= 3:
            cancel.cancel()

    with pytest.raises(Cancelled, match="step 3"):
        train(cfg, tmp_path / "split", progress=stop_at_3, cancel=cancel, echo=quiet)
    saved = torch.load(tmp_path / "split" / LAST, weights_only=True)
    assert saved["step"] == 3 and saved["extra"]["trainer"]["step"] == 3

    resumed = train(cfg, tmp_path / "split", echo=quiet)
    assert resumed.start_step == 3 and resumed.step == 5
    assert resumed.losses == pytest.approx(full.losses[3:], rel=1e-6, abs=1e-6)
    a = torch.load(tmp_path / "full" / LAST, weights_only=True)["state_dict"]
    b = torch.load(tmp_path / "split" / LAST, weights_only=True)["state_dict"]
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)


def test_sc_run_calibrates_thresholds_into_best_checkpoint(smoke, tmp_path):
    cfg = smoke("sc", "max_steps=3", "valid_every=3", "task.stage=2", "data.valid_scenes=6")
    result = train(cfg, tmp_path, echo=quiet)
    assert "final_silence_f1_calibrated" in result.final
    model, meta = load_checkpoint(tmp_path / BEST)
    energies = __import__("numpy").load(tmp_path / "energies.npz")
    assert torch.allclose(model.thresholds, torch.from_numpy(energies["thresholds"]))
    assert not torch.all(model.thresholds == model.config.default_threshold)
    assert meta["extra"]["train"]["metrics"]["final_accuracy"] == result.final["final_accuracy"]
    png = plot_energies(tmp_path / "energies.npz", tmp_path / "energies.png")
    assert png.stat().st_size > 10_000
    summary = energy_summary(tmp_path / "energies.npz")
    assert summary["silent_items"] > 0 and summary["active_items"] > 0
    # The log-mel statistics were fitted to the data and travel with the weights.
    assert model.config.norm_std != 1.0
    assert float(model.frontend.std) == pytest.approx(model.config.norm_std)


def test_time_budget_stops_cleanly_with_checkpoints(smoke, tmp_path):
    cfg = smoke("sc", "max_steps=1000", "valid_every=1000", "max_minutes=0.0001")
    result = train(cfg, tmp_path, echo=quiet)
    assert result.stopped == "time" and result.step == 1
    assert torch.load(tmp_path / LAST, weights_only=True)["step"] == 1
