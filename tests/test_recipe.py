"""Recipe loading, strict validation, overrides and the resolved form."""

from __future__ import annotations

import tomllib

import pytest

from conftest import RECIPES
from ganzoo.errors import RecipeError, UserError
from ganzoo.recipe import apply_overrides, parse_override, read_toml, resolve

ALL_RECIPES = sorted(RECIPES.rglob("*.toml"))


@pytest.mark.parametrize("path", ALL_RECIPES, ids=lambda p: p.name)
def test_every_shipped_recipe_resolves_and_round_trips(path, registry):
    recipe = resolve(read_toml(path), registry, str(path))
    again = resolve(tomllib.loads(recipe.to_toml()), registry, "resolved")
    assert again == recipe


def test_resnet_recipe_differs_only_in_the_backbone(registry):
    dcgan = resolve(read_toml(RECIPES / "infogan_dcgan.toml"), registry).to_dict()
    resnet = resolve(read_toml(RECIPES / "infogan_resnet.toml"), registry).to_dict()
    dcgan.pop("name"), resnet.pop("name")
    dcgan["model"].pop("backbone"), resnet["model"].pop("backbone")
    assert dcgan == resnet


def test_infogan_recipe_matches_the_paper(registry):
    recipe = resolve(read_toml(RECIPES / "infogan_dcgan.toml"), registry)
    latent = recipe.latent
    assert latent["noise"].config.dim == 62 and not latent["noise"].settings.regularized
    assert latent["digit"].config.categories == 10 and latent["digit"].settings.regularized
    # the paper has two continuous codes; the recipe's third is a measured departure (README)
    assert latent["style"].config.dim == 3 and latent["style"].type == "uniform"
    assert latent["style"].settings.regularized
    assert recipe.optimizers["generator"].config.lr == 1e-3
    assert recipe.optimizers["discriminator"].config.lr == 2e-4
    assert recipe.optimizers["discriminator"].config.betas[0] == 0.5


def _raw(registry_path=RECIPES / "smoke" / "infogan_synthetic.toml"):
    return read_toml(registry_path)


def test_three_mistakes_are_reported_together_with_suggestions(registry):
    raw = _raw()
    raw["train"]["setps"] = 10  # unknown key
    raw["model"]["latent"]["digit"]["type"] = "categorcal"  # unknown component
    raw["data"]["batch_size"] = -4  # out of range
    with pytest.raises(RecipeError) as info:
        resolve(raw, registry, "broken.toml")
    message = str(info.value)
    assert message.startswith("broken.toml: 3 problems")
    assert "train.setps: unknown key (did you mean 'steps'?)" in message
    assert "model.latent.digit.type: unknown latent code 'categorcal' (did you mean 'categorical'?)" in message
    assert "data.batch_size: must be >= 1 and <= 65536, got -4" in message


def test_wrong_types_are_named_with_what_is_accepted(registry):
    raw = _raw()
    raw["train"]["steps"] = "many"
    raw["train"]["precision"] = "fp8"
    raw["model"]["latent"]["style"]["weight"] = True
    raw["train"]["optimizer"]["generator"]["betas"] = [0.5]
    with pytest.raises(RecipeError) as info:
        resolve(raw, registry)
    message = str(info.value)
    assert "train.steps: expected an integer, got 'many'" in message
    assert "train.precision: 'fp8' is not accepted; accepted: bf16, fp16, fp32" in message
    assert "model.latent.style.weight: expected a number, got true" in message
    assert "train.optimizer.generator.betas: expected a list of 2 values" in message


def test_component_specific_keys_are_checked_against_the_component(registry):
    raw = _raw()
    raw["model"]["backbone"]["channels"] = 64  # a resnet key on a dcgan table
    with pytest.raises(RecipeError) as info:
        resolve(raw, registry)
    assert "model.backbone.channels: unknown key" in str(info.value)
    assert "base_channels" in str(info.value)


def test_cross_field_checks_come_from_the_config_class(registry):
    raw = _raw()
    raw["model"]["latent"]["style"].update(low=1.0, high=-1.0)
    with pytest.raises(RecipeError, match="model.latent.style: low .* must be below high"):
        resolve(raw, registry)


def test_missing_required_parts(registry):
    with pytest.raises(RecipeError) as info:
        resolve({"name": "x"}, registry)
    message = str(info.value)
    assert "data: required" in message and "model.latent: required" in message


def test_overrides_parse_values_as_toml():
    assert parse_override("train.steps=200") == ("train.steps", 200)
    assert parse_override("a.b=1e-3") == ("a.b", 1e-3)
    assert parse_override("a.b=true") == ("a.b", True)
    assert parse_override("a.b=[0.0, 0.9]") == ("a.b", [0.0, 0.9])
    assert parse_override("model.backbone.type=resnet") == ("model.backbone.type", "resnet")
    assert parse_override('name="two words"') == ("name", "two words")
    with pytest.raises(UserError, match="expected PATH=VALUE"):
        parse_override("train.steps")
    with pytest.raises(UserError, match="not a dotted key path"):
        parse_override("train..steps=3")


def test_setting_a_type_resets_the_table_and_says_what_it_dropped(registry):
    raw = _raw()
    raw2, notes = apply_overrides(raw, ["model.backbone.type=resnet"], registry)
    assert raw2["model"]["backbone"] == {"type": "resnet"}
    assert raw["model"]["backbone"]["type"] == "dcgan"  # the input is not modified
    assert len(notes) == 1 and "dropped base_channels=8, hidden=64" in notes[0]
    recipe = resolve(raw2, registry)
    assert recipe.backbone.type == "resnet" and recipe.backbone.config.channels == 128


def test_type_reset_keeps_the_keys_shared_by_the_kind(registry):
    raw = _raw()
    raw2, _ = apply_overrides(raw, ["model.latent.style.type=gaussian"], registry)
    assert raw2["model"]["latent"]["style"] == {"type": "gaussian", "regularized": True, "weight": 0.1}


def test_override_into_a_value_is_an_error(registry):
    with pytest.raises(UserError, match="'train.steps' is a value, not a table"):
        apply_overrides(_raw(), ["train.steps.x=1"], registry)


def test_bad_toml_names_the_file(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[data\ntype = 'mnist'\n")
    with pytest.raises(RecipeError, match="bad.toml: 1 problem"):
        read_toml(path)
    with pytest.raises(UserError, match="recipe file not found"):
        read_toml(tmp_path / "missing.toml")
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(UserError, match="not UTF-8"):
        read_toml(binary)
