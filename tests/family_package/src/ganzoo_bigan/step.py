"""The BiGAN step. D scores joint pairs: real (x, E(x)) against generated (G(z), z). G and
the encoder share the generator's optimiser and minimise D's loss with the labels swapped,
so E learns to invert G without ever seeing a pair (x, z) it could copy."""

from __future__ import annotations

from collections.abc import Callable

import attrs
import torch
from torch import Tensor, nn

from ganzoo.latent import LatentSpace
from ganzoo.step import NetworkParts, StepBuild, StepContext, TrainingStep
from ganzoo_bigan.configs import BiGANConfig


class Encoder(nn.Module):
    """``[B, C, H, W] -> [B, D]``: a backbone trunk and a linear map to the latent."""

    def __init__(self, trunk: nn.Module, feature_dim: int, latent_dim: int):
        super().__init__()
        self.trunk = trunk
        self.out = nn.Linear(feature_dim, latent_dim)

    def forward(self, images: Tensor) -> Tensor:
        return self.out(self.trunk(images))  # [B, D]


class JointDiscriminator(nn.Module):
    """``([B, C, H, W], [B, D]) -> [B]`` logits: image features and z through an MLP."""

    def __init__(self, trunk: nn.Module, feature_dim: int, latent_dim: int, hidden: int, slope: float):
        super().__init__()
        self.trunk = trunk
        self.head = nn.Sequential(
            nn.Linear(feature_dim + latent_dim, hidden), nn.LeakyReLU(slope), nn.Linear(hidden, 1)
        )

    def forward(self, images: Tensor, z: Tensor) -> Tensor:
        joint = torch.cat([self.trunk(images), z], dim=1)  # [B, F + D]
        return self.head(joint).squeeze(1)  # [B]


@attrs.define
class BiGANPhase:
    """What a term sees: both pairs, their logits, and the encoder to call on other images."""

    name: str  # "discriminator" or "generator"
    step: int
    real: Tensor  # [B, C, H, W]
    encoded: Tensor  # [B, D] E(real)
    fake: Tensor  # [B, C, H, W] G(z)
    z: Tensor  # [B, D]
    real_logits: Tensor
    fake_logits: Tensor
    encoder: Callable[[Tensor], Tensor]
    latent: LatentSpace


class BiGANStep(TrainingStep):
    def __init__(self, config: BiGANConfig, build: StepBuild):
        self.config = config
        self.loss = build.loss
        self.terms = build.terms

    def build_networks(self, parts: NetworkParts) -> dict[str, nn.Module]:
        width = parts.latent.width
        backbone = parts.backbone()  # G and a trunk for D
        encoder_trunk = parts.backbone()  # a second trunk, for E
        discriminator = JointDiscriminator(
            backbone.trunk, backbone.feature_dim, width, self.config.hidden, self.config.leaky_slope
        )
        encoder = Encoder(encoder_trunk.trunk, encoder_trunk.feature_dim, width)
        return {"generator": backbone.generator, "encoder": encoder, "discriminator": discriminator}

    def parameters(self, role: str, networks: dict[str, nn.Module]) -> list[nn.Parameter]:
        if role == "generator":
            return [*networks["generator"].parameters(), *networks["encoder"].parameters()]
        return list(networks["discriminator"].parameters())

    def run(self, ctx: StepContext) -> None:
        generator, encoder = ctx.networks["generator"], ctx.networks["encoder"]
        discriminator = ctx.networks["discriminator"]
        batch = ctx.next_batch()
        z = ctx.sample_latent()  # [B, D]
        with ctx.autocast():
            fake = generator(z)  # [B, C, H, W]
            encoded = encoder(batch.images)  # [B, D]
            real_logits = discriminator(batch.images, encoded.detach())
            fake_logits = discriminator(fake.detach(), z)
            terms = {"adversarial": self.loss.discriminator_loss(real_logits, fake_logits)}
            phase = BiGANPhase("discriminator", ctx.step, batch.images, encoded.detach(),
                               fake.detach(), z, real_logits, fake_logits, encoder, ctx.latent)
            self._add_terms(phase, terms)
        ctx.backward_step("discriminator", terms)
        ctx.record({"d_output/real": real_logits.mean(), "d_output/fake": fake_logits.mean()})

        with ctx.frozen(discriminator.parameters()), ctx.autocast():
            real_logits = discriminator(batch.images, encoded)
            fake_logits = discriminator(fake, z)
            # G and E win when D mistakes each pair for the other: D's loss, labels swapped
            terms = {"adversarial": self.loss.discriminator_loss(fake_logits, real_logits)}
            phase = BiGANPhase("generator", ctx.step, batch.images, encoded, fake, z,
                               real_logits, fake_logits, encoder, ctx.latent)
            self._add_terms(phase, terms)
        ctx.backward_step("generator", terms)

    def _add_terms(self, phase: BiGANPhase, terms: dict[str, Tensor]) -> None:
        for term in self.terms.values():
            if phase.name == "discriminator":
                extra, stats = term.discriminator_terms(phase)
            else:
                extra, stats = term.generator_terms(phase)
            terms.update(extra)

    def tensorboard_layout(self) -> dict:
        return {"bigan": {"latent reconstruction": ["Multiline", [r"loss/generator/latent_.*"]]}}
