"""Fuzzing the HTTP API from its own OpenAPI schema (schemathesis): valid and invalid requests to
every operation, over loopback, must never get a 500 and every error must be the JSON body.

The server is the real app/service/store/worker with the in-test job function (fakes.py), and a
finished job exists, so operations on a job id reach the result and refinement checks too.
"""

from __future__ import annotations

import numpy as np
import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402

from engine.audio import write_audio  # noqa: E402
from engine.client import EngineClient  # noqa: E402
from tests.engine.server.fakes import TOKEN, serving  # noqa: E402


def fuzz(
    url: str, openapi: dict, job_id: str, examples: int, derandomize: bool, token: str = TOKEN
) -> dict[int, int]:
    """Run every operation's generated cases against `url`; returns a status histogram."""
    auth = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_dict(openapi)
    statuses: dict[int, int] = {}
    problems: list[str] = []
    for result in schema.get_all_operations():
        op = result.ok()
        has_input = bool(op.path_parameters or op.query or op.body)
        modes = [GenerationMode.POSITIVE] + ([GenerationMode.NEGATIVE] if has_input else [])
        pinned = [{}]
        # DELETE gets random ids only: deleting the finished job would leave the operations
        # after it nothing but 404s.
        if op.method.upper() != "DELETE" and any(p.name == "job_id" for p in op.path_parameters):
            pinned.append(
                {"job_id": job_id, "version": "1"} if "{version}" in op.path else {"job_id": job_id}
            )
        for mode in modes:
            for path_parameters in pinned:
                strategy = op.as_strategy(
                    generation_mode=mode, path_parameters=path_parameters or None
                )

                @settings(
                    max_examples=examples,
                    deadline=None,
                    database=None,
                    derandomize=derandomize,
                    suppress_health_check=list(HealthCheck),
                    phases=[Phase.generate],
                )
                @given(strategy)
                def check(case):
                    r = case.call(base_url=url, headers=auth, timeout=30)
                    statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                    if r.status_code >= 500:
                        problems.append(
                            f"{case.method} {case.formatted_path} -> {r.status_code} {r.text[:300]}"
                        )
                    elif r.status_code >= 400:
                        body = r.json()
                        if set(body) != {"error", "status"} or body["status"] != r.status_code:
                            problems.append(
                                f"{case.method} {case.formatted_path}: error body {body}"
                            )

                check()
    assert not problems, "\n".join(problems[:10])
    return statuses


@pytest.fixture
def server_with_result(tmp_path):
    root = tmp_path / "audio"
    write_audio(root / "rec.wav", np.zeros((4, 16_000), np.float32))
    with serving(tmp_path / "work", [root]) as srv, EngineClient(srv.url, TOKEN) as c:
        job = c.wait(c.submit(root / "rec.wav")["id"])
        yield srv, job["id"]


def test_fuzz_api_small(server_with_result):
    srv, job_id = server_with_result
    statuses = fuzz(srv.url, srv.app.openapi(), job_id, examples=2, derandomize=True)
    assert sum(statuses.values()) >= 30
    assert {200, 404, 422} <= set(statuses)


@pytest.mark.slow
def test_fuzz_api_many_cases(server_with_result):
    srv, job_id = server_with_result
    statuses = fuzz(srv.url, srv.app.openapi(), job_id, examples=25, derandomize=False)
    assert sum(statuses.values()) >= 300
