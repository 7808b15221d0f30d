"""Parameters of the BiGAN step and its term (imported when components are listed)."""

from __future__ import annotations

from typing import Any

import attrs

from ganzoo import param


@attrs.frozen
class BiGANConfig:
    hidden: int = param(256, "width of the joint discriminator's hidden layer", ge=1, le=65536)
    leaky_slope: float = param(0.2, "negative slope of the joint head's leaky ReLU", ge=0, lt=1)


@attrs.frozen
class LatentReconstructionConfig:
    """Only the shared ``weight``."""


def check_bigan(config: BiGANConfig, recipe: Any) -> list[tuple[str, str]]:
    """The encoder infers the whole latent; single codes are not regularised one by one."""
    return [
        (f"model.latent.{name}.regularized", "the bigan step's encoder infers the whole "
         "latent vector; set regularized = false")
        for name, code in recipe.latent.items()
        if code.settings.regularized
    ]
