"""One set of separation defaults and protocol names, used by every side."""

from __future__ import annotations

import inspect
import json

import pytest

from engine.cli.main import build_parser
from engine.client import (
    DEFAULTS,
    TERMINAL_STATES,
    AddClass,
    ChangeClass,
    ChangeTrack,
    RemoveClip,
    RemoveTrack,
    default_engine_workdir,
    operation_from_dict,
    version_folder,
)
from engine.contract import JOB_STATES, PAPER_TSE_ROUNDS
from engine.errors import ScenesplitError
from engine.pipeline.separator import Separator
from engine.pipeline.windows import WindowSpec
from engine.server import jobs
from engine.server.schemas import JobOptions, RefineRequest


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
    # The report's values (METHOD.md); TSE rounds are the bundle's choice unless asked.
    assert (PAPER_TSE_ROUNDS, DEFAULTS.window_s, DEFAULTS.hop_s) == (2, 10.0, 7.5)
    assert DEFAULTS.tse_rounds is None


def test_protocol_names_are_the_servers(monkeypatch, tmp_path):
    assert jobs.STATES == JOB_STATES and jobs.TERMINAL == TERMINAL_STATES
    assert TERMINAL_STATES < set(JOB_STATES) and "running" not in TERMINAL_STATES
    assert version_folder(3) == "v3"
    monkeypatch.setenv("SCENESPLIT_CACHE", str(tmp_path))
    assert default_engine_workdir() == tmp_path / "engine"


CORRECTIONS = [
    ChangeClass("Speech-0", "Doorbell"),
    ChangeTrack("Speech", "Cough"),
    RemoveClip("Speech-1"),
    RemoveTrack("Speech"),
    AddClass("Cough", 1.0, 2.5),
    AddClass("Cough", 1.0, 2.5, enrollment_region=(0.5, 1.5)),
    AddClass("Cough", 1.0, 2.5, enrollment_file="/data/cough.wav"),
]


@pytest.mark.parametrize("op", CORRECTIONS, ids=lambda op: op.kind)
def test_a_correction_is_one_type_from_the_editor_to_the_pipeline(op):
    wire = json.loads(json.dumps(op.to_dict()))
    assert wire["kind"] == op.kind
    assert operation_from_dict(wire) == op
    # The server's schema accepts exactly this form and gives the same correction back.
    request = RefineRequest(operation=wire)
    assert operation_from_dict(request.operation.model_dump()) == op
    assert op.describe()


def test_bad_corrections_are_named():
    cases = [
        ({"kind": "explode"}, "unknown operation 'explode'"),
        ({"kind": "remove_clip"}, "bad remove_clip operation"),
        ({"kind": "add_class", "label": "Cough", "start_s": 2, "end_s": 1}, "empty time range"),
        (
            {
                "kind": "add_class",
                "label": "Cough",
                "start_s": 1,
                "end_s": 2,
                "enrollment_region": [3, 3],
            },
            "empty enrollment region",
        ),
        (
            {
                "kind": "add_class",
                "label": "Cough",
                "start_s": 1,
                "end_s": 2,
                "enrollment_region": [0, 1],
                "enrollment_file": "/x.wav",
            },
            "not both",
        ),
    ]
    for data, fragment in cases:
        with pytest.raises(ScenesplitError, match=fragment):
            operation_from_dict(data)
