"""Conformance over every registered training step, loss term and relativistic loss, on
synthetic data (the registry enumerates them, so a new first-party plugin is covered without
editing this file; third-party authors call the same ``ganzoo.testing`` checks):

* G's phase never puts gradients on or changes D's parameters, nor D's phase G's
  (``check_training_step``), also with DiffAugment on D's input;
* every loss a term adds to a phase reaches the parameters that phase trains
  (``check_terms_in_training``);
* a relativistic loss gets the real batch's logits in G's phase, from every step that
  uses the recipe's adversarial loss.
"""

from __future__ import annotations

import pytest
import torch

from conftest import SMOKE_RECIPE
from ganzoo.plugins import load_plugins
from ganzoo.recipe import read_toml, resolve
from ganzoo.testing import check_terms_in_training, check_training_step
from ganzoo.training import Trainer

REGISTRY = load_plugins(autoload="first-party").registry()
STEPS = REGISTRY.names("step")
RELATIVISTIC = [
    name for name in REGISTRY.names("loss")
    if REGISTRY.get("loss", name).load_factory().needs_real_logits_for_generator
]


def _raw(step: str) -> dict:
    """The smoke recipe with ``step``; codes are noise unless the step can recover them."""
    raw = read_toml(SMOKE_RECIPE)
    raw["train"]["step"] = {"type": step}
    if "posterior" not in REGISTRY.get("step", step).provides:
        raw["train"]["terms"] = {}
        for code in raw["model"]["latent"].values():
            code["regularized"] = False
    return raw


def _trainer(raw: dict, tmp_path) -> Trainer:
    return Trainer(resolve(raw, REGISTRY), REGISTRY, tmp_path, torch.device("cpu"))


def _serving_step(term: str) -> str:
    needs = REGISTRY.get("term", term).needs
    return next(s for s in STEPS if all(n in REGISTRY.get("step", s).provides for n in needs))


def test_the_registry_holds_the_families():
    assert {"adversarial", "infogan", "acgan"} <= set(STEPS)
    assert {"relativistic_average", "relativistic_average_least_squares"} <= set(RELATIVISTIC)


@pytest.mark.parametrize("step", STEPS)
def test_each_phase_trains_only_its_own_networks_with_diffaugment(step, tmp_path):
    raw = _raw(step)
    raw["model"]["augmentation"] = {"type": "diffaugment", "policy": ["color", "translation", "cutout"]}
    trainer = _trainer(raw, tmp_path)
    assert trainer.system.networks["discriminator"].augmentation is not None
    check_training_step(trainer, steps=2)


@pytest.mark.parametrize("term", REGISTRY.names("term"))
def test_every_term_reaches_what_its_phases_train(term, tmp_path):
    raw = _raw(_serving_step(term))
    raw["train"]["terms"] = {term: {"weight": 0.5}}
    if term in ("real_data_information", "invariant_information"):  # they name their codes
        raw["train"]["terms"][term]["codes"] = ["digit"]
        raw["train"]["terms"]["mutual_information"] = {}
    phases = check_terms_in_training(_trainer(raw, tmp_path), steps=2)
    assert phases[term], f"term '{term}' added no loss"
    # penalties on D are D's business only
    if term in ("gradient_penalty", "r1", "real_data_information"):
        assert phases[term] == {"discriminator"}


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("loss", RELATIVISTIC)
def test_relativistic_losses_see_real_logits_in_generators_phase(step, loss, tmp_path):
    raw = _raw(step)
    raw["loss"] = {"type": loss}
    trainer = _trainer(raw, tmp_path)
    adversarial_loss = trainer.step_impl.loss
    seen = []
    original = adversarial_loss.generator_loss

    def spy(fake_logits, real_logits=None):
        seen.append(real_logits)
        return original(fake_logits, real_logits)

    adversarial_loss.generator_loss = spy
    check_training_step(trainer, steps=2)
    assert len(seen) == 2, "G's loss was not called once per step"
    batch = trainer.recipe.data.settings.batch_size
    for real_logits in seen:
        assert real_logits is not None and real_logits.shape == (batch,)
        assert torch.isfinite(real_logits).all()


def test_the_isolation_check_catches_a_step_that_leaks_into_d(tmp_path):
    """A broken step whose G phase does not freeze D must fail the conformance check."""
    trainer = _trainer(_raw("adversarial"), tmp_path)
    trainer.step_impl.frozen_in_generator_phase = lambda networks: []
    with pytest.raises(AssertionError, match="put gradients on parameters of role 'discriminator'"):
        check_training_step(trainer, steps=1)


def test_the_term_check_catches_a_term_that_misses_its_phase(tmp_path):
    """A G-phase loss that only reads the frozen D on real images trains nothing: caught."""
    from ganzoo.step import LossTerm

    class Misrouted(LossTerm):
        def generator_terms(self, phase):
            return {"misrouted": phase.discriminator(phase.real).mean()}, {}

    trainer = _trainer(_raw("adversarial"), tmp_path)
    trainer.step_impl.terms["misrouted"] = Misrouted()
    with pytest.raises(AssertionError, match="not differentiable|no gradient"):
        check_terms_in_training(trainer, steps=1)

