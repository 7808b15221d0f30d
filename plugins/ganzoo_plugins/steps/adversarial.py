"""The adversarial step: ``discriminator_steps`` D updates, then one G update.

Only the last D phase generates with gradients: G's phase reuses those images (one
generator forward with gradients per step, shared by every term). In G's phase D's
parameters are frozen, so no backward work is spent on them. With ``conditional = true``
the real batch's labels condition both G (``generator(z, labels)``) and D (projection);
the backbone must accept ``num_classes``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor, nn

from ganzoo.step import (
    Batch,
    NetworkParts,
    StepBuild,
    StepContext,
    TrainingStep,
    add_term_shares,
    lazy_term_shares,
)
from ganzoo_plugins.steps.configs import AdversarialConfig, check_adversarial  # noqa: F401  (re-exported)
from ganzoo_plugins.steps.phase import Phase


class CyclingLabels(nn.Module):
    """A conditional generator for grids and evaluation: ``forward(z, labels)`` draws the
    given classes; without labels image i gets class i mod K, so each row of a grid as wide
    as a multiple of K walks through the classes."""

    def __init__(self, generator: nn.Module, num_classes: int):
        super().__init__()
        self.generator = generator
        self.num_classes = num_classes

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        if labels is None:
            labels = torch.arange(z.shape[0], device=z.device) % self.num_classes  # [N]
        return self.generator(z, labels)


class AdversarialStep(TrainingStep):
    def __init__(self, config: AdversarialConfig, build: StepBuild):
        self.config = config
        self.loss = build.loss
        self.terms = build.terms
        self.latent = build.latent
        self.uses_labels = config.conditional

    # -- networks ---------------------------------------------------------------------------
    def build_networks(self, parts: NetworkParts) -> dict[str, nn.Module]:
        classes = self._classes(parts)
        backbone = parts.backbone(classes)
        return {"generator": backbone.generator, "discriminator": parts.discriminator(backbone, classes)}

    def _classes(self, parts: NetworkParts) -> int:
        if not self.config.conditional:
            return 0
        if parts.num_classes < 2:
            raise ValueError("conditional = true needs a dataset with labels of 2 or more classes")
        self.num_classes = parts.num_classes
        return parts.num_classes

    def parameters(self, role: str, networks: dict[str, nn.Module]) -> list[nn.Parameter]:
        return list(networks[role].parameters())

    def frozen_in_generator_phase(self, networks: dict[str, nn.Module]) -> Iterable[nn.Parameter]:
        return networks["discriminator"].parameters()

    def sampler(self, networks: dict[str, nn.Module]) -> nn.Module:
        if not self.config.conditional:
            return networks["generator"]
        return CyclingLabels(networks["generator"], self.num_classes)

    def images_per_step(self, batch_size: int) -> int:
        return batch_size * self.config.discriminator_steps

    # -- one step -----------------------------------------------------------------------------
    def run(self, ctx: StepContext) -> None:
        generator = ctx.networks["generator"]
        count = self.config.discriminator_steps
        for i in range(count):
            batch = ctx.next_batch()
            z = ctx.sample_latent()  # [B, D]
            with ctx.autocast(), torch.set_grad_enabled(i == count - 1):
                fake = self.generate(generator, z, batch)  # [B, C, H, W]
            with ctx.autocast():
                phase = self.discriminator_phase(ctx, batch, fake.detach(), z)
                terms = {"adversarial": self.loss.discriminator_loss(phase.real_logits, phase.fake_logits)}
                stats = {
                    "d_output/real": phase.real_logits.detach().mean(),
                    "d_output/fake": phase.fake_logits.detach().mean(),
                }
                self.add_terms(phase, terms, stats)
            ctx.backward_step("discriminator", terms)
        ctx.record(stats)
        self.lazy_discriminator_phase(ctx, batch, fake.detach(), z)

        with ctx.frozen(self.frozen_in_generator_phase(ctx.networks)):
            with ctx.autocast():
                phase = self.generator_phase(ctx, batch, fake, z)
                terms = {"adversarial": self.loss.generator_loss(phase.fake_logits, phase.real_logits)}
                stats = {}
                self.add_terms(phase, terms, stats)
            ctx.backward_step("generator", terms)
        ctx.record(stats)

    def lazy_discriminator_phase(self, ctx: StepContext, batch: Batch, fake: Tensor, z: Tensor) -> None:
        """Lazy regularisers of D (R1 with ``every`` > 1) due at this step, as their own
        optimiser step on the last real batch (StyleGAN2's "Dreg" phase)."""
        phase = Phase("discriminator", ctx.step, batch.images, fake, z, batch.labels,
                      None, None, self.scorer(ctx, batch), self.latent)  # terms score what they need
        with ctx.autocast():
            terms, stats = lazy_term_shares(self.terms, "discriminator", ctx.step, phase)
        if terms:
            ctx.backward_step("discriminator", terms)
            ctx.record(stats)

    def generate(self, generator: nn.Module, z: Tensor, batch: Batch) -> Tensor:
        # fake images take the real batch's labels: the label distribution is the data's
        return generator(z, batch.labels) if self.config.conditional else generator(z)

    def scorer(self, ctx: StepContext, batch: Batch) -> Callable[..., Any]:
        discriminator = ctx.networks["discriminator"]
        if self.config.conditional:
            return lambda images, **kw: discriminator(images, batch.labels, **kw)
        return discriminator

    def discriminator_phase(self, ctx: StepContext, batch: Batch, fake: Tensor, z: Tensor) -> Phase:
        score = self.scorer(ctx, batch)
        real_logits = score(batch.images)  # [B]
        fake_logits = score(fake)  # [B]
        return Phase("discriminator", ctx.step, batch.images, fake, z, batch.labels,
                     real_logits, fake_logits, score, self.latent)

    def generator_phase(self, ctx: StepContext, batch: Batch, fake: Tensor, z: Tensor) -> Phase:
        score = self.scorer(ctx, batch)
        fake_logits = score(fake)
        real_logits = score(batch.images) if self.loss.needs_real_logits_for_generator else None
        return Phase("generator", ctx.step, batch.images, fake, z, batch.labels,
                     real_logits, fake_logits, score, self.latent)

    def family_terms(self, phase: Phase) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        """Losses of the family itself beside ``adversarial`` (AC-GAN's class loss), and their
        statistics; the plain step has none."""
        return {}, {}

    def add_terms(self, phase: Phase, terms: dict[str, Tensor], stats: dict[str, Tensor]) -> None:
        """The family's own losses, then each loss term's share of this phase, in recipe order."""
        own, own_stats = self.family_terms(phase)
        terms.update(own)
        stats.update(own_stats)
        add_term_shares(self.terms, phase.name, phase, terms, stats)
