"""`scenesplit separate --server`: submit, follow, download stems + manifest (in-test job function)."""

import json

import numpy as np
import pytest

from engine.audio import read_audio, write_audio
from engine.cli.main import main
from tests.engine.server.fakes import TOKEN, HostileEngine, serving


def test_separate_on_a_server_downloads_stems_and_manifest(tmp_path, capsys):
    rec = write_audio(tmp_path / "audio" / "scene.wav", np.zeros((4, 24_000), np.float32))
    (tmp_path / "token").write_text(TOKEN)
    with serving(tmp_path / "work", [tmp_path / "audio"]) as srv:
        args = ["separate", str(rec), "-o", str(tmp_path / "out"), "--server", srv.url]
        code = main(
            [
                *args,
                "--token-file",
                str(tmp_path / "token"),
                "--window",
                "1",
                "--hop",
                "1",
                "--json",
            ]
        )
        assert code == 0
        summary = json.loads(capsys.readouterr().out)
        assert summary["tracks"][0]["file"] == "scene_Speech.wav"
        manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
        assert manifest["version"] == 1
        assert read_audio(tmp_path / "out" / "scene_Speech.wav").shape == (1, 24_000)
        assert srv.service.store.list_public()[0]["options"]["window_s"] == 1.0

        assert main([*args]) == 2
        assert "--token-file" in capsys.readouterr().err
        (tmp_path / "bad.wav").write_bytes(b"nope" * 10)
        bad = [
            "separate",
            str(tmp_path / "bad.wav"),
            "-o",
            str(tmp_path / "o2"),
            "--server",
            srv.url,
        ]
        assert main([*bad, "--token-file", str(tmp_path / "token")]) == 2
        assert "bad.wav: not a readable audio file" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["../evil.wav", "ABSOLUTE", "..", "sub\\evil.wav", "a\x00.wav"])
def test_stem_names_from_a_hostile_engine_cannot_leave_the_output_folder(tmp_path, capsys, name):
    name = str(tmp_path / "evil.wav") if name == "ABSOLUTE" else name
    rec = write_audio(tmp_path / "scene.wav", np.zeros((4, 8_000), np.float32))
    (tmp_path / "token").write_text(TOKEN)
    out = tmp_path / "deep" / "out"
    with HostileEngine(name) as engine:
        args = ["separate", str(rec), "-o", str(out), "--server", engine.url]
        assert main([*args, "--token-file", str(tmp_path / "token")]) == 2
    err = capsys.readouterr().err
    assert f"unusable stem file name {name!r}" in err and "not a plain file name" in err
    assert not (tmp_path / "evil.wav").exists() and not (tmp_path / "deep" / "evil.wav").exists()
    assert not out.exists()  # refused before anything was written
