"""The HTTP API over loopback (real app, service, store and worker; an in-test job function instead
of the models): auth, error bodies, queue, event stream, cancel, results, uploads, restart."""

import json
import threading
import time

import httpx
import numpy as np
import pytest

from engine.audio import write_audio
from engine.client import ChangeClass, EngineClient
from tests.engine.server.fakes import TOKEN, FakeRunner, InThreadServer, serving

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def audio_root(tmp_path):
    root = tmp_path / "audio"
    root.mkdir()
    write_audio(root / "rec.wav", np.zeros((4, 32_000), np.float32))
    write_audio(root / "six.wav", np.zeros((6, 8_000), np.float32))
    return root


@pytest.fixture
def srv(tmp_path, audio_root):
    with serving(tmp_path / "work", [audio_root]) as s:
        yield s


@pytest.fixture
def client(srv):
    with EngineClient(srv.url, TOKEN) as c:
        yield c


def call(srv, method, path, **kw):
    kw.setdefault("headers", AUTH)
    return httpx.request(method, srv.url + path, **kw)


def assert_error(response, status, *fragments):
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == status and isinstance(body["error"], str)
    for fragment in fragments:
        assert fragment in body["error"], body["error"]


def test_token_required_everywhere_but_health(srv):
    assert httpx.get(srv.url + "/health").json()["status"] == "ok"
    for path in ("/jobs", "/openapi.json", "/jobs/x", "/nope"):
        assert_error(httpx.get(srv.url + path), 401, "missing token")
        assert_error(call(srv, "GET", path, headers={"Authorization": "Bearer wrong"}), 401)
        assert_error(call(srv, "GET", path, headers={"Authorization": TOKEN}), 401, "invalid")
    assert call(srv, "GET", "/openapi.json").json()["components"]["securitySchemes"]


def test_health_tells_strangers_nothing_and_the_scheme_is_case_insensitive(srv):
    anonymous = httpx.get(srv.url + "/health").json()
    assert set(anonymous) == {"status", "version"}  # no paths, devices or configs
    assert "/" not in json.dumps(anonymous)
    wrong = httpx.get(srv.url + "/health", headers={"Authorization": "Bearer wrong"}).json()
    assert set(wrong) == {"status", "version"}
    full = call(srv, "GET", "/health").json()
    assert {"device", "bundle", "busy", "queued"} <= set(full)
    for scheme in ("bearer", "BEARER", "Bearer"):
        headers = {"Authorization": f"{scheme} {TOKEN}"}
        assert call(srv, "GET", "/jobs", headers=headers).status_code == 200
        assert "bundle" in call(srv, "GET", "/health", headers=headers).json()


@pytest.mark.parametrize(
    "body,status,fragments",
    [
        ({"path": 3}, 422, ["body.path", "valid string"]),
        ({"path": "/a.wav", "options": {"window_s": -1}}, 422, ["body.options.window_s"]),
        ({"path": "/a.wav", "options": {"window_s": 2, "hop_s": 3}}, 422, ["hop_s must be <="]),
        ({"path": "/a.wav", "options": {"windw_s": 2}}, 422, ["options.windw_s", "xtra"]),
        ({"paht": "/a.wav"}, 422, ["body.path", "Field required"]),
        ([1, 2], 422, ["body"]),
        ({"path": "relative.wav"}, 400, ["must be absolute"]),
        ({"path": "/etc/passwd"}, 403, ["/etc/passwd", "outside the folders"]),
    ],
)
def test_bad_submissions_get_clear_errors(srv, body, status, fragments):
    assert_error(call(srv, "POST", "/jobs", json=body), status, *fragments)


def test_unreadable_inputs_are_refused_before_queueing(srv, audio_root):
    (audio_root / "junk.wav").write_bytes(b"RIFF not really a wave file" * 4)
    r = call(srv, "POST", "/jobs", json={"path": str(audio_root / "junk.wav")})
    assert_error(r, 400, "junk.wav", "not a readable audio file")
    r = call(srv, "POST", "/jobs", json={"path": str(audio_root / "six.wav")})
    assert_error(r, 400, "6 channels cannot be interpreted")
    r = call(srv, "POST", "/jobs", json={"path": str(audio_root / "gone.wav")})
    assert_error(r, 400, "file not found")
    bad_json = call(
        srv, "POST", "/jobs", content=b"{bad", headers={**AUTH, "content-type": "application/json"}
    )
    assert_error(bad_json, 422, "not valid JSON")
    assert call(srv, "GET", "/jobs").json() == {"jobs": []}
    ok = call(
        srv,
        "POST",
        "/jobs",
        json={"path": str(audio_root / "six.wav"), "options": {"channels": "2-5"}},
    )
    assert ok.status_code == 202 and ok.json()["recording"]["selected_channels"] == [2, 3, 4, 5]
    # Bounds are checked before the list is built (this one used to exhaust memory: a 500).
    huge = {"path": str(audio_root / "six.wav"), "options": {"channels": "0-999999999999"}}
    assert_error(call(srv, "POST", "/jobs", json=huge), 400, "does not fit a file with 6 channels")


