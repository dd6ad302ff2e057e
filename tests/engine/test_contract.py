"""One set of separation defaults and protocol names, used by every side."""

from __future__ import annotations

import inspect

from engine.cli.main import build_parser
from engine.client import DEFAULTS, TERMINAL_STATES, default_engine_workdir, version_folder
from engine.contract import JOB_STATES
from engine.pipeline.separator import Separator
from engine.pipeline.windows import WindowSpec
from engine.server import jobs
from engine.server.schemas import JobOptions


def test_every_side_takes_its_defaults_from_the_contract():
    server = JobOptions()
    assert (server.tse_rounds, server.window_s, server.hop_s, server.batch_windows) == (
        DEFAULTS.tse_rounds,
        DEFAULTS.window_s,
        DEFAULTS.hop_s,
        DEFAULTS.batch_windows,
    )
    cli = build_parser().parse_args(["separate", "x.wav", "-o", "out"])
    assert (cli.tse_rounds, cli.window, cli.hop, cli.batch) == (
        DEFAULTS.tse_rounds,
        DEFAULTS.window_s,
        DEFAULTS.hop_s,
        DEFAULTS.batch_windows,
    )
    assert (WindowSpec().window_s, WindowSpec().hop_s) == (DEFAULTS.window_s, DEFAULTS.hop_s)
    params = inspect.signature(Separator.__init__).parameters
    assert params["tse_rounds"].default == DEFAULTS.tse_rounds
    assert params["batch_windows"].default == DEFAULTS.batch_windows
    # The report's values (METHOD.md).
    assert (DEFAULTS.tse_rounds, DEFAULTS.window_s, DEFAULTS.hop_s) == (2, 10.0, 7.5)


def test_protocol_names_are_the_servers(monkeypatch, tmp_path):
    assert jobs.STATES == JOB_STATES and jobs.TERMINAL == TERMINAL_STATES
    assert TERMINAL_STATES < set(JOB_STATES) and "running" not in TERMINAL_STATES
    assert version_folder(3) == "v3"
    monkeypatch.setenv("SCENESPLIT_CACHE", str(tmp_path))
    assert default_engine_workdir() == tmp_path / "engine"
