"""A loss term for steps that provide an encoder: weight · Σ_c λ_c · E‖E(G(z))_c − z_c‖² in
G's phase, so the encoder also learns to invert the generator directly (a latent-cycle term,
as in ALICE). The phase must offer ``encoder(images) -> [B, D]``, ``fake`` (with G's
gradient) and ``z``: the ``bigan`` step's ``BiGANPhase`` does."""

from __future__ import annotations

from torch import Tensor

from ganzoo.step import LossTerm, TermBuild


class LatentReconstruction(LossTerm):
    def __init__(self, config: object, build: TermBuild):
        self.weight = build.weight
        self.entries = build.latent.entries  # every code: the encoder infers all of z

    def generator_terms(self, phase) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        squared = (phase.encoder(phase.fake) - phase.z).pow(2)  # [B, D]
        errors = {e.name: squared[:, e.columns].sum(dim=1).mean() for e in self.entries}
        loss = sum(e.weight * errors[e.name] for e in self.entries)
        stats = {f"latent_reconstruction/{name}": v.detach() for name, v in errors.items()}
        return {"latent_reconstruction": self.weight * loss}, stats