def test_queue_positions_events_and_cancel(srv, client, audio_root):
    srv.runner.gate.clear()
    path = audio_root / "rec.wav"
    first = client.submit(path)
    assert srv.runner.started.wait(5)
    second, third = client.submit(path), client.submit(path)
    assert [second["queue_position"], third["queue_position"]] == [1, 2]
    health = client.health()
    assert health["busy"] and health["queued"] == 2
    assert client.cancel(second["id"])["state"] == "cancelled"
    assert client.job(third["id"])["queue_position"] == 1
    with pytest.raises(Exception, match="already cancelled") as err:
        client.cancel(second["id"])
    assert err.value.status == 409

    seen = []
    threading.Timer(0.2, srv.runner.gate.set).start()
    final = client.wait(first["id"], on_update=seen.append)
    assert final["state"] == "done" and final["versions"] == [1]
    assert seen[0]["state"] == "running" and seen[-1] == final
    fractions = [j["progress"]["fraction"] for j in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert client.wait(third["id"])["state"] == "done"
    # A finished job's stream is one event.
    assert [j["state"] for j in client.events(first["id"])] == ["done"]


def test_cancel_running_job_over_http(srv, client, audio_root):
    srv.runner.gate.clear()
    job = client.submit(audio_root / "rec.wav")
    assert srv.runner.started.wait(5)
    assert client.cancel(job["id"])["cancel_requested"]
    final = client.wait(job["id"])
    assert final["state"] == "cancelled" and final["versions"] == []
    job_dir = srv.service.store.job_dir(job["id"])
    assert [p.name for p in job_dir.iterdir()] == ["job.json"]
    assert_error(call(srv, "GET", f"/jobs/{job['id']}/versions/latest/manifest"), 404, "no results")


def test_results_and_their_errors(srv, client, audio_root, tmp_path):
    job = client.wait(client.submit(audio_root / "rec.wav")["id"])
    m = client.manifest(job["id"])
    assert m["tracks"][0]["file"] == "rec_Speech.wav" and m["version"] == 1
    out = client.download_stem(job["id"], 1, "rec_Speech.wav", tmp_path)
    assert out == tmp_path / "rec_Speech.wav" and out.read_bytes()[:4] == b"RIFF"
    folder = tmp_path / "v1"
    assert client.download_version(job["id"], 1, folder) == m
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json", "rec_Speech.wav"]
    assert json.loads((folder / "manifest.json").read_text()) == m
    assert (folder / "rec_Speech.wav").read_bytes() == out.read_bytes()
    jid = job["id"]
    for path, status, fragment in [
        (f"/jobs/{jid}/versions/2/manifest", 404, "no version 2"),
        (f"/jobs/{jid}/versions/first/manifest", 422, "version"),
        (f"/jobs/{jid}/versions/1/stems/job.json", 404, "no stem"),
        (f"/jobs/{jid}/versions/1/stems/..%2Fjob.json", 404, ""),  # never routed to a file
        (f"/jobs/{jid}/versions/1/stems/manifest.json", 404, "no stem"),
        ("/jobs/nope/versions/1/manifest", 404, "no job 'nope'"),
        (f"/jobs/{jid}", 200, None),
    ]:
        r = call(srv, "GET", path)
        if status == 200:
            assert r.json()["id"] == jid
        else:
            assert_error(r, status, fragment)


def test_refine_validation_and_versions(srv, client, audio_root):
    job = client.wait(client.submit(audio_root / "rec.wav")["id"])
    jid = job["id"]
    for op, status, fragment in [
        ({"kind": "change_class", "clip_id": "nope", "label": "Doorbell"}, 400, "no clip 'nope'"),
        ({"kind": "change_class", "clip_id": "Speech-0", "label": "Kazoo"}, 400, "unknown class"),
        ({"kind": "explode"}, 422, "operation"),
        ({"kind": "remove_clip"}, 422, "clip_id"),
        ({"kind": "add_class", "label": "Doorbell", "start_s": 2, "end_s": 1}, 422, "end_s"),
        ({"kind": "add_class", "label": "Doorbell", "start_s": 5, "end_s": 6}, 400, "past the end"),
        (
            {
                "kind": "add_class",
                "label": "Doorbell",
                "start_s": 0,
                "end_s": 1,
                "enrollment_file": "/etc/hosts",
            },
            403,
            "outside the folders",
        ),
    ]:
        assert_error(
            call(srv, "POST", f"/jobs/{jid}/refine", json={"operation": op}), status, fragment
        )
    r = client.refine(jid, ChangeClass("Speech-0", "Doorbell"))
    assert r["kind"] == "refine" and r["parent"] == jid and r["base_version"] == 1
    done = client.wait(r["id"])
    assert done["result_version"] == 2 and client.job(jid)["versions"] == [1, 2]
    assert client.manifest(jid)["tracks"][0]["label"] == "Doorbell"
    assert client.manifest(jid, 1)["tracks"][0]["label"] == "Speech"
    assert_error(call(srv, "GET", f"/jobs/{r['id']}/versions/latest/manifest"), 404, "refinement")
    r = call(
        srv,
        "POST",
        f"/jobs/{jid}/refine",
        json={"version": 9, "operation": {"kind": "remove_clip", "clip_id": "x"}},
    )
    assert_error(r, 404, "no version 9")


def test_uploads(srv, client, audio_root, tmp_path):
    job = client.upload(audio_root / "rec.wav", window_s=2.0, hop_s=1.0)
    assert job["recording"]["path"] is None and job["recording"]["name"] == "rec"
    assert job["options"]["window_s"] == 2.0
    assert client.wait(job["id"])["state"] == "done"
    assert client.manifest(job["id"])["tracks"][0]["file"] == "rec_Speech.wav"
    # The name is reduced to a plain file name inside the job's input folder.
    data = (audio_root / "rec.wav").read_bytes()
    r = call(srv, "POST", "/jobs/upload", params={"filename": "../../evil.wav"}, content=data)
    assert r.status_code == 202
    inputs = srv.service.store.job_dir(r.json()["id"]) / "input"
    assert [p.name for p in inputs.iterdir()] == ["evil.wav"]

    jobs_before = len(client.jobs())
    r = call(srv, "POST", "/jobs/upload", params={"filename": "notes.wav"}, content=b"hello" * 100)
    assert_error(r, 400, "notes.wav: not a readable audio file")
    r = call(
        srv, "POST", "/jobs/upload", params={"filename": "big.wav"}, content=b"\0" * (2**20 + 1)
    )
    assert_error(r, 413, "upload too large", "1 MB")

    def chunks():  # no Content-Length: the limit is enforced while streaming
        for _ in range(20):
            yield b"\0" * 2**16

    r = call(srv, "POST", "/jobs/upload", params={"filename": "big.wav"}, content=chunks())
    assert_error(r, 413, "more than")
    assert_error(call(srv, "POST", "/jobs/upload", content=data), 422, "filename")
    r = call(
        srv, "POST", "/jobs/upload", params={"filename": "r.wav", "tse_rounds": 99}, content=data
    )
    assert_error(r, 422, "tse_rounds")
    assert len(client.jobs()) == jobs_before
    assert len(list(srv.service.store.root.iterdir())) == jobs_before


def test_results_survive_a_restart(tmp_path, audio_root):
    with serving(tmp_path / "work", [audio_root]) as srv:
        c = EngineClient(srv.url, TOKEN)
        done = c.wait(c.submit(audio_root / "rec.wav")["id"])
    srv = InThreadServer(tmp_path / "work", [audio_root], FakeRunner()).start()
    try:
        c = EngineClient(srv.url, TOKEN)
        assert c.job(done["id"])["state"] == "done"
        assert c.manifest(done["id"])["recording"]["name"] == "rec"
        assert c.download_stem(done["id"], "latest", "rec_Speech.wav", tmp_path).is_file()
    finally:
        srv.stop()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_health_reports_a_dead_worker(srv, monkeypatch):
    assert httpx.get(srv.url + "/health").json()["status"] == "ok"

    def crash(timeout=None):
        raise SystemExit  # ends the worker thread, as anything escaping its loop would

    monkeypatch.setattr(srv.service.store, "take_next", crash)
    for _ in range(500):
        if not srv.service.worker.alive():
            break
        time.sleep(0.01)
    assert_error(httpx.get(srv.url + "/health"), 503, "job worker has stopped", "restart")


def test_errors_are_json_for_unknown_routes_and_methods(srv):
    assert_error(call(srv, "GET", "/nope"), 404, "no such endpoint")
    assert_error(call(srv, "DELETE", "/jobs"), 405, "not allowed")
    r = call(srv, "GET", "/jobs")
    assert json.loads(r.text) == {"jobs": []}


def test_event_stream_keeps_quiet_connections_alive(srv, client, audio_root, monkeypatch):
    import engine.server.app as app_module

    monkeypatch.setattr(app_module, "KEEPALIVE_S", 0.05)
    srv.runner.gate.clear()
    job = client.submit(audio_root / "rec.wav")
    assert srv.runner.started.wait(5)
    lines = []
    with httpx.stream("GET", f"{srv.url}/jobs/{job['id']}/events", headers=AUTH) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            lines.append(line)
            if line == ": keep-alive" and not srv.runner.gate.is_set():
                srv.runner.gate.set()
    assert lines[0] == "event: job" and ": keep-alive" in lines
    assert json.loads(lines[-2].removeprefix("data: "))["state"] == "done"
    with pytest.raises(Exception, match="no job 'nope'") as err:
        list(client.events("nope"))
    assert err.value.status == 404


def test_delete_over_http(srv, client, audio_root):
    done = client.wait(client.submit(audio_root / "rec.wav")["id"])
    srv.runner.gate.clear()
    running = client.submit(audio_root / "rec.wav")
    assert srv.runner.started.wait(5)
    assert_error(call(srv, "DELETE", f"/jobs/{running['id']}"), 409, "cancel it first")
    assert client.delete(done["id"]) == [done["id"]]
    assert not (srv.service.workdir / "jobs" / done["id"]).exists()
    assert_error(call(srv, "DELETE", f"/jobs/{done['id']}"), 404)
    assert_error(call(srv, "GET", f"/jobs/{done['id']}/versions/1/manifest"), 404)
    client.cancel(running["id"])
    srv.runner.gate.set()
    assert client.wait(running["id"])["state"] == "cancelled"
    assert client.delete(running["id"]) == [running["id"]]


def test_a_full_queue_answers_429_before_the_upload(tmp_path, audio_root):
    runner = FakeRunner()
    runner.gate.clear()
    srv = InThreadServer(tmp_path / "work", [audio_root], runner)
    srv.service.store.max_queued = 1
    srv.start()
    try:
        with EngineClient(srv.url, TOKEN) as c:
            c.submit(audio_root / "rec.wav")
            assert runner.started.wait(5)
            c.submit(audio_root / "rec.wav")  # waits: the queue is full now
            assert_error(
                call(srv, "POST", "/jobs", json={"path": str(audio_root / "rec.wav")}), 429
            )
            r = call(srv, "POST", "/jobs/upload", params={"filename": "a.wav"}, content=b"x" * 1000)
            assert_error(r, 429, "the queue is full (at most 1 waiting jobs)")
            assert len(list((tmp_path / "work" / "jobs").iterdir())) == 2
    finally:
        srv.stop()


@pytest.mark.parametrize("damage", [b"{not json", b"\xff\xfe\x00", b"[1, 2]", b'{"tracks": 3}'])
def test_a_damaged_manifest_answers_409_naming_no_server_path(srv, client, audio_root, damage):
    job = client.wait(client.submit(audio_root / "rec.wav")["id"])
    (srv.service.workdir / "jobs" / job["id"] / "v1" / "manifest.json").write_bytes(damage)
    op = {"kind": "remove_clip", "clip_id": "Speech-0"}
    for r in (
        call(srv, "GET", f"/jobs/{job['id']}/versions/1/manifest"),
        call(srv, "GET", f"/jobs/{job['id']}/versions/latest/stems/rec_Speech.wav"),
        call(srv, "POST", f"/jobs/{job['id']}/refine", json={"operation": op}),
    ):
        assert_error(r, 409, f"version 1 of job {job['id']} is damaged")
        assert str(srv.service.workdir) not in r.text and "/jobs/" not in r.json()["error"]


def test_a_refinement_whose_upload_is_gone_names_no_server_path(srv, client, audio_root):
    up = client.wait(client.upload(audio_root / "rec.wav")["id"])
    job_dir = srv.service.workdir / "jobs" / up["id"]
    (job_dir / "input" / "rec.wav").unlink()
    r = call(
        srv,
        "POST",
        f"/jobs/{up['id']}/refine",
        json={"operation": {"kind": "remove_clip", "clip_id": "Speech-0"}},
    )
    assert_error(r, 400, "rec: the recording of this result is gone")
    assert str(srv.service.workdir) not in r.text


def test_names_over_255_bytes_answer_400(srv, audio_root):
    long = "é" * 200 + ".wav"  # 200 characters, 404 bytes
    r = call(srv, "POST", "/jobs/upload", params={"filename": long}, content=b"RIFF" * 10)
    assert_error(r, 400, "upload file name is 404 bytes long; the limit is 255")
    for path in (audio_root / ("x" * 300 + ".wav"), audio_root / ("x" * 300) / "a.wav"):
        r = call(srv, "POST", "/jobs", json={"path": str(path)})
        assert_error(r, 400, "has a name of 30", "the limit is 255")
    assert not list((srv.service.workdir / "jobs").iterdir())
