"""A Bernoulli latent code: ``dim`` independent fair coin flips, fed to G as 0/1 values.

Q outputs one logit per bit; log Q(c|x) is minus the binary cross-entropy of those logits,
and H(c) = dim · ln 2, so the MI lower bound approaches dim · ln 2 as Q learns.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from ganzoo.latent import LatentCode
from ganzoo_bernoulli.configs import BernoulliConfig, FairBitsConfig


class Bernoulli(LatentCode):
    def __init__(self, config: BernoulliConfig):
        self.width = config.dim
        self.posterior_size = config.dim
        self.p = config.p

    def sample(self, batch: int, generator: torch.Generator, device: torch.device) -> Tensor:
        u = torch.rand(batch, self.width, generator=generator, device=device)  # [B, D]
        return (u < self.p).float()

    def log_likelihood(self, value: Tensor, posterior: Tensor) -> Tensor:
        # value [B, D] in {0, 1}; posterior [B, D] logits -> [B]
        bce = F.binary_cross_entropy_with_logits(posterior.float(), value, reduction="none")
        return -bce.sum(dim=1)

    def entropy(self) -> float:
        p = self.p
        return -self.width * (p * math.log(p) + (1 - p) * math.log(1 - p))

    def traversals(self, steps: int, span: tuple[float, float]) -> list[tuple[str, Tensor]]:
        sweeps = []
        for d in range(self.width):
            sweep = torch.zeros(2, self.width)
            sweep[1, d] = 1.0  # bit d off, then on
            sweeps.append((str(d) if self.width > 1 else "", sweep))
        return sweeps

    def confident_posterior(self, value: Tensor) -> Tensor:
        return (2 * value - 1) * 10.0  # large logits of the right sign

    def point_estimate(self, posterior: Tensor) -> Tensor:
        return (posterior > 0).float()


def fair_bits(config: FairBitsConfig) -> Bernoulli:
    """The clashing ``uniform``: bits uniform over {0, 1}, i.e. Bernoulli with p = 1/2."""
    return Bernoulli(BernoulliConfig(dim=config.dim, p=0.5))
