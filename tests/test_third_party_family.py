"""A whole GAN family from a third-party package (tests/family_package: BiGAN, a step with an
encoder network, and a loss term of its own), installed by the test command and trained from
a recipe by name. Nothing under ganzoo/ mentions it."""

from __future__ import annotations

import importlib.metadata
import json
import shutil

import pytest
import torch
from click.testing import CliRunner
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from conftest import REPO, SMOKE_RECIPE
from ganzoo.checkpoint import load_checkpoint
from ganzoo.cli import main
from ganzoo.plugins import load_plugins
from ganzoo.recipe import read_toml, resolve
from ganzoo.testing import check_loss_term, check_training_step
from ganzoo.training import Trainer

FAMILY_RECIPE = REPO / "tests" / "family_package" / "recipe.toml"

try:
    importlib.metadata.distribution("ganzoo-bigan")
    INSTALLED = True
except importlib.metadata.PackageNotFoundError:
    INSTALLED = False


@pytest.fixture
def autoload_all(monkeypatch):
    monkeypatch.delenv("GANZOO_DISABLE_PLUGIN_AUTOLOAD", raising=False)


def _cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


needs_family = pytest.mark.skipif(
    not INSTALLED, reason="ganzoo-bigan is not installed; 'make test' installs it"
)


@needs_family
def test_components_lists_the_familys_step_and_term(autoload_all):
    rows = json.loads(_cli("components", "--json").output)
    step = next(r for r in rows if r["kind"] == "step" and r["name"] == "bigan")
    term = next(r for r in rows if r["kind"] == "term" and r["name"] == "latent_reconstruction")
    assert step["distribution"] == term["distribution"] == "ganzoo-bigan"
    assert step["optimizer_roles"] == ["generator", "discriminator"]
    assert step["provides"] == ["encoder"] and term["needs"] == ["encoder"]


@needs_family
def test_the_family_trains_checkpoints_logs_its_term_samples_and_evaluates(autoload_all, tmp_path):
    checked = _cli("check", FAMILY_RECIPE)
    assert checked.exit_code == 0 and "step bigan; terms: latent_reconstruction" in checked.output
    out = tmp_path / "run"
    result = _cli("run", FAMILY_RECIPE, "--out", out)
    assert result.exit_code == 0, result.output
    assert "rec[shape]" in result.output  # the step's progress_labels
    payload = load_checkpoint(out / "checkpoints" / "step_00000004.pt")
    assert set(payload["models"]) == {"generator", "encoder", "discriminator"}
    assert payload["components"]["train.step"]["distribution"] == "ganzoo-bigan"
    assert payload["components"]["train.terms.latent_reconstruction"]["distribution"] == "ganzoo-bigan"
    # E's own layer maps trunk features to the whole latent: 8 noise + 2 categorical columns
    assert payload["models"]["encoder"]["out.weight"].shape[0] == 10

    acc = EventAccumulator(str(out), size_guidance={"scalars": 0})
    acc.Reload()
    tags = acc.Tags()["scalars"]
    assert {"loss/generator/latent_reconstruction", "loss/discriminator/adversarial",
            "latent_reconstruction/noise", "latent_reconstruction/shape"} <= set(tags)
    values = [e.value for e in acc.Scalars("loss/generator/latent_reconstruction")]
    assert len(values) == 2 and all(v > 0 for v in values)

    sampled = _cli("sample", out, "--out", tmp_path / "grid.png", "--n", "4")
    assert sampled.exit_code == 0, sampled.output
    assert (tmp_path / "grid.png").stat().st_size > 0
    # evaluation reads the encoder through the step's posterior()
    evaluated = _cli("eval", out, "--json", "--samples", "64",
                     "--metric", "mutual_information", "--metric", "categorical_accuracy")
    assert evaluated.exit_code == 0, evaluated.output
    code = json.loads(evaluated.stdout)["codes"]["shape"]
    assert 0 <= code["accuracy"] <= 1 and code["mi_lower_bound"] is not None
    resumed = _cli("run", "--resume", out, "--set", "train.steps=6")
    assert resumed.exit_code == 0, resumed.output
    assert (out / "checkpoints" / "step_00000006.pt").exists()


