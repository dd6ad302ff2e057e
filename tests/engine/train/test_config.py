"""Training configs, overrides, the LR schedule and the step sampler (no models, fast)."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest

from engine.train.config import (
    TASKS,
    ConfigError,
    SCTask,
    apply_overrides,
    config_from_dict,
    describe_overrides,
    named_config,
)
from engine.train.data import StepBatchSampler, step_generator
from engine.train.schedule import lr_at, total_steps_of


def test_paper_config_holds_the_reports_values():
    cfg = named_config("uss", "paper")
    assert cfg.optim.lr == 4e-4
    assert cfg.epochs == 100
    assert cfg.data.train_scenes == 50_000
    assert cfg.model == "paper"
    assert cfg.task.interference_weight == cfg.task.noise_weight == 0.01
    sc = named_config("sc", "paper").task
    assert (sc.stage, sc.energy_weight, sc.p_silent_items) == (1, 0.001, 0.05)


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("name", ["paper", "lite", "smoke"])
def test_named_configs_round_trip_through_json(task, name):
    cfg = named_config(task, name)
    back = config_from_dict(json.loads(cfg.to_json()))
    assert back == cfg
    assert type(back.task) is type(cfg.task)


def test_overrides_parse_by_field_type():
    cfg = named_config("sc", "smoke")
    apply_overrides(
        cfg,
        [
            "optim.lr=2e-3",
            "data.batch_size=8",
            "task.stage=2",
            "task.residual_db=[-30, -10]",
            "compile=true",
            "task.init=/tmp/x.pt",
        ],
    )
    assert cfg.optim.lr == 2e-3 and isinstance(cfg.optim.lr, float)
    assert cfg.data.batch_size == 8
    assert cfg.task.stage == 2
    assert cfg.task.residual_db == (-30.0, -10.0)
    assert cfg.compile is True
    assert cfg.task.init == "/tmp/x.pt"
    diff = describe_overrides(cfg, named_config("sc", "smoke"))
    assert "task.stage=2" in diff and "optim.lr=0.002" in diff


@pytest.mark.parametrize(
    "override, fragment",
    [
        ("optim.lrr=1", "unknown config key"),
        ("data.batch_size=2.5", "integer"),
        ("optim.lr=fast", "cannot read"),
        ("task.residual_db=[1]", "2 values"),
        ("nokey", "key=value"),
        ("optim=3", "unknown config key"),
    ],
)
def test_bad_overrides_name_the_key(override, fragment):
    with pytest.raises(ConfigError, match=fragment):
        apply_overrides(named_config("sc", "smoke"), [override])


def test_unknown_config_and_task_are_user_errors(tmp_path):
    with pytest.raises(ConfigError, match="unknown config"):
        named_config("uss", "huge")
    with pytest.raises(ConfigError, match="unknown task"):
        named_config("vae", "lite")
    path = tmp_path / "run.json"
    path.write_text(named_config("sc", "lite").to_json())
    assert isinstance(named_config("sc", str(path)).task, SCTask)
    with pytest.raises(ConfigError, match="not 'uss'"):
        named_config("uss", str(path))


def test_schedule_warms_up_then_decays_to_the_floor():
    optim = named_config("uss", "paper").optim
    total = 10_000
    lrs = [lr_at(s, optim, total) for s in range(total)]
    assert lrs[0] == pytest.approx(optim.lr / optim.warmup_steps)
    assert max(lrs) == pytest.approx(optim.lr)
    assert lrs.index(max(lrs)) == optim.warmup_steps - 1
    tail = lrs[optim.warmup_steps :]
    assert all(a >= b for a, b in zip(tail, tail[1:], strict=False))
    assert lr_at(total, optim, total) == pytest.approx(optim.lr * optim.min_lr_ratio)


def test_a_warm_restart_rewarms_from_its_step_and_anneals_by_the_end():
    optim = dataclasses.replace(named_config("uss", "cpu").optim, lr=5e-4, restart_step=5_811)
    total = 7_800
    before = dataclasses.replace(optim, restart_step=0)
    # Before the restart the schedule is the first cycle's, unchanged.
    assert lr_at(5_000, optim, 6_000) == pytest.approx(lr_at(5_000, before, 6_000))
    assert lr_at(5_811, optim, total) == pytest.approx(5e-4 / optim.warmup_steps)
    assert lr_at(5_811 + optim.warmup_steps, optim, total) == pytest.approx(5e-4, rel=1e-3)
    assert lr_at(total, optim, total) == pytest.approx(5e-4 * optim.min_lr_ratio)


def test_time_schedule_follows_the_budget_when_it_is_further_along():
    optim = named_config("sc", "lite").optim
    total = 100_000
    step = optim.warmup_steps + 10
    assert lr_at(step, optim, total, time_fraction=0.0) == pytest.approx(optim.lr, rel=1e-3)
    assert lr_at(step, optim, total, time_fraction=0.5) == pytest.approx(
        optim.lr * (1 + optim.min_lr_ratio) / 2
    )
    assert lr_at(step, optim, total, time_fraction=1.0) == pytest.approx(
        optim.lr * optim.min_lr_ratio
    )


def test_paper_schedule_is_100_epochs_of_50000_scenes():
    cfg = named_config("uss", "paper")
    b = cfg.data.batch_size
    assert total_steps_of(cfg, world_size=1) == 100 * math.ceil(50_000 / b)
    assert total_steps_of(cfg, world_size=8) == 100 * math.ceil(50_000 / (8 * b))


def test_step_sampler_covers_an_epoch_once_across_ranks_and_resumes_exactly():
    n, b, world = 24, 3, 2
    samplers = [StepBatchSampler(n, b, seed=5, rank=r, world_size=world) for r in range(world)]
    epoch = [i for s in range(n // (b * world)) for smp in samplers for i in smp.batch(s)]
    assert sorted(epoch) == list(range(n))
    # The next epoch is another permutation of the same scenes.
    nxt = [i for s in range(4, 8) for smp in samplers for i in smp.batch(s)]
    assert sorted(nxt) == list(range(n)) and nxt != epoch
    # A sampler started at step 5 yields what the full one yields from step 5 on.
    full = StepBatchSampler(n, b, seed=5, total_steps=9)
    resumed = StepBatchSampler(n, b, seed=5, start_step=5, total_steps=9)
    assert list(resumed) == list(full)[5:]
    assert len(resumed) == 4
    fixed = StepBatchSampler(n, b, seed=5, overfit=True)
    assert fixed.batch(0) == fixed.batch(7)


def test_step_generator_depends_on_seed_step_and_rank_only():
    import torch

    def draw(*args):
        return torch.rand(4, generator=step_generator(*args))

    assert torch.equal(draw(1, 7, 0), draw(1, 7, 0))
    assert not torch.equal(draw(1, 7, 0), draw(1, 8, 0))
    assert not torch.equal(draw(1, 7, 0), draw(1, 7, 1))
    assert not torch.equal(draw(1, 7, 0), draw(2, 7, 0))


def test_validation_set_of_another_recipe_is_refused_and_foreign_sets_are_used(tmp_path):
    import soundfile as sf

    from engine.train.data import VALID_MARKER, build_valid_set

    cfg = named_config("sc", "smoke").data
    cfg.valid_dir = str(tmp_path / "valid")
    (tmp_path / "valid").mkdir()
    (tmp_path / "valid" / VALID_MARKER).write_text(json.dumps({"seconds": 99}))
    with pytest.raises(ConfigError, match="another recipe"):
        build_valid_set(cfg)
    # A folder of soundscapes without our marker (e.g. the official set) is taken as it is.
    cfg.valid_dir = str(tmp_path / "official")
    (tmp_path / "official" / "soundscape").mkdir(parents=True)
    sf.write(tmp_path / "official" / "soundscape" / "a.wav", [[0.0] * 4] * 100, 32000)
    assert build_valid_set(cfg) == tmp_path / "official"
    assert not (tmp_path / "official" / VALID_MARKER).exists()


def test_foreground_range_narrows_training_scenes_only():
    from engine.train.data import scene_config

    cfg = named_config("uss", "cpu")
    apply_overrides(cfg, ["data.foreground_range=[1, 1]"])
    assert scene_config(cfg.data, "train").foreground_range == (1, 1)
    # Validation keeps the task's 1-3 sources, so curriculum runs stay comparable.
    assert scene_config(cfg.data, "valid").foreground_range == (1, 3)
    apply_overrides(cfg, ["data.foreground_range=[2, 4]"])
    with pytest.raises(ConfigError, match="foreground_range"):
        scene_config(cfg.data, "train")
