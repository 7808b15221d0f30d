"""Assembling a GAN from a backbone and latent codes.

A backbone plugin builds the generator and the discriminator's feature trunk for an image
shape and latent width. The core attaches the heads: D's adversarial logit and InfoGAN's Q
head (FC-BN-lReLU-FC, as in the paper), sized from the regularised codes. So every trunk
works with every set of codes.
"""

from __future__ import annotations

from typing import Any

import attrs
import torch
from torch import Tensor, nn

from ganzoo.errors import UserError, brief
from ganzoo.latent import LatentCode, LatentSpace
from ganzoo.recipe import Recipe


@attrs.frozen
class Backbone:
    """What a backbone factory returns.

    ``generator``: ``[B, latent_dim] -> [B, C, H, W]`` images in [-1, 1].
    ``trunk``: ``[B, C, H, W] -> [B, feature_dim]`` features shared by D's and Q's heads.
    """

    generator: nn.Module
    trunk: nn.Module
    feature_dim: int
    spectral_norm_head: bool = False  # wrap D's logit head too (an SNGAN-style trunk)


class QHead(nn.Module):
    """Q's own layers on top of D's trunk: FC - BN - lReLU(0.1) - FC to the posterior."""

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


class Discriminator(nn.Module):
    """Trunk + adversarial logit head + optional Q head."""

    def __init__(
        self, trunk: nn.Module, feature_dim: int, q_head: QHead | None, spectral_norm: bool = False
    ):
        super().__init__()
        self.trunk = trunk
        self.adversarial = nn.Linear(feature_dim, 1)
        if spectral_norm:
            self.adversarial = nn.utils.parametrizations.spectral_norm(self.adversarial)
        self.q_head = q_head

    def forward(self, images: Tensor, with_q: bool = False, detach_q: bool = False):
        """``[B, C, H, W]`` -> (logits ``[B]``, posterior ``[B, P]`` or None)."""
        features = self.trunk(images)  # [B, F]
        logits = self.adversarial(features).squeeze(1)  # [B]
        if not with_q or self.q_head is None:
            return logits, None
        # detach_q: Q learns from the MI term without it reaching the shared trunk.
        return logits, self.q_head(features.detach() if detach_q else features)

    def q_parameters(self) -> list[nn.Parameter]:
        return [] if self.q_head is None else list(self.q_head.parameters())

    def d_parameters(self) -> list[nn.Parameter]:
        q = {id(p) for p in self.q_parameters()}
        return [p for p in self.parameters() if id(p) not in q]


@attrs.define
class GANSystem:
    """Everything a recipe's model section builds."""

    generator: nn.Module
    discriminator: Discriminator
    latent: LatentSpace
    image_shape: tuple[int, int, int]

    def to(self, device: torch.device, memory_format: Any = None) -> GANSystem:
        kwargs = {"memory_format": memory_format} if memory_format is not None else {}
        self.generator.to(device, **kwargs)
        self.discriminator.to(device, **kwargs)
        return self


def build_latent_space(recipe: Recipe, registry: Any) -> LatentSpace:
    codes, real_data_weights, invariance_weights = [], {}, {}
    for name, table in recipe.latent.items():
        spec = registry.get("latent_code", table.type)
        code = spec.build(table.config)
        codes.append((name, code, table.settings.regularized, table.settings.weight))
        weight = table.settings.real_data_weight
        if weight > 0:
            if type(code).real_data_information is LatentCode.real_data_information:
                raise UserError(
                    f"model.latent.{name}.real_data_weight: code type '{table.type}' "
                    f"(from {spec.provider}) has no real-data term; codes that have one, "
                    "such as 'categorical', accept it"
                )
            real_data_weights[name] = weight
        if table.settings.invariance_weight > 0:
            invariance_weights[name] = table.settings.invariance_weight
    return LatentSpace(codes, real_data_weights, invariance_weights)


def build_system(
    recipe: Recipe, registry: Any, image_shape: tuple[int, int, int]
) -> GANSystem:
    """Build G, D (with heads) and the latent space; backbone errors become user errors."""
    latent = build_latent_space(recipe, registry)
    spec = registry.get("backbone", recipe.backbone.type)
    try:
        backbone = spec.build(recipe.backbone.config, image_shape=image_shape, latent_dim=latent.width)
    except ValueError as exc:  # e.g. an image size the trunk does not support
        raise UserError(f"model.backbone ({recipe.backbone.type}): {exc}") from None
    except (TypeError, RuntimeError, OverflowError, MemoryError) as exc:  # e.g. sizes too large
        raise UserError(
            f"model.backbone ({recipe.backbone.type}): cannot build with these parameters "
            f"({brief(exc)})"
        ) from None
    if not isinstance(backbone, Backbone):
        raise UserError(
            f"backbone '{recipe.backbone.type}' from {spec.provider} returned "
            f"{type(backbone).__name__}, expected ganzoo.model.Backbone"
        )
    try:
        q_head = (
            QHead(
                backbone.feature_dim,
                recipe.q_head.hidden,
                latent.posterior_size,
                recipe.q_head.batch_norm,
            )
            if latent.posterior_size
            else None
        )
    except (TypeError, RuntimeError, OverflowError, MemoryError) as exc:  # e.g. hidden too large
        raise UserError(f"model.q_head: cannot build with these parameters ({brief(exc)})") from None
    discriminator = Discriminator(
        backbone.trunk, backbone.feature_dim, q_head, backbone.spectral_norm_head
    )
    return GANSystem(backbone.generator, discriminator, latent, image_shape)
