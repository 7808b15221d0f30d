"""The real-data term (beyond the paper), in D's phase: Q's posterior on the *real* batch must
be confident and balanced (I(x; c) on real data, as in RIM and CatGAN), so a categorical
code's categories follow gaps in the data; with ``augmentation = "affine"`` the same category
is also asked of a randomly slanted, stretched and shifted copy of each image (IIC), so the
categories cannot follow style. The loss per code is weight · (H(c) − I) ≥ 0.

A code type offers the term by a method ``real_data_information(posterior, paired=None) ->
scalar nats`` (``ganzoo_plugins.latent_codes.categorical`` has one).
"""

from __future__ import annotations

from torch import Tensor

from ganzoo.step import LossTerm, TermBuild
from ganzoo_plugins.infogan.augmentation import random_affine
from ganzoo_plugins.infogan.configs import RealDataInformationConfig, chosen_codes


class RealDataInformation(LossTerm):
    uses_real_posterior = True  # the step computes Q on the real batch for this term

    def __init__(self, config: RealDataInformationConfig, build: TermBuild):
        names = chosen_codes(config.codes, build.recipe.latent)
        self.entries = [e for e in build.latent.regularized if e.name in names]
        for e in self.entries:
            if not callable(getattr(e.code, "real_data_information", None)):
                raise ValueError(
                    f"code '{e.name}' (type '{build.recipe.latent[e.name].type}') has no "
                    "real-data term; codes that have one, such as 'categorical', accept it"
                )
        self.weight = build.weight
        self.augmentation = config.augmentation
        self.strength = config.augmentation_strength

    def discriminator_terms(self, phase) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        paired = None
        if self.augmentation == "affine":
            copies = random_affine(phase.real, strength=self.strength)  # [B, C, H, W]
            paired = phase.posterior_of(copies)
        infos = {}
        for e in self.entries:
            pair = paired[:, e.posterior] if paired is not None else None
            infos[e.name] = e.code.real_data_information(phase.real_posterior[:, e.posterior], pair)
        terms, stats = {}, {}
        for e in self.entries:
            ceiling = e.code.entropy() or 0.0
            terms[f"real_data_information/{e.name}"] = self.weight * (ceiling - infos[e.name])
            stats[f"real_data_information/{e.name}"] = infos[e.name].detach()
        return terms, stats
