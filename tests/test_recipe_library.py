"""Recipes that ship with the package: listed, run and shown by name from any directory."""

from __future__ import annotations

import json
import tomllib

import pytest
from click.testing import CliRunner

from conftest import REPO
from ganzoo import RecipeSpec, hookimpl
from ganzoo.cli import main
from ganzoo.recipe import resolve
from ganzoo.session import read_recipe

BUILT_IN = sorted([
    "acgan_mnist", "cgan_projection_mnist", "dcgan_mnist", "infogan_dcgan", "infogan_resnet",
    "infogan_shapes2d", "infogan_cr_shapes2d",
    "lsgan_mnist", "ragan_mnist", "ralsgan_mnist", "smoke_acgan", "smoke_cgan", "smoke_infogan",
    "sngan_mnist", "wgan_gp_cifar10", "wgan_gp_mnist",
])


def _recipes(registry):
    return registry.components["recipe"]


def test_every_recipe_file_is_registered_and_resolves(registry):
    specs = _recipes(registry)
    assert sorted(specs) == BUILT_IN
    files = sorted(
        p.relative_to(REPO / "recipes").as_posix() for p in (REPO / "recipes").rglob("*.toml")
    )
    assert sorted(s.source.partition("recipes/")[2] for s in specs.values()) == files
    for spec in specs.values():
        resolve(
            tomllib.loads(spec.read_text()), registry, source=spec.source
        )  # strict: raises on a bad key
        assert spec.summary and spec.data and spec.provider.distribution == "torch-ganzoo"


def test_recipes_lists_name_summary_data_time_and_provider(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["recipes", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert rows["infogan_dcgan"]["data"] == "MNIST" and rows["infogan_dcgan"]["minutes"] > 0
    assert rows["smoke_infogan"]["provider"] == "recipes"
    text = CliRunner().invoke(main, ["recipes"], terminal_width=200).output
    assert "infogan_dcgan" in text and "8 min" in text and "not measured" in text


def test_show_by_name_from_another_directory_gives_a_runnable_file(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    shown = CliRunner().invoke(main, ["show", "infogan_dcgan"])
    assert shown.exit_code == 0, shown.output
    (tmp_path / "mine.toml").write_text(shown.output)
    checked = CliRunner().invoke(main, ["check", "mine.toml", "--set", "train.steps=5"])
    assert checked.exit_code == 0 and "mine.toml: ok (infogan-mnist-dcgan" in checked.output
    assert tomllib.loads(shown.output)["model"]["latent"]["digit"]["categories"] == 10


def test_run_by_name_in_an_empty_directory(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        main, ["run", "smoke_infogan", "--set", "train.steps=2", "--out", "r"]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "r" / "checkpoints" / "step_00000002.pt").exists()


def test_a_path_still_works_and_wins_over_a_name(monkeypatch, tmp_path):
    raw, source = read_recipe(REPO / "recipes" / "smoke" / "infogan_synthetic.toml")
    assert raw["name"] == "smoke-infogan" and source.endswith("infogan_synthetic.toml")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "smoke_infogan").write_text('name = "local file"\n')
    assert read_recipe("smoke_infogan")[0]["name"] == "local file"


def test_unknown_name_is_one_clear_error(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["run", "infogan_dcgn"])
    assert result.exit_code == 2
    assert (
        "no such recipe file, and no recipe of that name (did you mean 'infogan_dcgan'?)"
        in result.output
    )
    assert "Traceback" not in result.output


class ThirdPartyRecipes:
    """A plugin that ships its own recipe (here a file path; a wheel would use package:path)."""

    def __init__(self, path):
        self.path = path

    @hookimpl
    def ganzoo_recipes(self):
        return [
            RecipeSpec(
                name="tiny_gan",
                summary="a tiny GAN",
                source=str(self.path),
                data="none",
                minutes=0.1,
            )
        ]


def test_third_party_recipes_are_listed_with_their_provider_and_run(tmp_path):
    from ganzoo.plugins import load_plugins

    recipe = tmp_path / "tiny.toml"
    recipe.write_text((REPO / "recipes" / "smoke" / "infogan_synthetic.toml").read_text())
    plugins = load_plugins(autoload="first-party")
    plugins.register(
        ThirdPartyRecipes(recipe), "ganzoo-tiny", distribution="ganzoo-tiny", version="1.0"
    )
    spec = plugins.registry().components["recipe"]["tiny_gan"]
    assert str(spec.provider) == "ganzoo-tiny (ganzoo-tiny 1.0)"
    assert "smoke-infogan" in spec.read_text()
    assert "infogan_dcgan" in plugins.registry().components["recipe"]  # built-ins stay


@pytest.mark.parametrize("bad", [{"minutes": 0}, {"name": "Bad-Name"}])
def test_recipe_spec_validates(bad):
    fields = {"name": "ok", "summary": "s", "source": "x.toml", **bad}
    with pytest.raises(ValueError):
        RecipeSpec(**fields)
