"""The campaign's bookkeeping: session points, shipping a better bundle, curves."""

from __future__ import annotations

import json
import shutil

import torch

from engine.pipeline.bundle import make_random_bundle, read_bundle_meta
from engine.pipeline.stages import best_rounds, output_row
from engine.train.bundle import add_heldout_notes, set_tse_rounds, ship_bundle
from engine.train.campaign import FINAL_ROW, FIRST_ROW, session_point
from engine.train.curves import append_campaign_point, plot_campaign, read_campaign


def fake_report(fss1: float, final: float, by_rounds: tuple[float, float] = (0.5, 0.5)) -> dict:
    row = {"snri": 1.0, "si_sdri": fss1, "accuracy": 50.0, "ca_sdri": 0.5, "scenes": 50}
    rows = {output_row(k): {**row, "ca_sdri": v} for k, v in enumerate(by_rounds)}
    return {"rows": {FIRST_ROW: row, **rows, FINAL_ROW: {**row, "ca_sdri": final}}}


def test_session_point_reads_the_trainers_counters(tmp_path):
    for task, step, cpu_s in (("uss", 300, 7200.0), ("tse", 200, 3600.0)):
        (tmp_path / task).mkdir()
        trainer = {"step": step, "cpu_s": cpu_s}
        torch.save({"extra": {"trainer": trainer}}, tmp_path / task / "last.pt")
    point = session_point(fake_report(2.5, 1.5), tmp_path)
    assert point["uss_step"] == 300 and point["uss_scenes"] == 1200
    assert point["cpu_hours"] == 3.0 and point["tse_cpu_hours"] == 1.0
    assert point["fss1_si_sdri"] == 2.5 and point["final_ca_sdri"] == 1.5
    # The TSE rounds help: the bundle runs all of them.
    assert point["tse_rounds"] == 2 and point["pipeline_ca_sdri"] == 1.5

    # The hours count on from the last point; a TSE restarted on a new lineage (its counter
    # below the last point's) adds all of its hours, the retired run's staying counted.
    previous = {"cpu_hours": 10.0, "uss_cpu_hours": 1.5, "tse_cpu_hours": 4.0}
    point = session_point(fake_report(2.5, 1.5), tmp_path, previous=previous)
    assert point["cpu_hours"] == 10.0 + (2.0 - 1.5) + 1.0


def test_the_bundle_runs_the_tse_rounds_whose_output_is_best():
    rows = fake_report(1.0, 0.7, by_rounds=(1.1, 0.8))["rows"]  # the TSE makes it worse
    assert best_rounds(rows) == 0
    rows = fake_report(1.0, 0.9, by_rounds=(0.6, 0.9))["rows"]  # a tie: fewer rounds, faster
    assert best_rounds(rows) == 1


def test_shipping_keeps_the_classifier_notes_and_records_the_heldout_point(tmp_path):
    shipped = make_random_bundle(tmp_path / "shipped")
    meta = json.loads((shipped / "bundle.json").read_text())
    meta["notes"] = {"sc": "trained on CPU for 686 steps"}
    (shipped / "bundle.json").write_text(json.dumps(meta))
    candidate = make_random_bundle(tmp_path / "candidate", seed=1)
    shutil.copy2(shipped / "sc.pt", candidate / "sc.pt")  # the classifier came along unchanged
    set_tse_rounds(candidate, 0)
    add_heldout_notes(candidate, {"final_ca_sdri": 1.5})
    ship_bundle(candidate, shipped)
    assert read_bundle_meta(shipped)["pipeline"] == {"tse_rounds": 0}
    notes = read_bundle_meta(shipped)["notes"]
    assert notes["heldout"]["final_ca_sdri"] == 1.5
    assert notes["sc"] == "trained on CPU for 686 steps"
    assert (shipped / "uss.pt").read_bytes() == (candidate / "uss.pt").read_bytes()

    # A changed classifier keeps its history and gains the fine-tune it went through.
    tuned = make_random_bundle(tmp_path / "tuned", seed=2)
    meta = json.loads((tuned / "bundle.json").read_text())
    source = {"step": 900, "metrics": {"accuracy": 0.8, "accuracy_separated": 0.35}}
    meta["notes"] = {"sources": {"sc": source}, "heldout": {"date": "2026-12-08"}}
    (tuned / "bundle.json").write_text(json.dumps(meta))
    ship_bundle(tuned, shipped)
    assert read_bundle_meta(shipped)["notes"]["sc"] == (
        "trained on CPU for 686 steps; then fine-tuned further (2026-12-08) to step 900:"
        " 80.0 % validation accuracy on ground-truth sources, 35.0 % on separated ones"
    )


