"""Categorical code: one of K equally likely categories, fed to G as a one-hot vector.

Q outputs K logits; log Q(c|x) is minus the cross-entropy of those *logits* (no softmax
before the loss), and H(c) = ln K, so the MI lower bound approaches ln K as Q learns.
"""

from __future__ import annotations

import math

import attrs
import torch
import torch.nn.functional as F
from torch import Tensor

from ganzoo import param
from ganzoo.latent import LatentCode


@attrs.frozen
class CategoricalConfig:
    categories: int = param(10, "number of categories K", ge=2, le=100_000)


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

    def point_estimate(self, posterior: Tensor) -> Tensor:
        return F.one_hot(posterior.argmax(dim=1), self.categories).float()
