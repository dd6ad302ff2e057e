"""The engine's client: how the editor, the plugins and `separate --server` reach an engine.

Torch-free by design (httpx and the standard library only), so front ends start fast.
Stem delivery (numpy, soundfile, soxr) is here too: the editor writes exported stems itself.
"""

from engine.audio.delivery import StemFormat, deliver_stem
from engine.client.client import EngineClient, EngineError, plain_file_name, result_files
from engine.client.local import LocalEngine
from engine.contract import (
    DEFAULTS,
    MANIFEST_FILE,
    TERMINAL_STATES,
    AddClass,
    ChangeClass,
    ChangeTrack,
    Operation,
    RemoveClip,
    RemoveTrack,
    SeparationOptions,
    default_engine_workdir,
    example_recording,
    operation_from_dict,
    result_version_dir,
    version_folder,
)
from engine.durable import write_text_durable

__all__ = [
    "DEFAULTS",
    "MANIFEST_FILE",
    "TERMINAL_STATES",
    "AddClass",
    "ChangeClass",
    "ChangeTrack",
    "EngineClient",
    "EngineError",
    "LocalEngine",
    "Operation",
    "RemoveClip",
    "RemoveTrack",
    "SeparationOptions",
    "StemFormat",
    "default_engine_workdir",
    "deliver_stem",
    "example_recording",
    "operation_from_dict",
    "plain_file_name",
    "result_files",
    "result_version_dir",
    "version_folder",
    "write_text_durable",
]
