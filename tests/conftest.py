"""Shared fixtures. Core tests see ganzoo's first-party plugins only, so plugins installed in
a developer's environment cannot change them; tests that need more register their own."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RECIPES = REPO / "recipes"
SMOKE_RECIPE = RECIPES / "smoke" / "infogan_synthetic.toml"


def load_benchmark(name: str):
    """Import ``benchmarks/NAME.py`` (the folder is scripts, not a package), once."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def mnist_root() -> Path | None:
    """Where real MNIST lies: $GANZOO_DATA_ROOT, else the shared copy beside the repo."""
    candidates = [os.environ.get("GANZOO_DATA_ROOT"), str(REPO.parent / "shared" / "data")]
    for candidate in candidates:
        if candidate and (Path(candidate) / "MNIST" / "raw" / "train-images-idx3-ubyte").exists():
            return Path(candidate)
    return None


requires_mnist = pytest.mark.skipif(
    mnist_root() is None,
    reason="real MNIST not found in $GANZOO_DATA_ROOT/MNIST/raw or ../shared/data/MNIST/raw",
)


@pytest.fixture(autouse=True)
def _first_party_plugins_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GANZOO_DISABLE_PLUGIN_AUTOLOAD", "1")


@pytest.fixture
def plugin_set():
    from ganzoo.plugins import load_plugins

    return load_plugins(autoload="first-party")


@pytest.fixture
def registry(plugin_set):
    return plugin_set.registry()
