"""Conformance over every registered training step and loss term: each trains one step on
synthetic data with ganzoo.testing.check_training_step, and each term's losses show up."""

from __future__ import annotations

import pytest
import torch

from conftest import SMOKE_RECIPE
from ganzoo.plugins import load_plugins
from ganzoo.recipe import read_toml, resolve
from ganzoo.testing import check_training_step
from ganzoo.training import Trainer

REGISTRY = load_plugins(autoload="first-party").registry()


def _raw(step: str) -> dict:
    """The smoke recipe with ``step``; codes are noise unless the step can recover them."""
    raw = read_toml(SMOKE_RECIPE)
    spec = REGISTRY.get("step", step)
    raw["train"]["step"] = {"type": step}
    if "posterior" not in spec.provides:
        raw["train"]["terms"] = {}
        for code in raw["model"]["latent"].values():
            code["regularized"] = False
    return raw


def _trainer(raw: dict, tmp_path) -> Trainer:
    return Trainer(resolve(raw, REGISTRY), REGISTRY, tmp_path, torch.device("cpu"))


@pytest.mark.parametrize("step", REGISTRY.names("step"))
def test_every_step_trains(step, tmp_path):
    check_training_step(_trainer(_raw(step), tmp_path))


@pytest.mark.parametrize("term", REGISTRY.names("term"))
def test_every_term_joins_a_step_that_serves_it(term, tmp_path):
    spec = REGISTRY.get("term", term)
    step = next(s.name for s in REGISTRY.components["step"].values()
                if all(n in s.provides for n in spec.needs))
    base = _raw(step)
    base["train"]["terms"].pop(term, None)
    raw = _raw(step)
    raw["train"]["terms"][term] = {"weight": 0.5}
    without = set(check_training_step(_trainer(base, tmp_path / "a")))
    with_term = set(check_training_step(_trainer(raw, tmp_path / "b")))
    added = {tag for tag in with_term - without if tag.startswith("loss/")}
    assert added, f"term '{term}' added no loss to any phase"