def test_campaign_file_appends_points_and_plots(tmp_path):
    path = tmp_path / "campaign.jsonl"
    append_campaign_point(path, {"cpu_hours": 1.0, "fss1_si_sdri": -1.0, "final_ca_sdri": 0.2})
    append_campaign_point(path, {"cpu_hours": 2.5, "fss1_si_sdri": 0.5, "final_ca_sdri": 0.9})
    assert [p["cpu_hours"] for p in read_campaign(path)] == [1.0, 2.5]
    png = plot_campaign(path, tmp_path / "c.png")
    assert png.stat().st_size > 5000


def test_gpu_kit_results_are_adopted_and_counted_truly(tmp_path):
    from engine.train.campaign import adopt

    kit, runs = tmp_path / "kit", tmp_path / "runs"
    kit.mkdir()
    for task in ("uss", "tse"):
        (runs / task).mkdir(parents=True)
        torch.save({"extra": {"trainer": {"step": 1}}}, runs / task / "last.pt")
        # The GPU resumed step 400 and trained 100 steps of 32 scenes: 1,600 + 3,200 scenes.
        trainer = {"step": 500, "cpu_s": 0.0, "scenes": 4800}
        torch.save({"extra": {"trainer": trainer}}, kit / f"{task}_last.pt")
        torch.save({"state_dict": {}}, kit / f"{task}_best.pt")
    adopt(kit, runs)
    assert (runs / "uss" / "best.pt").is_file()
    point = session_point(fake_report(1.0, 1.0), runs)
    assert point["uss_step"] == 500 and point["uss_scenes"] == 4800  # not 500 x batch


def test_the_shipped_bundle_runs_the_rounds_its_heldout_evaluation_found_best():
    from engine.train.campaign import SHIPPED, shipped_score

    meta = read_bundle_meta(SHIPPED)
    heldout = meta["notes"]["heldout"]
    rounds = best_rounds(heldout["rows"])
    assert meta["pipeline"]["tse_rounds"] == rounds == heldout["tse_rounds"]
    assert shipped_score() == heldout["rows"][output_row(rounds)]["ca_sdri"]


def test_the_campaign_trains_the_model_its_state_holds(tmp_path):
    from engine.train.campaign import run_model

    assert run_model(tmp_path) is None  # nothing to resume: the config's own model
    extra = {"train": {"task": "uss", "config": {"model": "cpu-unet"}}, "trainer": {"step": 9}}
    torch.save({"extra": extra}, tmp_path / "last.pt")
    assert run_model(tmp_path) == "cpu-unet"


def test_learning_curves_plot_short_and_long_runs(tmp_path):
    import json as js

    from engine.train.curves import plot_runs, validation_curve

    for name, n in (("short", 3), ("long", 30)):
        (tmp_path / name).mkdir()
        rows = [
            {
                "kind": "valid",
                "step": 25 * i,
                "time": 60.0 * i,
                "si_sdri": 0.1 * i,
                "cpu_hours": i / 60,
            }
            for i in range(1, n + 1)
        ]
        (tmp_path / name / "metrics.jsonl").write_text("\n".join(js.dumps(r) for r in rows))
    curve = validation_curve(tmp_path / "long")
    assert curve["clock"] == "cpu" and curve["steps"][-1] == 750 and len(curve["values"]) == 30
    png = plot_runs([tmp_path / "short", tmp_path / "long"], tmp_path / "curves.png")
    assert png.stat().st_size > 5000


