"""The CPU-tier separators: band-split frequency encoder and the mask output."""

import pytest
import torch

from engine.dsp import istft, stft
from engine.models.checkpoint import load_checkpoint, save_checkpoint
from engine.models.deft_mamba import BandSplit
from engine.models.registry import build_model, config_from_dict
from engine.models.uss import CPU_BANDS, CPU_CANDIDATES


def test_band_split_covers_every_bin_once_with_its_stride():
    bands = BandSplit(CPU_BANDS, in_channels=8, dim=16)
    assert bands.n_tokens == 12 + 16 + 14 + 8
    spec = torch.randn(2, 8, 5, 641)
    tokens = bands.encode(spec)
    assert tokens.shape == (2, 16, 5, bands.n_tokens)
    assert bands.decode(tokens, 641).shape == (2, 2, 5, 641)


def test_band_split_tokens_see_only_their_own_bins():
    bands = BandSplit(((0, 4), (8, 2)), in_channels=2, dim=4)
    spec = torch.zeros(1, 2, 3, 641, requires_grad=True)
    tokens = bands.encode(spec)  # 2 tokens of 4 bins, then 317 tokens of 2 bins
    tokens[..., 1].sum().backward()  # the second token of the first region: bins 4-7
    touched = spec.grad.abs().sum((0, 1, 2)).nonzero().flatten().tolist()
    assert touched == [4, 5, 6, 7]


@pytest.mark.parametrize("bands", [((1, 4),), ((0, 4), (0, 8)), ((0, 4), (700, 8)), ((0, 0),)])
def test_band_split_refuses_bad_regions(bands):
    with pytest.raises(ValueError, match="freq_bands"):
        BandSplit(bands, 8, 16)


@pytest.mark.parametrize("name", ["deft_mamba_uss", "deft_mamba_tse"])
def test_untrained_mask_output_starts_from_the_mixture(name):
    """Every object starts as the reference channel / 6: the six outputs sum to the mixture W."""
    model = build_model(name, "cpu").eval()
    g = torch.Generator().manual_seed(0)
    mix = 0.1 * torch.randn(2, 4, 16000, generator=g)
    with torch.no_grad():
        if name == "deft_mamba_uss":
            out = model(mix)
        else:
            out = model(mix, torch.randn(2, 3, 16000, generator=g), torch.zeros(2, 3, 18))
    total = out.foreground.sum(1) + out.interference.sum(1) + out.noise.sum(1)
    # iSTFT(STFT(x)) is x to float precision; the mask is 1/6 per object
    reference = istft(stft(mix[:, :1]), 16000)[:, 0]
    torch.testing.assert_close(total, reference, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(out.foreground[:, 0], reference / 6, atol=1e-6, rtol=1e-4)


def test_mask_output_learns_the_decoder_from_step_one():
    """Zero-initialised mask deltas still receive a gradient (the trunk does from step two)."""
    model = build_model("deft_mamba_uss", "cpu")
    mix = torch.randn(1, 4, 8000)
    model(mix).foreground[:, 0].pow(2).mean().backward()
    assert model.trunk.decoder.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("name", sorted(CPU_CANDIDATES))
def test_cpu_candidates_round_trip_through_checkpoints(name, tmp_path):
    model = build_model("deft_mamba_uss", name).eval()
    path = tmp_path / "m.pt"
    save_checkpoint(path, model, step=3)
    loaded, meta = load_checkpoint(path, "cpu")
    assert loaded.config == model.config
    x = torch.randn(1, 4, 4000)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x).foreground, model(x).foreground)


def test_band_config_from_plain_data_keeps_tuples():
    cfg = config_from_dict("deft_mamba_uss", {"freq_bands": [[0, 4], [48, 8]], "output": "mask"})
    assert cfg.freq_bands == ((0, 4), (48, 8))


def test_unknown_output_kind_is_refused():
    with pytest.raises(ValueError, match="output"):
        build_model("deft_mamba_uss", {"output": "masked"})


def test_tse_started_from_a_uss_reproduces_it(tmp_path):
    """Warm start: the TSE copies the USS trunk and, with zero clue paths, returns its output."""
    from engine.train.tasks.tse import init_trunk_from_uss

    torch.manual_seed(0)
    uss = build_model("deft_mamba_uss", "cpu").eval()
    for p in uss.parameters():  # away from the zero-initialised decoder
        torch.nn.init.normal_(p, std=0.05)
    save_checkpoint(tmp_path / "uss.pt", uss)
    tse = build_model("deft_mamba_tse", "cpu").eval()
    assert init_trunk_from_uss(tse, str(tmp_path / "uss.pt")) > 100
    mix = torch.randn(1, 4, 8000)
    with torch.no_grad():
        expected = uss(mix).foreground
        got = tse(mix, torch.randn(1, 3, 8000), torch.eye(18)[:3][None]).foreground
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-4)


def test_tse_refuses_a_uss_of_another_size(tmp_path):
    from engine.train.tasks.tse import init_trunk_from_uss

    save_checkpoint(tmp_path / "uss.pt", build_model("deft_mamba_uss", "tiny"))
    with pytest.raises(ValueError, match="trunk sizes differ|no place"):
        init_trunk_from_uss(build_model("deft_mamba_tse", "cpu"), str(tmp_path / "uss.pt"))
