"""Every command through click's runner, including the error paths."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import RECIPES, SMOKE_RECIPE
from ganzoo.cli import main


@pytest.fixture
def cli():
    runner = CliRunner()

    def invoke(*args, **kwargs):
        return runner.invoke(main, [str(a) for a in args], catch_exceptions=False, **kwargs)

    return invoke


def test_help_lists_the_commands(cli):
    result = cli("--help")
    assert result.exit_code == 0
    for command in ("run", "check", "show", "components", "describe", "plugins"):
        assert re.search(rf"^\s+{command}\s", result.output, re.M), command


def test_components_json_lists_first_party_components(cli):
    result = cli("components", "--json")
    assert result.exit_code == 0
    rows = json.loads(result.output)
    names = {(r["kind"], r["name"]) for r in rows}
    assert ("backbone", "resnet") in names and ("latent_code", "categorical") in names
    assert ("dataset", "synthetic") in names and ("loss", "wasserstein") in names
    assert all(r["provider"] and r["summary"] for r in rows)


def test_components_of_one_kind(cli):
    result = cli("components", "losses")
    assert result.exit_code == 0
    assert "hinge" in result.output and "dcgan" not in result.output
    bad = cli("components", "backbonez")
    assert bad.exit_code == 2 and "did you mean 'backbone" in bad.output


def test_describe_shows_parameters(cli):
    result = cli("describe", "latent_code", "uniform", "--json")
    assert result.exit_code == 0
    info = json.loads(result.output)
    params = {p["name"]: p for p in info["parameters"]}
    assert params["dim"]["default"] == 1 and params["dim"]["bounds"] == {"ge": 1, "le": 100000}
    assert params["posterior_std"]["help"]
    shared = {p["name"] for p in info["shared_parameters"]}
    assert shared == {"regularized", "weight"}  # keys every code table accepts
    text = cli("describe", "optimizer", "adam")
    assert text.exit_code == 0 and "betas" in text.output and "0.5" in text.output


def test_describe_unknown_component_exits_2_with_suggestion(cli):
    result = cli("describe", "backbone", "resnat")
    assert result.exit_code == 2
    assert "unknown backbone 'resnat' (did you mean 'resnet'?)" in result.output
    assert "Traceback" not in result.output


def test_plugins_json_reports_status_and_failures(cli, tmp_path):
    broken = tmp_path / "explodes.py"
    broken.write_text("raise ImportError('needs a missing library')\n")
    result = cli("plugins", "--json", "-p", broken)
    assert result.exit_code == 0
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert rows["latent_codes"]["status"] == "loaded"
    assert rows["latent_codes"]["distribution"] == "torch-ganzoo"
    assert rows["explodes"]["status"] == "failed"
    assert "needs a missing library" in rows["explodes"]["error"]
    strict = cli("plugins", "-p", broken, "--strict-plugins")
    assert strict.exit_code == 2 and "explodes" in strict.output


def test_check_ok(cli):
    result = cli("check", RECIPES / "infogan_dcgan.toml")
    assert result.exit_code == 0, result.output
    assert "ok" in result.output and "digit, style" in result.output


def test_check_reports_three_mistakes_and_exits_2(cli, tmp_path):
    text = (RECIPES / "infogan_dcgan.toml").read_text()
    text = text.replace('type = "categorical"', 'type = "categorcal"')
    text = re.sub(r"(?m)^steps = ", "setps = ", text)
    text = re.sub(r"(?m)^batch_size = \d+", "batch_size = 0", text)
    path = tmp_path / "broken.toml"
    path.write_text(text)
    result = cli("check", path)
    assert result.exit_code == 2
    assert "3 problems" in result.output and str(path) in result.output
    assert "did you mean 'categorical'" in result.output
    assert "did you mean 'steps'" in result.output
    assert "data.batch_size: must be >= 1" in result.output
    assert "Traceback" not in result.output


def test_check_with_overrides_and_type_reset_note(cli):
    result = cli("check", SMOKE_RECIPE, "--set", "model.backbone.type=resnet", "--set", "train.steps=3")
    assert result.exit_code == 0, result.output
    assert "reset to resnet's defaults" in result.output


def test_check_bad_override_exits_2(cli):
    result = cli("check", SMOKE_RECIPE, "--set", "train.steps")
    assert result.exit_code == 2 and "expected PATH=VALUE" in result.output
    result = cli("check", SMOKE_RECIPE, "--set", "train.steps=-1")
    assert result.exit_code == 2 and "train.steps: must be >= 1" in result.output


def test_check_missing_file_exits_2(cli, tmp_path):
    result = cli("check", tmp_path / "nope.toml")
    assert result.exit_code == 2 and "recipe file not found" in result.output


def test_show_prints_the_resolved_recipe(cli):
    result = cli("show", SMOKE_RECIPE)
    assert result.exit_code == 0
    assert "discriminator_steps = 1" in result.output  # a default filled in
    as_json = json.loads(cli("show", SMOKE_RECIPE, "--json").output)
    assert as_json["train"]["step"]["q_head"]["optimizer"] == "discriminator"
    assert as_json["train"]["terms"]["mutual_information"] == {"type": "mutual_information", "weight": 1.0}


def test_run_dry_run(cli):
    result = cli("run", SMOKE_RECIPE, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "dry run ok" in result.output


def test_run_needs_a_recipe_or_resume(cli):
    assert cli("run").exit_code == 2


def test_run_bad_device_exits_2(cli, tmp_path):
    result = cli("run", SMOKE_RECIPE, "--out", tmp_path / "r", "--device", "tpu")
    assert result.exit_code == 2 and "--device" in result.output


def test_run_missing_data_gives_one_clear_error(cli, tmp_path):
    result = cli(
        "run", RECIPES / "infogan_dcgan.toml", "--out", tmp_path / "r",
        "--set", f"data.root={tmp_path / 'empty'}", "--set", "data.download=false",
    )
    assert result.exit_code == 2
    assert str(tmp_path / "empty") in result.output
    assert "Traceback" not in result.output


def test_run_refuses_to_overwrite_an_existing_run(cli, tmp_path):
    out = tmp_path / "run"
    first = cli("run", SMOKE_RECIPE, "--out", out, "--set", "train.steps=2")
    assert first.exit_code == 0, first.output
    again = cli("run", SMOKE_RECIPE, "--out", out, "--set", "train.steps=2")
    assert again.exit_code == 2 and "already holds a run" in again.output
    assert (out / "checkpoints" / "step_00000002.pt").exists()  # untouched
    forced = cli("run", SMOKE_RECIPE, "--out", out, "--set", "train.steps=1", "--overwrite")
    assert forced.exit_code == 0
    assert not (out / "checkpoints" / "step_00000002.pt").exists()


def test_run_and_resume_extends_a_run(cli, tmp_path):
    out = tmp_path / "run"
    assert cli("run", SMOKE_RECIPE, "--out", out, "--set", "train.steps=3").exit_code == 0
    resumed = cli("run", "--resume", out, "--set", "train.steps=6")
    assert resumed.exit_code == 0, resumed.output
    assert "from step_00000003.pt" in resumed.output
    assert (out / "checkpoints" / "step_00000006.pt").exists()
    refused = cli("run", "--resume", out, "--set", "model.backbone.base_channels=16")
    assert refused.exit_code == 2 and "cannot change on resume" in refused.output


def test_a_run_saved_before_an_option_existed_still_resumes(cli, tmp_path):
    """A checkpoint from an older ganzoo lacks keys added since; their defaults apply and
    extending the run must not read them as model changes (yet overriding them is refused)."""
    import torch

    out = tmp_path / "run"
    assert cli("run", SMOKE_RECIPE, "--out", out, "--set", "train.steps=2").exit_code == 0
    path = out / "checkpoints" / "step_00000002.pt"
    payload = torch.load(path, weights_only=True)
    del payload["recipe"]["train"]["step"]["q_head"]["batch_norm"]
    from ganzoo.checkpoint import save_checkpoint

    save_checkpoint(path, payload)  # with a fresh checksum: an old ganzoo's intact file
    resumed = cli("run", "--resume", out, "--set", "train.steps=4")
    assert resumed.exit_code == 0, resumed.output
    assert (out / "checkpoints" / "step_00000004.pt").exists()
    refused = cli("run", "--resume", out, "--set", "train.step.q_head.batch_norm=false")
    assert refused.exit_code == 2 and "train.step.q_head.batch_norm" in refused.output
    assert "cannot change on resume" in refused.output


REAL_DATA = "train.terms.real_data_information"


def test_an_augmentation_strength_without_affine_copies_is_reported(cli):
    result = cli("check", SMOKE_RECIPE, "--set", f"{REAL_DATA}.augmentation=none",
                 "--set", f"{REAL_DATA}.augmentation_strength=2.0")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"{REAL_DATA}.augmentation_strength: only scales the 'affine'" in result.output
    fine = cli("check", SMOKE_RECIPE, "--set", f"{REAL_DATA}.augmentation_strength=2.0")
    assert fine.exit_code == 0, fine.output


def test_invariance_term_mistakes_name_the_key(cli):
    term = "train.terms.invariant_information"
    result = cli("check", SMOKE_RECIPE, "--set", f'{term}.codes=["noise", "colour"]')
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"{term}.codes: code 'noise' is not regularized" in result.output
    assert f"{term}.codes: no code 'colour' in model.latent" in result.output
    fine = cli("check", SMOKE_RECIPE, "--set", f'{term}.codes=["digit"]',
               "--set", f"{term}.augmentation_strength=2.0")
    assert fine.exit_code == 0, fine.output
    assert "invariant_information" in fine.output


def test_real_data_term_mistakes_name_the_key(cli):
    result = cli(
        "check", SMOKE_RECIPE,
        "--set", f'{REAL_DATA}.codes=["noise", "digit"]',
        "--set", "train.step.q_head.optimizer=generator",
    )
    assert result.exit_code == 2
    assert f"{REAL_DATA}.codes: code 'noise' is not regularized" in result.output
    assert "train.step.q_head.optimizer: the real-data term trains Q in D's phase" in result.output
    for command in (["run", SMOKE_RECIPE, "--dry-run"], ["check", SMOKE_RECIPE]):
        result = cli(*command, "--set", f'{REAL_DATA}.codes=["style"]')
        assert result.exit_code == 2 and "Traceback" not in result.output, command
        assert f"{REAL_DATA}: code 'style' (type 'uniform') has no real-data term" in result.output
        assert "'categorical'" in result.output


def test_a_term_the_step_cannot_serve_is_a_recipe_error(cli):
    result = cli("check", "recipes/dcgan_mnist.toml", "--set", "train.terms.mutual_information.weight=1.0")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "train.terms.mutual_information: term 'mutual_information' needs a step that provides posterior" in result.output
    assert "infogan" in result.output  # the steps that would serve it


def test_optimizer_tables_follow_the_step_roles(cli):
    result = cli("check", SMOKE_RECIPE, "--set", "train.optimizer.encoder.lr=0.1",
                 "--set", "train.optimizer.generatr.lr=0.1")
    assert result.exit_code == 2
    assert "train.optimizer.encoder: step 'infogan' has no optimiser role 'encoder'" in result.output
    assert "(did you mean 'generator'?)" in result.output


def test_keys_of_old_recipes_say_where_they_moved(cli, tmp_path):
    old = tmp_path / "old.toml"
    old.write_text(Path(SMOKE_RECIPE).read_text().replace("[train.step.q_head]", "[model.q_head]"))
    result = cli("check", old, "--set", "loss.gradient_penalty=10", "--set", "train.discriminator_steps=2")
    assert result.exit_code == 2
    assert "model.q_head: moved to [train.step.q_head]" in result.output
    assert "loss.gradient_penalty: moved to [train.terms.gradient_penalty]" in result.output
    assert "train.discriminator_steps: moved to train.step.discriminator_steps" in result.output


def test_checkpoints_of_ganzoo_0_1_name_the_version_that_wrote_them(cli, tmp_path):
    import torch

    out = tmp_path / "run"
    assert cli("run", SMOKE_RECIPE, "--out", out, "--set", "train.steps=2").exit_code == 0
    path = out / "checkpoints" / "step_00000002.pt"
    payload = torch.load(path, weights_only=True)
    payload["format"] = "ganzoo-checkpoint/1"
    payload["versions"]["ganzoo"] = "0.1.0"
    torch.save(payload, path)
    for command in (["eval", out, "--json"], ["sample", out, "--out", tmp_path / "s.png"],
                    ["run", "--resume", out, "--set", "train.steps=4"]):
        result = cli(*command)
        assert result.exit_code == 2 and "Traceback" not in result.output, command
        assert "written by ganzoo 0.1.0" in result.output, result.output
        assert "pip install 'torch-ganzoo==0.1.0'" in result.output
    assert not (tmp_path / "s.png").exists()