def test_the_classifier_is_fine_tuned_on_the_state_uss_and_ships_only_when_trained(
    tmp_path, monkeypatch
):
    from engine.train import campaign

    monkeypatch.setattr(campaign, "STATE", tmp_path / "state")
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "uss_best.pt").write_bytes(b"x")
    cmd = campaign.trainer_command("sc", tmp_path / "runs", 30)
    assert cmd[cmd.index("train") + 1] == "sc" and "--max-minutes" in cmd
    assert f"task.uss_checkpoint={tmp_path / 'state' / 'uss_best.pt'}" in cmd
    assert f"task.init={campaign.SHIPPED / 'sc.pt'}" in cmd
    assert not any(arg.startswith("model=") for arg in cmd)
    # The overrides are real config keys, and the classifier trains with the energy hinge.
    from engine.train.config import apply_overrides, named_config

    overrides = [a for a in cmd[cmd.index("--config") + 2 :] if "=" in a and a[0] != "-"]
    cfg = apply_overrides(named_config("sc", "cpu"), overrides)
    assert cfg.task.stage == 2 and cfg.task.finetune_blocks == campaign.SC_FINETUNE_BLOCKS
    assert cfg.task.recentre_head is campaign.SC_RECENTRE
    assert cfg.task.margin == campaign.SC_MARGIN == 0.0
    # The fine-tune restarts every session: its learning rate reaches the floor as the
    # session's training time runs out, not at the 20,000-step recipe's end.
    assert cfg.optim.time_schedule and not named_config("sc", "cpu").optim.time_schedule

    runs = tmp_path / "runs"
    assert campaign.classifier(runs, ("uss", "sc")) == campaign.SHIPPED / "sc.pt"  # none yet
    (runs / "sc").mkdir(parents=True)
    (runs / "sc" / "best.pt").write_bytes(b"x")
    assert campaign.classifier(runs, ("uss", "sc")) == runs / "sc" / "best.pt"
    # A fine-tune left by another session is not taken unless this one trained the classifier.
    assert campaign.classifier(runs, ("uss", "tse")) == campaign.SHIPPED / "sc.pt"


def test_a_fresh_clone_takes_the_best_weights_of_a_trainer_it_does_not_run(tmp_path, monkeypatch):
    from engine.train import campaign

    monkeypatch.setattr(campaign, "STATE", tmp_path / "state")
    (tmp_path / "state").mkdir()
    for name in ("uss_last", "uss_best", "tse_last", "tse_best"):
        (tmp_path / "state" / f"{name}.pt").write_bytes(name.encode())
    runs = tmp_path / "runs"
    (runs / "uss").mkdir(parents=True)
    (runs / "uss" / "best.pt").write_bytes(b"newer")  # a run folder's own file wins
    campaign.seed_runs(runs)
    assert (runs / "tse" / "best.pt").read_bytes() == b"tse_best"
    assert (runs / "tse" / "last.pt").read_bytes() == b"tse_last"
    assert (runs / "uss" / "best.pt").read_bytes() == b"newer"
    assert (runs / "uss" / "last.pt").read_bytes() == b"uss_last"


def test_the_state_is_saved_while_the_trainers_run(tmp_path, monkeypatch, capsys):
    import sys

    from engine.train import campaign

    monkeypatch.setattr(campaign, "STATE", tmp_path / "state")
    monkeypatch.setattr(campaign, "SAVE_STATE_EVERY_S", 0.3)
    runs = tmp_path / "runs"
    # A stand-in trainer: checkpoints at once, then trains on past several state saves.
    script = (
        "import pathlib, sys, time; d = pathlib.Path(sys.argv[1]); "
        "(d / 'last.pt').write_bytes(b'step 1'); time.sleep(1.5)"
    )
    monkeypatch.setattr(
        campaign,
        "trainer_command",
        lambda task, runs, minutes: [sys.executable, "-c", script, str(runs / task)],
    )
    (runs / "uss").mkdir(parents=True)
    (runs / "uss" / "best.pt").write_bytes(b"best")
    campaign.train(runs, 1.0, ("uss",))
    assert "state saved: uss_last.pt, uss_best.pt" in capsys.readouterr().out
    # What a session cut off after the trainer's checkpoint leaves in the repository:
    assert (tmp_path / "state" / "uss_last.pt").read_bytes() == b"step 1"
    assert (tmp_path / "state" / "uss_best.pt").read_bytes() == b"best"
    assert not list((tmp_path / "state").glob(".*part"))
    (runs / "uss" / "last.pt").write_bytes(b"step 2")
    campaign.save_state(runs)
    assert (tmp_path / "state" / "uss_last.pt").read_bytes() == b"step 2"


