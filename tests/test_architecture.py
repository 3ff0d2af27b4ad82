"""The package's public API and its one-way layering (docs/architecture.md)."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import backpain_analysis as bp

PACKAGE = Path(bp.__file__).parent

# Lower numbers are lower layers; a module may import only from its own layer or lower.
LAYERS: dict[str, int] = {
    "errors": 0,
    "contract": 0,
    "coded": 1,
    "lags": 0,
    "tidy": 1,
    "catalog": 1,
    "instruments": 1,
    "pseudonyms": 1,
    "dataset": 1,
    "writing": 1,
    "mixed_engine": 1,
    "mixed": 2,
    "ipcw": 2,
    "reading": 2,
    "column_rules": 2,
    "partitions": 2,
    "loading": 3,
    "importers": 3,
    "panel": 4,
    "simulate": 4,
    "volume_model": 5,
    "responders": 5,
    "dose_response": 6,
    "programs": 6,
    "sensitivity": 6,
    "effect_modification": 7,
    "simulation_study": 6,
    "narrative": 1,
    "evidence": 1,
    "descriptives": 2,
    "summary": 7,
    "power": 6,
    "provider_comparison": 6,
    "dropout_sensitivity": 6,
    "scale": 6,
    "figures": 7,
    "notebook": 8,
    "recipes": 8,
    "report": 8,
    "cli": 9,
    "notebooks": 10,
}
ENGINE = {"mixed", "mixed_engine"}


def _top_module(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return parts[0]


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("backpain_analysis."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("backpain_analysis.")}
    return found


SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


def test_every_module_has_a_layer() -> None:
    assert {_top_module(p) for p in SOURCES} <= set(LAYERS)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_nothing_lower_imports_anything_higher(path: Path) -> None:
    own = _top_module(path)
    for imported in _imports(path):
        assert LAYERS[imported] <= LAYERS[own], f"{own} (layer {LAYERS[own]}) imports {imported} (layer {LAYERS[imported]})"
        if own in ENGINE:
            assert imported in ENGINE | {"errors"}, f"the engine must not know {imported}"


@pytest.mark.parametrize("name", bp.__all__)
def test_public_names_resolve_and_are_documented(name: str) -> None:
    obj = getattr(bp, name)
    assert inspect.getdoc(obj), f"{name} has no docstring"
