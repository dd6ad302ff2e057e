import json

from engine.cli.main import build_parser, main
from engine.data.dcase_layout import list_scenes, read_scene


def test_synth_writes_a_resumable_set_in_the_official_layout(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SCENESPLIT_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "set"
    argv = [
        "synth",
        "--out",
        str(out),
        "--n",
        "2",
        "--seed",
        "3",
        "--split",
        "valid",
        "--rooms",
        "1",
    ]
    assert main(argv) == 0
    names = list_scenes(out)
    assert len(names) == 2
    scene = read_scene(out, names[0])
    assert scene.mixture.shape == (4, 320_000)
    meta = json.loads((out / "metadata" / f"{names[0]}.json").read_text())
    assert meta["split"] == "valid" and meta["seed"] == [3, 0]
    assert len(meta["events"]) >= 2  # eval recipe: interference always present
    assert main(argv) == 0
    assert "0 scenes" in capsys.readouterr().out.splitlines()[-1]


def test_synth_rejects_bad_counts(capsys):
    assert main(["synth", "--out", "x", "--n", "0"]) == 2
    assert "--n must be positive" in capsys.readouterr().err


def test_bench_scenes_and_corpus_are_registered():
    args = build_parser().parse_args(["bench", "scenes", "--n", "1", "--workers", "1"])
    assert args.n == 1
    args = build_parser().parse_args(["corpus", "fetch", "lmms-common"])
    assert args.packages == ["lmms-common"]