def test_a_from_scratch_tse_is_retired_and_the_next_starts_from_the_state_uss(
    tmp_path, monkeypatch
):
    from engine.train import campaign

    monkeypatch.setattr(campaign, "STATE", tmp_path / "state")
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "uss_best.pt").write_bytes(b"x")
    runs = tmp_path / "runs"
    (runs / "tse").mkdir(parents=True)

    def tse_state(init_from_uss: str) -> None:
        task = {"uss_checkpoint": "u.pt", "init_from_uss": init_from_uss}
        extra = {"train": {"config": {"model": "cpu", "task": task}}}
        torch.save({"extra": extra}, runs / "tse" / "last.pt")

    tse_state("")
    assert campaign.retire_scratch_tse(runs) == runs / "tse_scratch"
    assert (runs / "tse_scratch" / "last.pt").is_file() and not (runs / "tse").exists()
    cmd = campaign.trainer_command("tse", runs, 30)
    assert f"task.init_from_uss={tmp_path / 'state' / 'uss_best.pt'}" in cmd
    assert f"task.uss_checkpoint={tmp_path / 'state' / 'uss_best.pt'}" in cmd

    # A TSE that began from a USS resumes its own run, on the model its state holds.
    (runs / "tse").mkdir()
    tse_state("/some/uss_best.pt")
    assert campaign.retire_scratch_tse(runs) is None
    cmd = campaign.trainer_command("tse", runs, 30)
    assert "model=cpu" in cmd
    # ... and keeps its lineage mark, so the config the resumed run saves is not taken for a
    # from-scratch TSE's the session after.
    assert f"task.init_from_uss={tmp_path / 'state' / 'uss_best.pt'}" in cmd


def test_the_uss_trains_towards_its_end_step_and_stops_there(tmp_path, monkeypatch):
    from engine.train import campaign

    monkeypatch.setattr(campaign, "MAX_STEPS", {"uss": 100})
    monkeypatch.setattr(campaign, "STATE", tmp_path / "state")
    runs = tmp_path / "runs"
    (runs / "uss").mkdir(parents=True)

    def uss_state(step: int) -> None:
        extra = {"trainer": {"step": step}, "train": {"config": {"model": "cpu"}}}
        torch.save({"extra": extra}, runs / "uss" / "last.pt")

    uss_state(99)
    assert not campaign.annealed("uss", runs)
    assert "max_steps=100" in campaign.trainer_command("uss", runs, 30)
    assert not any(a.startswith("max_steps") for a in campaign.trainer_command("tse", runs, 30))
    monkeypatch.setattr(campaign, "RESTARTS", {"uss": (90, 5e-4)})
    rewarmed = campaign.trainer_command("uss", runs, 30)
    assert "optim.restart_step=90" in rewarmed and "optim.lr=0.0005" in rewarmed
    assert not any("restart" in a for a in campaign.trainer_command("tse", runs, 30))

    launched = []

    class Finished:
        returncode = 0

        def __init__(self, cmd, **kwargs):
            launched.append(cmd[cmd.index("train") + 1])

        def poll(self):
            return 0

    monkeypatch.setattr(campaign.subprocess, "Popen", Finished)
    uss_state(100)
    assert campaign.annealed("uss", runs)
    campaign.train(runs, 1, ("uss", "tse"))
    assert launched == ["tse"]
