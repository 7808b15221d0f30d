"""InfoGAN's mutual-information term: V(D, G) − λ·L_I(G, Q), L_I = E[log Q(c|G(z, c))] + H(c).

Here the term is the λ-weighted negative log-likelihood of each regularised code under Q's
posterior of the generated images (λ: ``model.latent.<code>.weight``). In D's phase it trains
Q (and, with ``trains_trunk``, D's trunk) when Q belongs to D's optimiser; in G's phase it
trains G to make the codes recoverable, and logs the lower bound H(c) − NLL per code.
"""

from __future__ import annotations

from torch import Tensor

from ganzoo.step import LossTerm, TermBuild


class MutualInformationTerm(LossTerm):
    def __init__(self, config: object, build: TermBuild):
        # one float per code, so a weight of 1 leaves λ exactly as it is
        self.weights = {e.name: build.weight * e.weight for e in build.latent.regularized}

    def _terms(self, phase) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        nll = phase.latent.negative_log_likelihoods(phase.z, phase.posterior)
        return {f"mutual_information/{n}": self.weights[n] * v for n, v in nll.items()}, nll

    def discriminator_terms(self, phase) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        if phase.posterior is None:  # Q steps with G's optimiser: nothing to learn here
            return {}, {}
        return self._terms(phase)[0], {}

    def generator_terms(self, phase) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        terms, nll = self._terms(phase)
        stats = {}
        for e in phase.latent.regularized:
            entropy = e.code.entropy()
            if entropy is not None:  # the variational lower bound of I(c; G(z, c)), nats
                stats[f"mi_lower_bound/{e.name}"] = entropy - nll[e.name].detach()
        return terms, stats
