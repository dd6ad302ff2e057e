"""`scenesplit bundle assemble|export|info` and `scenesplit train` argument handling."""

from __future__ import annotations

import json

import pytest
import torch

from engine.cli.main import main
from engine.models.checkpoint import read_checkpoint
from engine.models.registry import build_model
from engine.pipeline.bundle import load_bundle
from engine.train.checkpoints import save_run_checkpoint
from engine.train.config import named_config


@pytest.fixture
def run_checkpoints(tmp_path):
    """Untrained tiny USS/TSE and toy SC saved as run checkpoints (SC with set thresholds)."""
    torch.manual_seed(0)
    paths = {}
    for role, name, size in (
        ("uss", "deft_mamba_uss", "tiny"),
        ("tse", "deft_mamba_tse", "tiny"),
        ("sc", "m2d_sc", "toy"),
    ):
        model = build_model(name, size)
        if role == "sc":
            model.thresholds.copy_(torch.linspace(-5, -2, 18))
        cfg = named_config(role, "smoke")
        paths[role] = save_run_checkpoint(
            tmp_path / f"{role}.pt", model, cfg, step=7, metrics={"m": 1.5}
        )
    return paths


def test_bundle_assemble_writes_a_loadable_bundle(run_checkpoints, tmp_path, capsys):
    out = tmp_path / "bundle"
    code = main(
        [
            "bundle",
            "assemble",
            "--uss",
            str(run_checkpoints["uss"]),
            "--tse",
            str(run_checkpoints["tse"]),
            "--sc",
            str(run_checkpoints["sc"]),
            "--out",
            str(out),
            "--name",
            "trained-smoke",
        ]
    )
    assert code == 0
    bundle = load_bundle(out)
    assert bundle.name == "trained-smoke"
    assert torch.allclose(bundle.sc.thresholds, torch.linspace(-5, -2, 18))
    assert bundle.meta["thresholds"] == pytest.approx(torch.linspace(-5, -2, 18).tolist())
    assert bundle.meta["models"]["uss"]["step"] == 7
    assert bundle.meta["notes"]["sources"]["sc"]["metrics"] == {"m": 1.5}


def test_a_model_taken_from_a_bundle_brings_its_training_record(run_checkpoints, tmp_path):
    from engine.train.bundle import assemble_bundle

    first = assemble_bundle(
        run_checkpoints["uss"],
        run_checkpoints["tse"],
        run_checkpoints["sc"],
        tmp_path / "first",
        half=True,
    )
    meta = json.loads((first / "bundle.json").read_text())
    meta["notes"]["sc"] = "trained on CPU for 7 steps"
    (first / "bundle.json").write_text(json.dumps(meta))

    # The campaign's sessions that do not fine-tune the classifier take the shipped one.
    second = assemble_bundle(
        run_checkpoints["uss"],
        run_checkpoints["tse"],
        first / "sc.pt",
        tmp_path / "second",
        half=True,
    )
    notes = json.loads((second / "bundle.json").read_text())["notes"]
    assert notes["sources"]["sc"]["metrics"] == {"m": 1.5}
    assert notes["sources"]["sc"]["checkpoint"] == str(run_checkpoints["sc"])
    assert notes["sc"] == "trained on CPU for 7 steps"
    assert notes["trained"]["sc"] is True

    # A file the bundle does not describe (another step) keeps no borrowed record.
    meta["models"]["sc"]["step"] = 8
    (first / "bundle.json").write_text(json.dumps(meta))
    third = assemble_bundle(
        run_checkpoints["uss"], run_checkpoints["tse"], first / "sc.pt", tmp_path / "third"
    )
    notes = json.loads((third / "bundle.json").read_text())["notes"]
    assert notes["sources"]["sc"]["metrics"] == {} and "sc" not in notes


def test_bundle_assemble_rejects_a_checkpoint_in_the_wrong_role(run_checkpoints, tmp_path, capsys):
    code = main(
        [
            "bundle",
            "assemble",
            "--uss",
            str(run_checkpoints["sc"]),
            "--tse",
            str(run_checkpoints["tse"]),
            "--sc",
            str(run_checkpoints["sc"]),
            "--out",
            str(tmp_path / "b"),
        ]
    )
    assert code == 2
    assert "expected deft_mamba_uss" in capsys.readouterr().err


def test_bundle_export_half_halves_floats_and_drops_trainer(run_checkpoints, tmp_path):
    dst = tmp_path / "sc16.pt"
    assert main(["bundle", "export", str(run_checkpoints["sc"]), "--out", str(dst), "--half"]) == 0
    data = read_checkpoint(dst)
    assert all(
        v.dtype == torch.float16 for v in data["state_dict"].values() if v.is_floating_point()
    )
    from engine.models.checkpoint import load_checkpoint

    model, _ = load_checkpoint(dst)  # still loads into the fp32 model
    assert next(model.parameters()).dtype == torch.float32


def test_train_command_overrides_and_errors(tmp_path, capsys):
    assert main(["train", "tse", "--config", "smoke", "--print-config", "optim.lr=0.002"]) == 0
    assert '"lr": 0.002' in capsys.readouterr().out
    assert main(["train", "tse", "--config", "smoke", "optim.lr=fast"]) == 2
    assert "optim.lr" in capsys.readouterr().err
    assert main(["train", "sc", "--config", "nope"]) == 2
