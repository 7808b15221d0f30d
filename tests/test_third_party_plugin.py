"""A real third-party plugin package (tests/plugin_package), installed into the environment
by the test command, adds a latent code through the `ganzoo` entry-point group."""

from __future__ import annotations

import importlib.metadata
import json

import pytest
from click.testing import CliRunner

from conftest import REPO
from ganzoo.checkpoint import load_checkpoint
from ganzoo.cli import main
from ganzoo.plugins import load_plugins
from ganzoo.testing import check_latent_code

PLUGIN_RECIPE = REPO / "tests" / "plugin_package" / "recipe.toml"

try:
    importlib.metadata.distribution("ganzoo-bernoulli")
    INSTALLED = True
except importlib.metadata.PackageNotFoundError:
    INSTALLED = False

pytestmark = pytest.mark.skipif(
    not INSTALLED, reason="ganzoo-bernoulli is not installed; 'make test' installs it"
)


@pytest.fixture
def autoload_all(monkeypatch):
    monkeypatch.delenv("GANZOO_DISABLE_PLUGIN_AUTOLOAD", raising=False)


def test_entry_point_is_discovered_with_its_distribution(autoload_all):
    registry = load_plugins().registry()
    spec = registry.get("latent_code", "bernoulli")
    assert spec.provider.distribution == "ganzoo-bernoulli"
    assert spec.provider.version == "0.2.0"


def test_the_plugin_passes_the_conformance_checks(autoload_all):
    spec = load_plugins().registry().get("latent_code", "bernoulli")
    check_latent_code(spec.build(spec.config(dim=3)))


def test_autoload_off_hides_third_party_plugins():
    registry = load_plugins(autoload="first-party").registry()
    assert registry.find("latent_code", "bernoulli") is None
    assert "categorical" in registry.names("latent_code")


def test_components_and_plugins_commands_list_it(autoload_all):
    runner = CliRunner()
    rows = json.loads(runner.invoke(main, ["components", "latent_code", "--json"]).output)
    assert {"name": "bernoulli", "distribution": "ganzoo-bernoulli"}.items() <= next(
        r for r in rows if r["name"] == "bernoulli"
    ).items()
    plugins = json.loads(runner.invoke(main, ["plugins", "--json"]).output)
    record = next(p for p in plugins if p["distribution"] == "ganzoo-bernoulli")
    assert record["status"] == "loaded" and "latent_code:bernoulli" in record["components"]
    blocked = json.loads(runner.invoke(main, ["plugins", "--json", "-p", "no:bernoulli"]).output)
    assert next(p for p in blocked if p["name"] == "bernoulli")["status"] == "blocked"


def test_a_recipe_trains_with_the_third_party_code(autoload_all, tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["run", str(PLUGIN_RECIPE), "--out", str(out)])
    assert result.exit_code == 0, result.output
    payload = load_checkpoint(out / "checkpoints" / "step_00000004.pt")
    provenance = payload["components"]["model.latent.bits"]
    assert provenance["distribution"] == "ganzoo-bernoulli" and provenance["version"] == "0.2.0"
    # Q's head outputs one logit per bit beside nothing else (only `bits` is regularised).
    assert payload["models"]["q_head"]["net.3.weight"].shape[0] == 3


def test_resuming_without_the_plugin_names_the_missing_distribution(autoload_all, tmp_path):
    out = tmp_path / "run"
    assert CliRunner().invoke(main, ["run", str(PLUGIN_RECIPE), "--out", str(out)]).exit_code == 0
    result = CliRunner().invoke(main, ["run", "--resume", str(out), "-p", "no:bernoulli"])
    assert result.exit_code == 2
    assert "unknown latent code 'bernoulli'" in result.output
    assert "ganzoo-bernoulli 0.2.0" in result.output
