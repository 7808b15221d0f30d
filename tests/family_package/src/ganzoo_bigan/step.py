"""The BiGAN step. D scores joint pairs: real (x, E(x)) against generated (G(z), z). G and
the encoder share the generator's optimiser and minimise D's loss with the labels swapped,
so E learns to invert G without ever seeing a pair (x, z) it could copy.

One generator forward and one encoder forward per step, both with gradients: D's phase uses
them detached, G's phase reuses them (D frozen, so no backward work is spent on it).
"""

from __future__ import annotations

from collections.abc import Callable

import attrs
import torch
from torch import Tensor, nn

from ganzoo.latent import LatentEntry, LatentSpace
from ganzoo.step import NetworkParts, StepBuild, StepContext, TrainingStep, add_term_shares
from ganzoo_bigan.configs import BiGANConfig


class Encoder(nn.Module):
    """``[B, C, H, W] -> [B, D]``: a backbone trunk and a linear map to the latent."""

    def __init__(self, trunk: nn.Module, feature_dim: int, latent_dim: int):
        super().__init__()
        self.trunk = trunk
        self.out = nn.Linear(feature_dim, latent_dim)

    def forward(self, images: Tensor) -> Tensor:
        return self.out(self.trunk(images))  # [B, F] -> [B, D]


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
    """What a term sees of one phase (the ``encoder`` the step provides). ``encoded`` and
    ``fake`` are detached in D's phase and carry G's and E's gradients in G's phase."""

    name: str  # "discriminator" or "generator"
    step: int  # the training step, from 1
    real: Tensor  # [B, C, H, W]
    encoded: Tensor  # [B, D] E(real)
    fake: Tensor  # [B, C, H, W] G(z)
    z: Tensor  # [B, D]
    real_logits: Tensor  # [B] D(real, E(real))
    fake_logits: Tensor  # [B] D(G(z), z)
    encoder: Callable[[Tensor], Tensor]  # [N, C, H, W] -> [N, D], with gradients
    latent: LatentSpace


def posterior_layout(entry: LatentEntry, value: Tensor) -> Tensor | None:
    """The encoder's estimate ``value [B, width]`` of one code as that code's posterior
    ``[B, posterior_size]``: the estimate itself where the sizes agree (a categorical code's
    logits, a continuous code's mean), else the code's ``confident_posterior``."""
    if entry.code.posterior_size == entry.code.width:
        return value
    return entry.code.confident_posterior(value)


class BiGANStep(TrainingStep):
    progress_labels = {"latent_reconstruction/": "rec"}

    def __init__(self, config: BiGANConfig, build: StepBuild):
        self.config = config
        self.loss = build.loss
        self.terms = build.terms
        self.regularized = build.latent.regularized
        for e in self.regularized:  # ganzoo check builds the step: a bad code is a recipe error
            probe = posterior_layout(e, torch.zeros(1, e.code.width))
            if probe is None or probe.shape != (1, e.code.posterior_size):
                raise ValueError(
                    f"code '{e.name}' needs a posterior of {e.code.posterior_size} numbers that "
                    f"the encoder's estimate of its {e.code.width} columns cannot give; set "
                    f"model.latent.{e.name}.regularized = false"
                )

    # -- networks ---------------------------------------------------------------------------
    def build_networks(self, parts: NetworkParts) -> dict[str, nn.Module]:
        width = parts.latent.width
        backbone = parts.backbone()  # G, and a trunk for D
        second = parts.backbone()  # a second trunk, for E (its generator is not used)
        discriminator = JointDiscriminator(
            backbone.trunk, backbone.feature_dim, width, self.config.hidden, self.config.leaky_slope
        )
        encoder = Encoder(second.trunk, second.feature_dim, width)
        return {"generator": backbone.generator, "encoder": encoder, "discriminator": discriminator}

    def parameters(self, role: str, networks: dict[str, nn.Module]) -> list[nn.Parameter]:
        if role == "generator":
            return [*networks["generator"].parameters(), *networks["encoder"].parameters()]
        return list(networks["discriminator"].parameters())

    # -- one step -----------------------------------------------------------------------------
    def run(self, ctx: StepContext) -> None:
        generator, encoder = ctx.networks["generator"], ctx.networks["encoder"]
        discriminator = ctx.networks["discriminator"]
        batch = ctx.next_batch()
        z = ctx.sample_latent()  # [B, D]
        with ctx.autocast():
            fake = generator(z)  # [B, C, H, W]
            encoded = encoder(batch.images)  # [B, D]
            real_logits = discriminator(batch.images, encoded.detach())  # [B]
            fake_logits = discriminator(fake.detach(), z)  # [B]
            terms = {"adversarial": self.loss.discriminator_loss(real_logits, fake_logits)}
            stats = {"d_output/real": real_logits.mean(), "d_output/fake": fake_logits.mean()}
            phase = BiGANPhase("discriminator", ctx.step, batch.images, encoded.detach(),
                               fake.detach(), z, real_logits, fake_logits, encoder, ctx.latent)
            self.add_terms(phase, terms, stats)
        ctx.backward_step("discriminator", terms)
        ctx.record(stats)

        with ctx.frozen(discriminator.parameters()), ctx.autocast():
            real_logits = discriminator(batch.images, encoded)
            fake_logits = discriminator(fake, z)
            # G and E win when D mistakes each pair for the other: D's loss, pairs swapped
            terms = {"adversarial": self.loss.discriminator_loss(fake_logits, real_logits)}
            stats = {}
            phase = BiGANPhase("generator", ctx.step, batch.images, encoded, fake, z,
                               real_logits, fake_logits, encoder, ctx.latent)
            self.add_terms(phase, terms, stats)
        ctx.backward_step("generator", terms)
        ctx.record(stats)

    def add_terms(self, phase: BiGANPhase, terms: dict[str, Tensor], stats: dict[str, Tensor]) -> None:
        """Each loss term's share of this phase, in recipe order (name clashes refused)."""
        add_term_shares(self.terms, phase.name, phase, terms, stats)

    # -- what the trained system offers ----------------------------------------------------------
    def posterior(self, networks: dict[str, nn.Module], images: Tensor) -> Tensor | None:
        """The encoder's estimate of each regularised code, laid out as its posterior."""
        if not self.regularized:
            return None
        z_hat = networks["encoder"](images)  # [N, D]
        return torch.cat([posterior_layout(e, z_hat[:, e.columns]) for e in self.regularized], dim=1)

    def tensorboard_layout(self) -> dict:
        return {"bigan": {
            "D's logits": ["Multiline", [r"d_output/.*"]],
            "latent reconstruction": ["Multiline", [r"latent_reconstruction/.*"]],
        }}