@needs_family
def test_the_family_passes_the_conformance_checks(autoload_all, tmp_path):
    registry = load_plugins().registry()
    trainer = Trainer(resolve(read_toml(FAMILY_RECIPE), registry), registry, tmp_path, torch.device("cpu"))
    stats = check_training_step(trainer)
    assert "loss/generator/latent_reconstruction" in stats

    from ganzoo_bigan.step import BiGANPhase

    nets, ctx = trainer.system.networks, trainer.context
    batch, z = ctx.next_batch(), ctx.sample_latent()
    fake, encoded = nets["generator"](z), nets["encoder"](batch.images)
    phase = BiGANPhase("generator", 1, batch.images, encoded, fake, z,
                       nets["discriminator"](batch.images, encoded), nets["discriminator"](fake, z),
                       nets["encoder"], trainer.latent)
    term = trainer.step_impl.terms["latent_reconstruction"]
    terms, stats = check_loss_term(term, phase, trainer.role_parameters["generator"])
    assert set(terms) == {"latent_reconstruction"} and set(stats) == {
        "latent_reconstruction/noise", "latent_reconstruction/shape"}
    assert check_loss_term(term, phase, which="discriminator") == ({}, {})  # G's phase only


@needs_family
def test_its_term_on_a_step_that_has_no_encoder_is_a_recipe_error(autoload_all):
    for step in ("infogan", "adversarial"):
        result = _cli("check", SMOKE_RECIPE, "--set", f"train.step.type={step}",
                      "--set", "train.terms.latent_reconstruction.weight=1.0")
        assert result.exit_code == 2 and "Traceback" not in result.output
        assert ("train.terms.latent_reconstruction: term 'latent_reconstruction' needs a step "
                f"that provides encoder; step '{step}' provides") in result.output
        assert "bigan" in result.output  # the step that would serve it
    # and the other way round: D's penalties need the adversarial phase, which bigan lacks
    result = _cli("check", FAMILY_RECIPE, "--set", "train.terms.r1.weight=1.0")
    assert result.exit_code == 2
    assert "train.terms.r1: term 'r1' needs a step that provides adversarial" in result.output


@needs_family
def test_its_step_checks_other_tables_and_its_roles(autoload_all):
    weighted = ["--set", "model.latent.shape.weight=2.0"]
    assert _cli("check", FAMILY_RECIPE, *weighted).exit_code == 0  # the term scales by λ
    result = _cli("check", FAMILY_RECIPE, *weighted, "--set", "train.terms.latent_reconstruction.weight=0")
    assert result.exit_code == 2  # ... but with the term off, λ would silently do nothing
    assert ("model.latent.shape.weight: the bigan step uses a code's weight only in the "
            "latent_reconstruction term") in result.output
    result = _cli("check", FAMILY_RECIPE, "--set", "train.optimizer.encoder.lr=0.1")
    assert result.exit_code == 2
    assert "train.optimizer.encoder: step 'bigan' has no optimiser role 'encoder'" in result.output


DRIFT_TERM = '''
"""A third-party term added to an existing step without editing it: keep D's logits near 0."""
import attrs
from ganzoo import TermSpec, hookimpl, param
from ganzoo.step import LossTerm


@attrs.frozen
class DriftConfig:
    on: str = param("real", "which logits: 'real' or 'fake'")


class Drift(LossTerm):
    def __init__(self, config, build):
        self.weight, self.on = build.weight, config.on

    def discriminator_terms(self, phase):
        logits = phase.real_logits if self.on == "real" else phase.fake_logits
        return {"drift": self.weight * logits.pow(2).mean()}, {}


@hookimpl
def ganzoo_terms():
    return [TermSpec(name="drift", summary="mean squared D logit", config=DriftConfig,
                     factory=Drift, needs=("adversarial",))]
'''


def test_a_term_from_a_plugin_file_joins_the_infogan_step(tmp_path):
    plugin = tmp_path / "drift_term.py"
    plugin.write_text(DRIFT_TERM)
    recipe = tmp_path / "recipe.toml"
    shutil.copy(SMOKE_RECIPE, recipe)
    out = tmp_path / "run"
    result = _cli("run", recipe, "-p", plugin, "--out", out, "--set", "train.steps=2",
                  "--set", "train.log_every=1", "--set", "train.terms.drift.weight=0.1",
                  "--set", "train.terms.drift.on=fake")
    assert result.exit_code == 0, result.output
    acc = EventAccumulator(str(out), size_guidance={"scalars": 0})
    acc.Reload()
    assert "loss/discriminator/drift" in acc.Tags()["scalars"]
    assert "loss/discriminator/mutual_information/digit" in acc.Tags()["scalars"]  # step unchanged
    typo = _cli("check", recipe, "-p", plugin, "--set", "train.terms.drift.onn=fake")
    assert typo.exit_code == 2 and "train.terms.drift.onn: unknown key (did you mean 'on'?)" in typo.output
