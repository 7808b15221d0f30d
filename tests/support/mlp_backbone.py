"""A batch-norm-free MLP backbone, loaded as a plugin file by the distributed tests: without
batch norm, per-process gradients averaged over processes equal one process's gradients on the
combined batch exactly (up to float summation order)."""

from __future__ import annotations

import math

import attrs
from torch import nn

from ganzoo import BackboneSpec, hookimpl, param
from ganzoo.system import Backbone


@attrs.frozen
class MLPConfig:
    hidden: int = param(32, "hidden width", ge=1)


def build(config: MLPConfig, *, image_shape, latent_dim):
    pixels = math.prod(image_shape)
    generator = nn.Sequential(
        nn.Linear(latent_dim, config.hidden), nn.ReLU(), nn.Linear(config.hidden, pixels), nn.Tanh(),
        nn.Unflatten(1, tuple(image_shape)),
    )
    trunk = nn.Sequential(nn.Flatten(), nn.Linear(pixels, config.hidden), nn.LeakyReLU(0.2))
    return Backbone(generator, trunk, config.hidden)


@hookimpl
def ganzoo_backbones():
    return [BackboneSpec(name="test_mlp", summary="BN-free MLP (tests)", config=MLPConfig, factory=build)]
