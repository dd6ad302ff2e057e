import torch

from engine.models.checkpoint import load_checkpoint, read_checkpoint, save_checkpoint
from engine.models.registry import build_model


def test_half_checkpoints_halve_weights_but_keep_calibrated_values_exact(tmp_path):
    model = build_model("m2d_sc", "toy")
    model.thresholds.copy_(torch.linspace(26.0, 27.7, 18) + 1e-3)
    path = save_checkpoint(tmp_path / "sc.pt", model, dtype=torch.float16)
    raw = read_checkpoint(path)["state_dict"]
    assert raw["thresholds"].dtype == torch.float32
    assert any(v.dtype == torch.float16 for v in raw.values())
    loaded, _ = load_checkpoint(path)
    assert torch.equal(loaded.thresholds, model.thresholds)
    wave = torch.randn(2, 16_000) * 0.1
    assert torch.allclose(loaded(wave), model.eval()(wave), atol=0.1)
