"""The invariance term (beyond the paper): a code's MI term also on an affine copy of each
generated image, in both phases. In G's phase G's gradient flows through the transform, so G
must make the code recognisable whatever the slant, width or position of the image: a
category cannot mean "upright" or "wide". The generator-side half of what the real-data
term asks of Q."""

from __future__ import annotations

from torch import Tensor

from ganzoo.step import LossTerm, TermBuild
from ganzoo_plugins.infogan.augmentation import random_affine
from ganzoo_plugins.infogan.configs import InvariantInformationConfig, chosen_codes


class InvariantInformation(LossTerm):
    def __init__(self, config: InvariantInformationConfig, build: TermBuild):
        names = chosen_codes(config.codes, build.recipe.latent)
        self.entries = [e for e in build.latent.regularized if e.name in names]
        self.weight = build.weight
        self.strength = config.augmentation_strength

    def _terms(self, phase) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        copies = random_affine(phase.fake, strength=self.strength)  # [B, C, H, W]
        posterior = phase.posterior_of(copies)
        nll = phase.latent.negative_log_likelihoods(phase.z, posterior, self.entries)
        terms, stats = {}, {}
        for e in self.entries:
            terms[f"invariant_information/{e.name}"] = self.weight * nll[e.name]
            ceiling = e.code.entropy()
            if ceiling is not None:
                stats[f"invariant_mi_lower_bound/{e.name}"] = ceiling - nll[e.name].detach()
        return terms, stats

    def discriminator_terms(self, phase) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        if phase.posterior is None:  # Q does not learn in D's phase
            return {}, {}
        return self._terms(phase)[0], {}

    def generator_terms(self, phase) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        return self._terms(phase)
