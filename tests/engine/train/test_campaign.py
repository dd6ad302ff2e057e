"""The campaign's bookkeeping: session points, shipping a better bundle, curves."""

from __future__ import annotations

import json

import torch

from engine.pipeline.bundle import make_random_bundle, read_bundle_meta
from engine.train.bundle import add_heldout_notes, ship_bundle
from engine.train.campaign import FINAL_ROW, FIRST_ROW, session_point
from engine.train.curves import append_campaign_point, plot_campaign, read_campaign


def fake_report(fss1: float, final: float) -> dict:
    row = {"snri": 1.0, "si_sdri": fss1, "accuracy": 50.0, "ca_sdri": 0.5, "scenes": 50}
    return {"rows": {FIRST_ROW: row, FINAL_ROW: {**row, "ca_sdri": final}}}


def test_session_point_reads_the_trainers_counters(tmp_path):
    for task, step, cpu_s in (("uss", 300, 7200.0), ("tse", 200, 3600.0)):
        (tmp_path / task).mkdir()
        trainer = {"step": step, "cpu_s": cpu_s}
        torch.save({"extra": {"trainer": trainer}}, tmp_path / task / "last.pt")
    point = session_point(fake_report(2.5, 1.5), tmp_path)
    assert point["uss_step"] == 300 and point["uss_scenes"] == 1200
    assert point["cpu_hours"] == 3.0 and point["tse_cpu_hours"] == 1.0
    assert point["fss1_si_sdri"] == 2.5 and point["final_ca_sdri"] == 1.5


def test_shipping_keeps_the_classifier_notes_and_records_the_heldout_point(tmp_path):
    shipped = make_random_bundle(tmp_path / "shipped")
    meta = json.loads((shipped / "bundle.json").read_text())
    meta["notes"] = {"sc": "trained on CPU for 686 steps"}
    (shipped / "bundle.json").write_text(json.dumps(meta))
    candidate = make_random_bundle(tmp_path / "candidate", seed=1)
    add_heldout_notes(candidate, {"final_ca_sdri": 1.5})
    ship_bundle(candidate, shipped)
    notes = read_bundle_meta(shipped)["notes"]
    assert notes["heldout"]["final_ca_sdri"] == 1.5
    assert notes["sc"] == "trained on CPU for 686 steps"
    assert (shipped / "uss.pt").read_bytes() == (candidate / "uss.pt").read_bytes()


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
