"""Continuous codes (uniform and Gaussian) with a factored-Gaussian posterior.

Q outputs a mean per dimension and, with ``posterior_std = "learned"`` (the paper), a log
standard deviation; ``"fixed"`` (the official code) fixes the std to 1, which makes the MI
term half a squared error. H(c) is the differential entropy, so the logged bound can be
negative for narrow codes; its rise over training is what matters.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ganzoo.latent import LatentCode, gaussian_log_likelihood
from ganzoo_plugins.latent_codes.configs import GaussianConfig, PosteriorStd, UniformConfig  # noqa: F401  (re-exported)


class _Continuous(LatentCode):
    def __init__(self, dim: int, posterior_std: PosteriorStd):
        self.width = dim
        self.learned_std = posterior_std == "learned"
        self.posterior_size = 2 * dim if self.learned_std else dim

    def log_likelihood(self, value: Tensor, posterior: Tensor) -> Tensor:
        # value [B, D]; posterior [B, D] means or [B, 2D] means and log-stds -> [B]
        posterior = posterior.float()
        mean = posterior[:, : self.width]
        # Bounded log-std keeps an over-confident Q from producing huge gradients.
        log_std = posterior[:, self.width :].clamp(-5.0, 5.0) if self.learned_std else None
        return gaussian_log_likelihood(value.float(), mean, log_std)

    def confident_posterior(self, value: Tensor) -> Tensor:
        if not self.learned_std:
            return value.clone()  # mean at the value; std fixed at 1
        return torch.cat([value, torch.full_like(value, -2.0)], dim=1)  # small std

    def traversals(self, steps: int, span: tuple[float, float]) -> list[tuple[str, Tensor]]:
        values = torch.linspace(span[0], span[1], steps)  # [S]
        sweeps = []
        for d in range(self.width):
            sweep = torch.full((steps, self.width), self.center)
            sweep[:, d] = values
            sweeps.append((str(d) if self.width > 1 else "", sweep))
        return sweeps


class Uniform(_Continuous):
    def __init__(self, config: UniformConfig):
        super().__init__(config.dim, config.posterior_std)
        self.low, self.high = config.low, config.high
        self.center = (config.low + config.high) / 2

    def sample(self, batch: int, generator: torch.Generator, device: torch.device) -> Tensor:
        u = torch.rand(batch, self.width, generator=generator, device=device)  # [B, D]
        return u * (self.high - self.low) + self.low

    def entropy(self) -> float:
        return self.width * math.log(self.high - self.low)


class Gaussian(_Continuous):
    def __init__(self, config: GaussianConfig):
        super().__init__(config.dim, config.posterior_std)
        self.std = config.std
        self.center = 0.0

    def sample(self, batch: int, generator: torch.Generator, device: torch.device) -> Tensor:
        return torch.randn(batch, self.width, generator=generator, device=device) * self.std

    def entropy(self) -> float:
        return self.width * (0.5 * math.log(2 * math.pi * math.e) + math.log(self.std))
