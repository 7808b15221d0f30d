"""torch.optim optimisers behind typed configs (a typo is a recipe error, not a TypeError)."""

from __future__ import annotations

import torch

from ganzoo_plugins.optimizers.configs import AdamConfig, AdamWConfig, RMSpropConfig, SGDConfig  # noqa: F401  (re-exported)


def adam(config: AdamConfig, params) -> torch.optim.Optimizer:
    return torch.optim.Adam(
        params, lr=config.lr, betas=tuple(config.betas), eps=config.eps,
        weight_decay=config.weight_decay,
    )


def adamw(config: AdamWConfig, params) -> torch.optim.Optimizer:
    return torch.optim.AdamW(
        params, lr=config.lr, betas=tuple(config.betas), eps=config.eps,
        weight_decay=config.weight_decay,
    )


def rmsprop(config: RMSpropConfig, params) -> torch.optim.Optimizer:
    return torch.optim.RMSprop(
        params, lr=config.lr, alpha=config.alpha, momentum=config.momentum, eps=config.eps
    )


def sgd(config: SGDConfig, params) -> torch.optim.Optimizer:
    return torch.optim.SGD(
        params, lr=config.lr, momentum=config.momentum, nesterov=config.nesterov
    )
