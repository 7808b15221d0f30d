"""InfoGAN's Q head: its own layers on top of D's trunk features."""

from __future__ import annotations

from torch import Tensor, nn


class QHead(nn.Module):
    """FC - BN - lReLU(0.1) - FC: trunk features ``[B, F]`` -> posterior parameters ``[B, P]``
    for every regularised code, laid out as ``LatentSpace`` posteriors."""

    def __init__(self, feature_dim: int, hidden: int, posterior_size: int, batch_norm: bool = True):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(feature_dim, hidden),
            nn.BatchNorm1d(hidden) if batch_norm else nn.Identity(),
            nn.LeakyReLU(0.1),
            nn.Linear(hidden, posterior_size),
        )

    def forward(self, features: Tensor) -> Tensor:  # [B, F] -> [B, P]
        return self.net(features)
