"""A loss term for steps that provide an encoder: weight · E‖E(G(z)) − z‖² in G's phase, so
the encoder learns to invert the generator directly (as in ALICE-style cycle terms)."""

from __future__ import annotations

from torch import Tensor

from ganzoo.step import LossTerm, TermBuild


class LatentReconstruction(LossTerm):
    def __init__(self, config: object, build: TermBuild):
        self.weight = build.weight

    def generator_terms(self, phase) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        error = (phase.encoder(phase.fake) - phase.z).pow(2).sum(dim=1).mean()  # mean over [B]
        return {"latent_reconstruction": self.weight * error}, {}
