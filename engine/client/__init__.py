"""The engine's client: how the editor, the plugins and `separate --server` reach an engine.

Torch-free by design (httpx and the standard library only), so front ends start fast.
"""

from engine.client.client import EngineClient, EngineError, plain_file_name, result_files
from engine.client.local import LocalEngine

__all__ = ["EngineClient", "EngineError", "LocalEngine", "plain_file_name", "result_files"]
