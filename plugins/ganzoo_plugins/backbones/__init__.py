"""First-party backbones: ``dcgan`` (InfoGAN's MNIST network / DCGAN) and ``resnet`` (SNGAN).

Only the registration hook lives here; factories are ``"module:attr"`` strings so that
listing components does not import the networks.
"""

from __future__ import annotations

from ganzoo import BackboneSpec, hookimpl
from ganzoo_plugins.backbones.configs import DCGANConfig, ResNetConfig


@hookimpl
def ganzoo_backbones() -> list[BackboneSpec]:
    return [
        BackboneSpec(
            name="dcgan",
            summary="InfoGAN paper's MNIST conv net at 28×28, standard DCGAN at 32×32/64×64",
            config=DCGANConfig,
            factory="ganzoo_plugins.backbones.dcgan:build",
        ),
        BackboneSpec(
            name="resnet",
            summary="SNGAN-style residual G and D trunk (spectral norm in D), 28/32/64 px",
            config=ResNetConfig,
            factory="ganzoo_plugins.backbones.resnet:build",
        ),
    ]
