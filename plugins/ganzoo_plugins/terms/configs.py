"""Parameters of the discriminator penalties, apart from the terms (no torch)."""

from __future__ import annotations

import attrs

from ganzoo import param


@attrs.frozen
class GradientPenaltyConfig:
    target: float = param(1.0, "the gradient norm the penalty pulls towards", ge=0, le=1e3)


@attrs.frozen
class R1Config:
    every: int = param(
        1,
        "lazy regularisation: every this many steps, as its own optimiser step of D scaled by "
        "it, with D's lr and Adam betas corrected as StyleGAN2 does; 1: in every D step",
        ge=1,
        le=10_000,
    )
