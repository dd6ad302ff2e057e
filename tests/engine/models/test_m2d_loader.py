"""Official M2D checkpoints: synthetic files with the official names and shapes."""

import pytest
import torch

from engine.errors import ScenesplitError
from engine.models.m2d_loader import (
    M2DCheckpointError,
    config_for_checkpoint,
    load_official_m2d,
    m2dsc_from_official,
    read_m2d_weights,
)
from engine.models.m2d_sc import M2DSC
from engine.models.vit import M2DEncoder

PREFIX = "module.ar.runtime.backbone."


def _official_state(embed_dim=192, depth=12, heads=3, time_patches=62, seed=0):
    """A state dict laid out like an official M2D training checkpoint (random values)."""
    torch.manual_seed(seed)
    enc = M2DEncoder(embed_dim, depth, heads, max_time_patches=time_patches)
    with torch.no_grad():
        for p in enc.parameters():
            p.normal_()
    state = {PREFIX + k: v.clone() for k, v in enc.state_dict().items()}
    # Parts of the training graph that are not the online encoder.
    state["module.ar.runtime.backbone.target_blocks.0.norm1.weight"] = torch.ones(embed_dim)
    state["module.ar.runtime.backbone.decoder_embed.weight"] = torch.zeros(64, embed_dim)
    state["module.ar.runtime.backbone.mask_token"] = torch.zeros(1, 1, 64)
    state["module.ar.head.weight"] = torch.zeros(527, embed_dim)
    return enc, state


def test_round_trip_of_an_official_file(tmp_path):
    enc, state = _official_state()
    path = tmp_path / "weights_ep69it3124-0.47998.pth"
    torch.save({"model": state, "norm_stats": [-7.1, 4.2], "epoch": 69}, path)

    w = read_m2d_weights(path)
    assert (w.embed_dim, w.depth, w.num_heads, w.max_time_patches) == (192, 12, 3, 62)
    assert w.norm_stats == pytest.approx((-7.1, 4.2))
    assert len(w.ignored) == 4 and "module.ar.head.weight" in w.ignored

    cfg = config_for_checkpoint(path)
    model = M2DSC(cfg)
    load_official_m2d(model, path)
    for key, value in enc.state_dict().items():
        torch.testing.assert_close(model.encoder.state_dict()[key], value, rtol=0, atol=0)
    assert model.frontend.mean.item() == pytest.approx(-7.1)
    assert model.frontend.std.item() == pytest.approx(4.2)
    spec = torch.randn(1, 1, 80, 64)
    with torch.no_grad():
        torch.testing.assert_close(model.encoder(spec), enc.eval()(spec))


def test_plain_state_dict_with_other_prefix_and_short_grid(tmp_path):
    enc, state = _official_state(embed_dim=128, depth=2, heads=2, time_patches=20)
    state = {k.replace(PREFIX, "backbone."): v for k, v in state.items()}
    state["backbone.norm_stats"] = torch.tensor([-5.0, 3.0])
    path = tmp_path / "plain.pth"
    torch.save(state, path)
    w = read_m2d_weights(path)
    assert (w.embed_dim, w.depth, w.num_heads, w.max_time_patches) == (128, 2, 2, 20)
    assert w.norm_stats == pytest.approx((-5.0, 3.0))
    model = m2dsc_from_official(path, scale=16.0)
    assert model.config.scale == 16.0 and model.config.max_time_patches == 20
    torch.testing.assert_close(model.encoder.pos_embed, enc.pos_embed)
    assert torch.isfinite(model(torch.zeros(1, 32000))).all()


def test_wrong_keys_are_named_in_the_error(tmp_path):
    _, state = _official_state(embed_dim=64, depth=2, heads=1)
    state.pop(PREFIX + "blocks.1.mlp.fc1.weight")
    state[PREFIX + "blocks.1.mlp.fc3.weight"] = torch.zeros(3, 3)
    path = tmp_path / "broken.pth"
    torch.save(state, path)
    model = M2DSC(config_for_checkpoint(path))
    with pytest.raises(M2DCheckpointError) as err:
        load_official_m2d(model, path)
    message = str(err.value)
    assert "broken.pth" in message
    assert "missing keys: blocks.1.mlp.fc1.weight" in message
    assert "unexpected keys: blocks.1.mlp.fc3.weight" in message
    assert isinstance(err.value, ScenesplitError)


def test_size_and_shape_mismatches_are_clear(tmp_path):
    _, state = _official_state(embed_dim=64, depth=2, heads=1)
    path = tmp_path / "small.pth"
    torch.save(state, path)
    with pytest.raises(M2DCheckpointError, match=r"64 dim x 2 blocks, model is 192 x 12"):
        load_official_m2d(
            M2DSC(config_for_checkpoint(path, embed_dim=192, depth=12, num_heads=3)), path
        )
    state[PREFIX + "blocks.0.attn.qkv.weight"] = torch.zeros(10, 64)
    torch.save(state, path)
    with pytest.raises(
        M2DCheckpointError,
        match=r"shape mismatch.*blocks\.0\.attn\.qkv\.weight \(10, 64\) vs \(192, 64\)",
    ):
        load_official_m2d(M2DSC(config_for_checkpoint(path)), path)


def test_files_that_are_not_m2d_encoders(tmp_path):
    with pytest.raises(M2DCheckpointError, match="not found"):
        read_m2d_weights(tmp_path / "absent.pth")
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(M2DCheckpointError, match="junk.pth: not a readable"):
        read_m2d_weights(junk)
    other = tmp_path / "resnet.pth"
    torch.save({"conv1.weight": torch.zeros(4, 3, 3, 3)}, other)
    with pytest.raises(M2DCheckpointError, match="no ViT encoder.*conv1.weight"):
        read_m2d_weights(other)
    odd = tmp_path / "odd.pth"
    torch.save({"pos_embed": torch.zeros(1, 197, 64)}, odd)  # ImageNet 14 x 14 grid
    with pytest.raises(M2DCheckpointError, match="1 \\+ 5 \\* T'"):
        read_m2d_weights(odd)
