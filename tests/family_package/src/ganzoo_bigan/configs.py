"""Parameters of the BiGAN step and its term, and the recipe check that involves other tables.
Imported when components are listed, so nothing here builds or imports networks."""

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
    """Only the shared ``weight``; each code's squared error is scaled by its λ
    (``model.latent.<code>.weight``)."""


def check_bigan(config: BiGANConfig, recipe: Any) -> list[tuple[str, str]]:
    """A code's λ only scales the latent-reconstruction term: without that term it is inert."""
    terms = recipe.terms.values()
    if any(t.type == "latent_reconstruction" and t.settings.weight > 0 for t in terms):
        return []
    return [
        (f"model.latent.{name}.weight",
         "the bigan step uses a code's weight only in the latent_reconstruction term; add "
         "[train.terms.latent_reconstruction] with a weight above 0, or leave this one at 1")
        for name, code in recipe.latent.items()
        if code.settings.weight != 1.0
    ]
