"""Categorical code: one of K equally likely categories, fed to G as a one-hot vector.

Q outputs K logits; log Q(c|x) is minus the cross-entropy of those *logits* (no softmax
before the loss), and H(c) = ln K, so the MI lower bound approaches ln K as Q learns.
The code also offers InfoGAN's real-data term (``real_data_information``, used by the
``real_data_information`` loss term): Q's categories should split *real* images confidently
and evenly.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from ganzoo.latent import LatentCode
from ganzoo_plugins.latent_codes.configs import CategoricalConfig  # noqa: F401  (re-exported)


class Categorical(LatentCode):
    def __init__(self, config: CategoricalConfig):
        self.categories = config.categories
        self.width = config.categories
        self.posterior_size = config.categories

    def sample(self, batch: int, generator: torch.Generator, device: torch.device) -> Tensor:
        index = torch.randint(self.categories, (batch,), generator=generator, device=device)  # [B]
        return F.one_hot(index, self.categories).float()  # [B, K]

    def log_likelihood(self, value: Tensor, posterior: Tensor) -> Tensor:
        # value [B, K] one-hot, posterior [B, K] logits -> [B]
        return -F.cross_entropy(posterior.float(), value.argmax(dim=1), reduction="none")

    def entropy(self) -> float:
        return math.log(self.categories)

    def traversals(self, steps: int, span: tuple[float, float]) -> list[tuple[str, Tensor]]:
        return [("", torch.eye(self.categories))]  # one column per category

    def confident_posterior(self, value: Tensor) -> Tensor:
        return value * 20.0  # logits strongly on the given category

    def real_data_information(self, posterior: Tensor, paired: Tensor | None = None) -> Tensor:
        # posterior, paired: [B, K] logits on real images (and on transformed copies of them).
        log_p = F.log_softmax(posterior.float(), dim=1)  # [B, K]
        p = log_p.exp()
        if paired is None:
            # I(x; c) = H(mean_x p(c|x)) − mean_x H(p(c|x)): high when each image gets one
            # confident category and the categories are used evenly (RIM).
            conditional = -(p * log_p).sum(dim=1).mean()
            return _entropy(p.mean(dim=0)) - conditional
        # I(c; c') of the joint distribution of the two copies' categories (IIC): high only
        # when both copies confidently get the *same* category and categories are used evenly.
        joint = p.T @ F.softmax(paired.float(), dim=1) / p.shape[0]  # [K, K]
        joint = ((joint + joint.T) / 2).clamp_min(1e-12)
        rows, cols = joint.sum(dim=1, keepdim=True), joint.sum(dim=0, keepdim=True)
        return (joint * (joint.log() - rows.log() - cols.log())).sum()

    def point_estimate(self, posterior: Tensor) -> Tensor:
        return F.one_hot(posterior.argmax(dim=1), self.categories).float()


def _entropy(probabilities: Tensor) -> Tensor:
    """Entropy in nats of one distribution ``[K]``."""
    return -(probabilities * probabilities.clamp_min(1e-12).log()).sum()
