"""Architecture rules of PRODUCT.md, checked on every module's imports (static, via the AST).

- engine never imports Qt, nor the editor (`desktop`) whose engine it is;
- desktop and plugins never import torch, and reach the engine only through engine.client
  (plus the torch-free engine.constants, engine.errors and the BWF file-format module).
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# engine.audio.bwf is a stdlib-only file-format module (Broadcast WAV chunks): sharing it keeps
# one BWF implementation instead of a copy in the desktop.
ENGINE_ALLOWED_FOR_CLIENTS = (
    "engine.client",
    "engine.constants",
    "engine.errors",
    "engine.audio.bwf",
)


def imports_of(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def modules(package: str):
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", modules("engine"), ids=lambda p: str(p.relative_to(ROOT)))
def test_engine_never_imports_qt_or_the_editor(path):
    bad = [
        n
        for n in imports_of(path)
        if n.split(".")[0] in {"PyQt6", "PySide6", "pyqtgraph", "desktop"}
    ]
    assert not bad, f"{path} imports {bad}"


@pytest.mark.parametrize(
    "path", modules("desktop") + modules("plugins"), ids=lambda p: str(p.relative_to(ROOT))
)
def test_front_ends_never_import_torch_or_engine_internals(path):
    names = imports_of(path)
    assert not [n for n in names if n.split(".")[0] == "torch"], f"{path} imports torch"
    internal = [
        n
        for n in names
        if n.split(".")[0] == "engine" and not n.startswith(ENGINE_ALLOWED_FOR_CLIENTS)
    ]
    assert not internal, f"{path} reaches engine internals {internal}; use engine.client"
