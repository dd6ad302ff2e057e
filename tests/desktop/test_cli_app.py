"""`scenesplit app`: registered, import-light, and hands the example and engine options on."""

import sys

from engine.cli import app as cli_app
from engine.cli.main import main


def test_app_command_becomes_the_editor_with_its_arguments(monkeypatch):
    seen = []
    monkeypatch.setattr(cli_app.os, "execv", lambda exe, cmd: seen.append(cmd))
    main(["app", "rec.wav", "--device", "cpu"])
    assert seen == [
        [sys.executable, "-m", "desktop.app", "--open-example", "rec.wav"] + ["--device", "cpu"]
    ]


def test_editor_options_example_and_engine_defaults(monkeypatch, tmp_path):
    from desktop import app

    seen = {}
    monkeypatch.setattr(app, "run_app", lambda options: seen.setdefault("o", options) and 0)
    example = tmp_path / "example_scene.wav"
    example.write_bytes(b"")
    monkeypatch.setattr("engine.paths.example_recording", lambda: example)
    monkeypatch.setenv("SCENESPLIT_CACHE", str(tmp_path / "cache"))
    assert app.main(["--open-example", "--device", "cpu", "--bundle", "/b"]) == 0
    options = seen["o"]
    assert options.file is None and options.example == str(example)
    assert options.engine.device == "cpu" and options.engine.bundle == "/b"
    # A local engine works in the engine's own default folder (which follows SCENESPLIT_CACHE).
    assert options.engine.local_workdir() == str(tmp_path / "cache" / "engine")

    seen.clear()
    app.main(["rec.wav", "--engine-url", "http://gpu:1", "--token-file", "/t", "--no-engine"])
    options = seen["o"]
    assert options.file == "rec.wav" and options.engine.url == "http://gpu:1"
    assert options.example is None and not options.use_engine


def test_scenesplit_app_help_is_the_editors():
    import subprocess

    out = subprocess.run(
        [sys.executable, "-m", "engine.cli.main", "app", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "--no-engine" in out.stdout and "--engine-url" in out.stdout


def test_registering_the_command_does_not_import_qt():
    import subprocess

    code = "import sys; from engine.cli.main import build_parser; build_parser(); print('PyQt6' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
