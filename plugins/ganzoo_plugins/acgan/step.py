"""The AC-GAN step: the adversarial step with a class-conditional G and an auxiliary
classifier on D's trunk (Odena et al. 2017, "Conditional Image Synthesis with Auxiliary
Classifier GANs").

One trunk forward gives D's real/fake logit and the classifier's class logits. D's optimiser
minimises the adversarial loss plus ``class_weight`` · (CE(real classes) + CE(requested
classes of the fakes)), i.e. it maximises L_S + L_C; G's minimises its adversarial loss plus
``class_weight`` · CE(requested classes of its fakes), i.e. it maximises L_C − L_S. Fakes are
drawn for the real batch's labels, so the label distribution is the data's. D has no
projection: the classifier is how it sees classes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import attrs
import torch.nn.functional as F
from torch import Tensor, nn

from ganzoo.step import Batch, NetworkParts, StepBuild, StepContext
from ganzoo_plugins.acgan.configs import AcGANConfig
from ganzoo_plugins.steps.adversarial import AdversarialConfig, AdversarialStep
from ganzoo_plugins.steps.phase import Phase


@attrs.define
class AcGANPhase(Phase):
    """An adversarial phase plus the auxiliary classifier's logits ``[B, K]``: of the fakes
    (with G's gradient in G's phase) and, in D's phase, of the real batch."""

    class_logits: Tensor | None = None
    real_class_logits: Tensor | None = None


class AcGANStep(AdversarialStep):
    progress_labels = {"classifier/accuracy_": "acc"}  # acc[real], acc[fake]

    def __init__(self, config: AcGANConfig, build: StepBuild):
        super().__init__(
            AdversarialConfig(discriminator_steps=config.discriminator_steps, conditional=True), build
        )
        self.class_weight = config.class_weight
        self.fake_class_loss = config.fake_class_loss

    # -- networks ---------------------------------------------------------------------------
    def build_networks(self, parts: NetworkParts) -> dict[str, nn.Module]:
        classes = self._classes(parts)
        backbone = parts.backbone(classes)  # G conditions on labels
        discriminator = parts.discriminator(backbone)  # no projection: the classifier sees classes
        classifier = nn.Linear(backbone.feature_dim, classes)  # [B, F] -> [B, K]
        return {"generator": backbone.generator, "discriminator": discriminator, "classifier": classifier}

    def parameters(self, role: str, networks: dict[str, nn.Module]) -> list[nn.Parameter]:
        own = list(networks[role].parameters())
        return own + list(networks["classifier"].parameters()) if role == "discriminator" else own

    def frozen_in_generator_phase(self, networks: dict[str, nn.Module]) -> Iterable[nn.Parameter]:
        return [*networks["discriminator"].parameters(), *networks["classifier"].parameters()]

    # -- phases -------------------------------------------------------------------------------
    def scorer(self, ctx: StepContext, batch: Batch) -> Callable[..., Any]:
        return ctx.networks["discriminator"]  # D's logit does not take labels

    def discriminator_phase(self, ctx: StepContext, batch: Batch, fake: Tensor, z: Tensor) -> Phase:
        discriminator, classifier = ctx.networks["discriminator"], ctx.networks["classifier"]
        real_logits, real_features = discriminator(batch.images, return_features=True)  # [B], [B, F]
        fake_logits, fake_features = discriminator(fake, return_features=True)
        return AcGANPhase(
            "discriminator", ctx.step, batch.images, fake, z, batch.labels, real_logits,
            fake_logits, discriminator, self.latent,
            class_logits=classifier(fake_features), real_class_logits=classifier(real_features),
        )

    def generator_phase(self, ctx: StepContext, batch: Batch, fake: Tensor, z: Tensor) -> Phase:
        discriminator, classifier = ctx.networks["discriminator"], ctx.networks["classifier"]
        fake_logits, features = discriminator(fake, return_features=True)
        real_logits = discriminator(batch.images) if self.loss.needs_real_logits_for_generator else None
        return AcGANPhase(
            "generator", ctx.step, batch.images, fake, z, batch.labels, real_logits,
            fake_logits, discriminator, self.latent, class_logits=classifier(features),
        )

    def family_terms(self, phase: Phase) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        """The class cross-entropy of this phase (``loss/<role>/classification``)."""
        assert isinstance(phase, AcGANPhase)
        labels = phase.labels  # [B]
        fake_ce = F.cross_entropy(phase.class_logits, labels)
        stats = {"classifier/accuracy_fake": _accuracy(phase.class_logits, labels)}
        if phase.name == "generator":
            return {"classification": self.class_weight * fake_ce}, stats
        real_ce = F.cross_entropy(phase.real_class_logits, labels)
        stats["classifier/accuracy_real"] = _accuracy(phase.real_class_logits, labels)
        loss = real_ce + fake_ce if self.fake_class_loss else real_ce
        return {"classification": self.class_weight * loss}, stats

    def tensorboard_layout(self) -> dict[str, dict[str, list[Any]]]:
        return {"auxiliary classifier": {"accuracy": ["Multiline", [r"classifier/accuracy_.*"]]}}


def _accuracy(logits: Tensor, labels: Tensor) -> Tensor:
    return (logits.detach().argmax(dim=1) == labels).float().mean()
