"""The client library: torch-free, clear errors, upload fallback, atomic downloads, SSE parsing,
and a local engine that fails to start saying why."""

import subprocess
import sys

import numpy as np
import pytest

from engine.audio import write_audio
from engine.client import EngineClient, EngineError, LocalEngine
from engine.client.client import _parse_sse
from tests.engine.server.fakes import TOKEN, serving


def test_import_does_not_load_torch():
    code = "import sys, engine.client; assert 'torch' not in sys.modules, 'torch loaded'"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_sse_parser_handles_comments_multiline_and_defaults():
    lines = [
        ": keep-alive",
        "",
        "event: job",
        'data: {"a":',
        "data: 1}",
        "",
        "data:plain",
        "",
        "event: job",
        "data: tail",
    ]
    assert list(_parse_sse(iter(lines))) == [
        ("job", '{"a":\n1}'),
        ("message", "plain"),
        ("job", "tail"),
    ]


def test_unreachable_engine_and_bad_token_file(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    with (
        EngineClient(f"http://127.0.0.1:{port}", "t", timeout=2) as c,
        pytest.raises(EngineError) as err,
    ):
        c.health()
    assert err.value.status is None and f"127.0.0.1:{port}" in str(err.value)
    with pytest.raises(EngineError, match="cannot read the engine token"):
        EngineClient.from_token_file("http://127.0.0.1:1", tmp_path / "missing")
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(EngineError, match="empty"):
        EngineClient.from_token_file("http://127.0.0.1:1", tmp_path / "empty")


def test_submit_uploads_when_the_engine_may_not_read_the_path(tmp_path):
    rec = write_audio(tmp_path / "mine" / "take 1.wav", np.zeros((2, 8_000), np.float32))
    with serving(tmp_path / "work", roots=[]) as srv, EngineClient(srv.url, TOKEN) as c:
        job = c.submit(rec, tse_rounds=1, channels=None)
        assert job["recording"]["path"] is None and job["options"]["tse_rounds"] == 1
        assert c.wait(job["id"])["state"] == "done"
        m = c.manifest(job["id"], "latest")
        assert m["tracks"][0]["file"] == "take 1_Speech.wav"
        with pytest.raises(EngineError) as err:
            c.download_stem(job["id"], 1, "take 1_Doorbell.wav", tmp_path)
        assert err.value.status == 404 and "no stem" in err.value.message
        assert not list(tmp_path.glob("*.part")) and not list(tmp_path.glob(".*part"))
        dest = c.download_stem(job["id"], 1, "take 1_Speech.wav", tmp_path / "out.wav")
        assert dest.read_bytes()[:4] == b"RIFF"
        with pytest.raises(EngineError, match="cannot read"):
            c.upload(tmp_path / "missing.wav")


def test_client_from_token_file_talks_to_the_server(tmp_path):
    (tmp_path / "token").write_text(TOKEN + "\n")
    with serving(tmp_path / "work", roots=[]) as srv:
        c = EngineClient.from_token_file(srv.url, tmp_path / "token")
        assert c.jobs() == []
        c.close()
        with EngineClient(srv.url, "wrong-token") as bad, pytest.raises(EngineError) as err:
            bad.jobs()
        assert err.value.status == 401 and "invalid token" in err.value.message


def test_local_engine_that_cannot_start_says_why(tmp_path):
    engine = LocalEngine(tmp_path / "work", bundle=tmp_path / "no-bundle", device="cpu")
    assert "--allow-root" not in engine.command() and "--threads" not in engine.command()
    cmd = LocalEngine(tmp_path, allow_roots=[tmp_path], threads=1).command()
    assert cmd[cmd.index("--allow-root") + 1] == str(tmp_path) and "--threads" in cmd
    with pytest.raises(EngineError) as err:
        engine.start(timeout=60)
    assert "exited with code 2" in str(err.value) and "no model bundle here" in str(err.value)
    assert not engine.alive() and engine.client is None
    assert "no model bundle here" in (tmp_path / "work" / "engine.log").read_text()
    engine.stop()  # harmless when not running


def test_local_engine_that_hangs_times_out_with_its_messages(tmp_path):
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho 'loading models from /nowhere' >&2\nexec sleep 30\n")
    fake.chmod(0o755)
    engine = LocalEngine(tmp_path / "work", python=str(fake))
    with pytest.raises(EngineError, match="did not get ready within 1 s") as err:
        engine.start(timeout=1)
    assert "loading models from /nowhere" in str(err.value)
    assert not engine.alive()
