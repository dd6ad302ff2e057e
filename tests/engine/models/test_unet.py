"""The U-Net control trunk: same interface and start as DeFT-Mamba's, clue-conditioned."""

import torch

from engine.models.registry import build_model
from engine.models.unet import UNetTrunk


def test_unet_separators_start_as_the_mixture_over_six_like_the_deft_tier():
    torch.manual_seed(0)
    uss = build_model("deft_mamba_uss", "cpu-unet")
    assert isinstance(uss.trunk, UNetTrunk) and not list(uss.trunk.freq_blocks)
    x = torch.randn(2, 4, 16_001)  # odd lengths: every level rounds its sizes up
    out = uss(x)
    assert out.foreground.shape == (2, 3, 16_001) and out.interference.shape == (2, 2, 16_001)
    assert out.class_logits.shape == (2, 3, 18)
    # Mask output with a zero decoder: each object is W / 6 before any training.
    expected = (x[:, 0] / 6)[:, None].expand(-1, 3, -1)
    assert torch.allclose(out.foreground[..., 640:-640], expected[..., 640:-640], atol=1e-4)


def test_unet_tse_hears_its_class_clue_once_the_film_has_learned():
    torch.manual_seed(0)
    tse = build_model("deft_mamba_tse", "cpu-unet").eval()
    x, enrollment = torch.randn(1, 4, 8_000), torch.randn(1, 3, 8_000)
    speech, dishes = torch.zeros(1, 3, 18), torch.zeros(1, 3, 18)
    speech[..., 0], dishes[..., 1] = 1, 1
    with torch.no_grad():
        same = torch.allclose(
            tse(x, enrollment, speech).foreground, tse(x, enrollment, dishes).foreground
        )
        assert same  # the FiLM starts at zero: the clue changes nothing yet
        for name, p in tse.named_parameters():
            if "film" in name or "decoder" in name:
                p.normal_(0, 0.1)
        a = tse(x, enrollment, speech).foreground
        b = tse(x, enrollment, dishes).foreground
    assert (a - b).abs().max() > 1e-3


def test_a_unet_training_step_moves_every_level():
    torch.manual_seed(0)
    uss = build_model("deft_mamba_uss", "cpu-unet")
    x = torch.randn(1, 4, 8_000)
    loss = uss(x).foreground.pow(2).mean() + uss(x).class_logits.pow(2).mean()
    loss.backward()
    trunk = uss.trunk
    for module in (*trunk.down_blocks, trunk.bottleneck, *trunk.up_blocks):
        assert module.conv1.weight.grad is not None and module.conv1.weight.grad.abs().sum() > 0
