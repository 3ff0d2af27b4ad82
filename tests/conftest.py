"""Shared test fixtures."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest


@pytest.fixture(scope="session")
def studio_twists() -> ModuleType:
    """``scripts/studio_twists.py``: simulated studios with confounding by indication and informative dropout."""
    spec = importlib.util.spec_from_file_location("studio_twists", Path(__file__).parents[1] / "scripts" / "studio_twists.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
