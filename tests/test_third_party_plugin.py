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
    saved = (out / "recipe.toml").read_text()
    assert 'plugins = [\n    "bernoulli (ganzoo-bernoulli 0.2.0)",\n]' in saved  # what the run needs
    result = CliRunner().invoke(main, ["run", "--resume", str(out), "-p", "no:bernoulli"])
    assert result.exit_code == 2
    assert "needs plugin 'bernoulli', which is blocked (-p no:bernoulli)" in result.output
    assert "came from plugin bernoulli (ganzoo-bernoulli 0.2.0)" in result.output


def test_a_recipe_requires_an_installed_plugin_by_entry_point_name(tmp_path):
    # autoloading is off here (as with GANZOO_DISABLE_PLUGIN_AUTOLOAD): the recipe's
    # requirement loads the installed entry point, and only that
    recipe = tmp_path / "needs.toml"
    recipe.write_text('plugins = ["bernoulli"]\n' + PLUGIN_RECIPE.read_text())
    result = CliRunner().invoke(main, ["show", str(recipe)])
    assert result.exit_code == 0, result.output
    assert '"bernoulli (ganzoo-bernoulli 0.2.0)"' in result.output
    old = tmp_path / "old.toml"
    old.write_text('plugins = ["bernoulli (ganzoo-bernoulli 0.0.1)"]\n' + PLUGIN_RECIPE.read_text())
    result = CliRunner().invoke(main, ["check", str(old)])
    assert result.exit_code == 0, result.output
    assert "ganzoo-bernoulli 0.2.0 is installed; the recipe was written with 0.0.1" in result.output


def test_a_plugin_cannot_knock_out_a_built_in_of_the_same_name(autoload_all):
    registry = load_plugins().registry()
    built_in = registry.get("latent_code", "uniform")
    assert built_in.provider.distribution == "torch-ganzoo"  # the flagship's code is intact
    other = registry.get("latent_code", "bernoulli:uniform")
    assert other.provider.distribution == "ganzoo-bernoulli"
    (conflict,) = [c for c in registry.conflicts if c.name == "uniform"]
    assert conflict.kept == built_in.provider
    message = conflict.message()
    assert "torch-ganzoo" in message and "ganzoo-bernoulli" in message and "'bernoulli:uniform'" in message


def test_the_clash_is_reported_and_both_remain_usable(autoload_all, tmp_path):
    runner = CliRunner()
    listed = runner.invoke(main, ["components", "latent_code"])
    assert listed.exit_code == 0 and "bernoulli:uniform" in listed.output
    assert "the built-in from latent_codes keeps the name" in listed.output
    flagship = runner.invoke(main, ["check", str(REPO / "recipes" / "infogan_dcgan.toml")])
    assert flagship.exit_code == 0, flagship.output
    assert "name clash" in flagship.output
    qualified = runner.invoke(main, ["show", str(PLUGIN_RECIPE), "--json",
                                     "--set", "model.latent.noise.type=bernoulli:uniform"])
    assert qualified.exit_code == 0, qualified.output
    recipe = json.loads(qualified.stdout)
    assert recipe["model"]["latent"]["noise"]["type"] == "bernoulli:uniform"
    blocked = runner.invoke(main, ["components", "latent_code", "-p", "no:bernoulli"])
    assert "bernoulli:uniform" not in blocked.output and "clash" not in blocked.output
