"""Conformance checks (ganzoo.testing) over every registered component."""

from __future__ import annotations

import pytest
import torch

from ganzoo.plugins import load_plugins
from ganzoo.schema import fields_of
from ganzoo.testing import (
    check_adversarial_loss,
    check_backbone,
    check_image_data,
    check_latent_code,
)

_REGISTRY = load_plugins(autoload="first-party").registry()


def _names(kind):
    return _REGISTRY.names(kind)


def _default(spec):
    return spec.config()


@pytest.mark.parametrize("name", _names("latent_code"))
def test_latent_codes_conform(name, registry):
    spec = registry.get("latent_code", name)
    check_latent_code(spec.build(_default(spec)))


@pytest.mark.parametrize("name", ["gaussian", "uniform"])
def test_continuous_codes_conform_with_learned_std(name, registry):
    spec = registry.get("latent_code", name)
    code = spec.build(spec.config(dim=3, posterior_std="learned"))
    assert code.posterior_size == 6
    check_latent_code(code)


@pytest.mark.parametrize("name", _names("loss"))
def test_losses_conform(name, registry):
    spec = registry.get("loss", name)
    check_adversarial_loss(spec.build(_default(spec)))


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32)])
@pytest.mark.parametrize("name", _names("backbone"))
def test_backbones_conform(name, shape, registry):
    spec = registry.get("backbone", name)
    small = {f.name: 8 for f in fields_of(spec.config) if f.name in ("base_channels", "channels")}
    if "hidden" in {f.name for f in fields_of(spec.config)}:
        small["hidden"] = 32
    backbone = spec.build(spec.config(**small), image_shape=shape, latent_dim=12)
    check_backbone(backbone, shape, 12)


@pytest.mark.parametrize("name", _names("optimizer"))
def test_optimizers_build_and_step(name, registry):
    spec = registry.get("optimizer", name)
    weight = torch.nn.Parameter(torch.ones(3))
    optimizer = spec.build(_default(spec), [weight])
    weight.sum().backward()
    optimizer.step()
    assert not torch.equal(weight.detach(), torch.ones(3))
    assert isinstance(optimizer.state_dict(), dict)


@pytest.mark.parametrize("name", _names("schedule"))
def test_schedules_give_multipliers_in_range(name, registry):
    spec = registry.get("schedule", name)
    multiplier = spec.build(_default(spec), 100)
    values = [multiplier(step) for step in range(1, 101)]
    assert all(0.0 <= v <= 1.0 for v in values)
    assert values[0] == pytest.approx(1.0, abs=0.02) or name == "cosine"


def test_linear_decay_reaches_its_final_value(registry):
    spec = registry.get("schedule", "linear_decay")
    multiplier = spec.build(spec.config(start=0.5, final=0.1), 100)
    assert multiplier(50) == 1.0 and multiplier(100) == pytest.approx(0.1)
    assert multiplier(75) == pytest.approx(0.55)


def test_synthetic_dataset_conforms(registry):
    spec = registry.get("dataset", "synthetic")
    data = spec.build(spec.config(count=32), root=None, split="train", download=False)
    check_image_data(data)


def test_every_component_has_a_summary_and_documented_parameters(registry):
    for spec in registry.all_specs():
        assert spec.summary.strip(), spec.name
        for field in fields_of(spec.config):
            assert field.metadata.get("help"), f"{spec.kind} {spec.name}: {field.name} has no help"
