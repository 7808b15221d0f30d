"""InfoGAN's training step: the adversarial step, with Q's posterior in every phase.

Q shares D's trunk: one trunk forward gives both D's logit and Q's posterior. Who trains Q is
``q_head.optimizer``: "discriminator" (the official code; Q, and with ``trains_trunk`` the
trunk, learn the MI term on the detached fakes in D's phase) or "generator" (Q's head steps
with G's optimiser and learns only in G's phase). The loss terms (``mutual_information``
and friends) read ``InfoGANPhase.posterior`` and ask ``posterior_of`` for other images.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import attrs
import torch
from torch import Tensor, nn

from ganzoo.errors import UserError, brief
from ganzoo.step import Batch, NetworkParts, StepBuild, StepContext
from ganzoo_plugins.infogan.configs import InfoGANConfig
from ganzoo_plugins.infogan.q_head import QHead
from ganzoo_plugins.steps.adversarial import AdversarialConfig, AdversarialStep
from ganzoo_plugins.steps.phase import Phase


@attrs.define
class InfoGANPhase(Phase):
    """An adversarial phase plus Q: ``posterior`` of the fakes ``[B, P]`` (None in D's phase
    when Q does not learn there), ``real_posterior`` of the real batch (when a term sets
    ``uses_real_posterior``), and ``posterior_of(images)`` for other images, with the
    phase's gradient routing. ``sample_latent(B)`` draws latents from the step's checkpointed
    stream and ``generate(z)`` maps them to images (without G's gradient in D's phase, with it
    in G's), for terms that need images of latents of their own (InfoGAN-CR's pairs)."""

    posterior: Tensor | None = None
    real_posterior: Tensor | None = None
    posterior_of: Callable[[Tensor], Tensor] | None = None
    sample_latent: Callable[[int], Tensor] | None = None
    generate: Callable[[Tensor], Tensor] | None = None


class InfoGANStep(AdversarialStep):
    progress_labels = {"mi_lower_bound/": "MI"}

    def __init__(self, config: InfoGANConfig, build: StepBuild):
        super().__init__(AdversarialConfig(discriminator_steps=config.discriminator_steps), build)
        self.q_config = config.q_head
        self.q_in_discriminator = config.q_head.optimizer == "discriminator"
        self.uses_real_posterior = any(
            getattr(term, "uses_real_posterior", False) for term in build.terms.values()
        )

    # -- networks ---------------------------------------------------------------------------
    def build_networks(self, parts: NetworkParts) -> dict[str, nn.Module]:
        backbone = parts.backbone()
        q = self.q_config
        # Q before D's logit head: the order of their initial draws, as in ganzoo 0.1.
        try:
            q_head = QHead(backbone.feature_dim, q.hidden, parts.latent.posterior_size, q.batch_norm)
        except (TypeError, RuntimeError, OverflowError, MemoryError) as exc:  # e.g. hidden too large
            raise UserError(f"train.step.q_head: cannot build with these parameters ({brief(exc)})") from None
        discriminator = parts.discriminator(backbone)
        return {"generator": backbone.generator, "discriminator": discriminator, "q_head": q_head}

    def parameters(self, role: str, networks: dict[str, nn.Module]) -> list[nn.Parameter]:
        q_role = "discriminator" if self.q_in_discriminator else "generator"
        own = list(networks[role].parameters())
        return own + list(networks["q_head"].parameters()) if role == q_role else own

    def frozen_in_generator_phase(self, networks: dict[str, nn.Module]) -> Iterable[nn.Parameter]:
        frozen = list(networks["discriminator"].parameters())
        return frozen + list(networks["q_head"].parameters()) if self.q_in_discriminator else frozen

    # -- phases -------------------------------------------------------------------------------
    def _posterior_fn(self, ctx: StepContext, detach: bool) -> Callable[[Tensor], Tensor]:
        discriminator, q_head = ctx.networks["discriminator"], ctx.networks["q_head"]

        def posterior_of(images: Tensor) -> Tensor:
            _, features = discriminator(images, return_features=True)  # [B, F]
            # detach: Q learns without its gradient reaching the shared trunk
            return q_head(features.detach() if detach else features)  # [B, P]

        return posterior_of

    def _generate_fn(self, ctx: StepContext, batch: Batch, grad: bool) -> Callable[[Tensor], Tensor]:
        generator = ctx.networks["generator"]

        def generate(z: Tensor) -> Tensor:
            with torch.set_grad_enabled(grad and torch.is_grad_enabled()):
                images = self.generate(generator, z, batch)  # [B, C, H, W]
            return images if grad else images.detach()

        return generate

    def discriminator_phase(self, ctx: StepContext, batch: Batch, fake: Tensor, z: Tensor) -> Phase:
        discriminator, q_head = ctx.networks["discriminator"], ctx.networks["q_head"]
        detach = not self.q_config.trains_trunk

        def q(features: Tensor) -> Tensor:
            return q_head(features.detach() if detach else features)

        real_logits, real_features = discriminator(batch.images, return_features=True)
        real_posterior = q(real_features) if self.uses_real_posterior else None
        fake_logits, fake_features = discriminator(fake, return_features=True)
        posterior = q(fake_features) if self.q_in_discriminator else None
        return InfoGANPhase(
            "discriminator", ctx.step, batch.images, fake, z, batch.labels, real_logits,
            fake_logits, discriminator, self.latent, posterior, real_posterior,
            self._posterior_fn(ctx, detach), ctx.sample_latent, self._generate_fn(ctx, batch, False),
        )

    def generator_phase(self, ctx: StepContext, batch: Batch, fake: Tensor, z: Tensor) -> Phase:
        discriminator, q_head = ctx.networks["discriminator"], ctx.networks["q_head"]
        fake_logits, features = discriminator(fake, return_features=True)
        posterior = q_head(features)
        real_logits = discriminator(batch.images) if self.loss.needs_real_logits_for_generator else None
        return InfoGANPhase(
            "generator", ctx.step, batch.images, fake, z, batch.labels, real_logits,
            fake_logits, discriminator, self.latent, posterior, None,
            self._posterior_fn(ctx, False), ctx.sample_latent, self._generate_fn(ctx, batch, True),
        )

    # -- evaluation -----------------------------------------------------------------------------
    def posterior(self, networks: dict[str, nn.Module], images: Tensor) -> Tensor:
        _, features = networks["discriminator"](images, return_features=True)
        return networks["q_head"](features)

    def evaluate_during_training(
        self, system: Any, test_data: Any, samples: int, generator: torch.Generator
    ) -> dict[str, float]:
        from ganzoo_plugins.infogan.quick_eval import quick_evaluate

        images = labels = None
        if test_data is not None:
            images, labels = test_data.images, test_data.labels
        device = next(system.generator.parameters()).device
        return quick_evaluate(system, images, labels, device, samples, generator)

    def tensorboard_layout(self) -> dict[str, dict[str, list[Any]]]:
        return {
            "mutual information": {
                "lower bound (nats)": ["Multiline", [r"mi_lower_bound/.*"]],
                "MI loss terms": [
                    "Multiline", [r"loss/.*/(mutual_information|invariant_information)/.*"]
                ],
            },
            "evaluation": {
                "categorical code vs labels (test split)": ["Multiline", [r"eval/(accuracy|nmi)/.*"]],
                "MI lower bound on fresh samples": ["Multiline", [r"eval/mi_lower_bound/.*"]],
            },
        }
