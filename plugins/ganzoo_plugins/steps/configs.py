"""Parameters and recipe check of the adversarial step, apart from the step (no torch)."""

from __future__ import annotations

from typing import Any

import attrs

from ganzoo import param


@attrs.frozen
class AdversarialConfig:
    discriminator_steps: int = param(1, "discriminator updates per generator update", ge=1, le=100)
    conditional: bool = param(
        False, "condition G and D on the dataset's labels (conditional batch norm, projection)"
    )


def check_adversarial(config: Any, recipe: Any) -> list[tuple[str, str]]:
    """A plain GAN step recovers no codes: a regularised code would silently be noise."""
    return [
        (f"model.latent.{name}.regularized",
         f"step '{recipe.step.type}' has no network that recovers codes; use a step that "
         "does (train.step.type = 'infogan'), or regularized = false")
        for name, code in recipe.latent.items()
        if code.settings.regularized
    ]
