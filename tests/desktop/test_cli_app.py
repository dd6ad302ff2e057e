"""`scenesplit app`: registered, import-light, and hands the example and engine options on."""

import sys

from engine.cli import app as cli_app
from engine.cli.main import build_parser


def test_app_command_passes_file_example_and_engine_options(monkeypatch, tmp_path):
    seen = {}
    monkeypatch.setattr("desktop.app.run_app", lambda options: seen.setdefault("o", options) and 0)
    example = tmp_path / "example_scene.wav"
    example.write_bytes(b"")
    monkeypatch.setattr("engine.paths.example_recording", lambda: example)
    monkeypatch.setattr("engine.paths.cache_dir", lambda: tmp_path / "cache")
    args = build_parser().parse_args(["app", "--device", "cpu", "--bundle", "/b"])
    assert args.func is cli_app.run
    assert args.func(args) == 0
    options = seen["o"]
    assert options.file is None and options.example == str(example)
    assert options.engine.device == "cpu" and options.engine.bundle == "/b"
    assert options.engine.workdir == str(tmp_path / "cache" / "engine")

    args = build_parser().parse_args(
        ["app", "rec.wav", "--engine-url", "http://gpu:1", "--token-file", "/t", "--no-engine"]
    )
    seen.clear()
    args.func(args)
    options = seen["o"]
    assert options.file == "rec.wav" and options.engine.url == "http://gpu:1"
    assert options.engine.workdir is None and not options.use_engine


def test_registering_the_command_does_not_import_qt():
    import subprocess

    code = "import sys; from engine.cli.main import build_parser; build_parser(); print('PyQt6' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
