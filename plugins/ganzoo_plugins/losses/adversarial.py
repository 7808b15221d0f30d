"""The adversarial losses, on D's raw logits ``[B]``. Each returns a scalar mean."""


from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from ganzoo.step import AdversarialLoss
from ganzoo_plugins.losses.configs import LeastSquaresConfig, WassersteinConfig  # noqa: F401  (re-exported)


class NonSaturating(AdversarialLoss):
    def __init__(self, config: object = None):
        pass

    def discriminator_loss(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        # -log sigmoid(r) - log(1 - sigmoid(f)), written with softplus for stability
        return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()

    def generator_loss(self, fake_logits: Tensor, real_logits: Tensor | None = None) -> Tensor:
        return F.softplus(-fake_logits).mean()


class Minimax(NonSaturating):
    def generator_loss(self, fake_logits: Tensor, real_logits: Tensor | None = None) -> Tensor:
        return -F.softplus(fake_logits).mean()  # log(1 - sigmoid(f))


class LeastSquares(AdversarialLoss):
    """LSGAN with the a-b-c coding of ``LeastSquaresConfig`` (default 0-1-1), halved as in
    the paper."""

    def __init__(self, config: LeastSquaresConfig | None = None):
        config = config or LeastSquaresConfig()
        self.a, self.b, self.c = config.fake_target, config.real_target, config.generator_target

    def discriminator_loss(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        # x - 0.0 is x exactly, so the default coding gives the old 0-1-1 losses bit for bit
        return 0.5 * ((real_logits - self.b).pow(2).mean() + (fake_logits - self.a).pow(2).mean())

    def generator_loss(self, fake_logits: Tensor, real_logits: Tensor | None = None) -> Tensor:
        return 0.5 * (fake_logits - self.c).pow(2).mean()


class Hinge(AdversarialLoss):
    def __init__(self, config: object = None):
        pass

    def discriminator_loss(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()

    def generator_loss(self, fake_logits: Tensor, real_logits: Tensor | None = None) -> Tensor:
        return -fake_logits.mean()


class Wasserstein(AdversarialLoss):
    def __init__(self, config: WassersteinConfig):
        self.drift = config.drift

    def discriminator_loss(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        loss = fake_logits.mean() - real_logits.mean()
        if self.drift:
            loss = loss + self.drift * real_logits.pow(2).mean()
        return loss

    def generator_loss(self, fake_logits: Tensor, real_logits: Tensor | None = None) -> Tensor:
        return -fake_logits.mean()


class RelativisticAverage(AdversarialLoss):
    """RaGAN (Jolicoeur-Martineau 2019): each side is judged relative to the other side's
    mean logit, so G's loss needs the real logits too."""

    needs_real_logits_for_generator = True

    def __init__(self, config: object = None):
        pass

    def discriminator_loss(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        return (
            F.softplus(-(real_logits - fake_logits.mean())).mean()
            + F.softplus(fake_logits - real_logits.mean()).mean()
        )

    def generator_loss(self, fake_logits: Tensor, real_logits: Tensor | None = None) -> Tensor:
        if real_logits is None:
            raise ValueError("the relativistic loss needs the real logits in G's phase")
        return (
            F.softplus(-(fake_logits - real_logits.mean())).mean()
            + F.softplus(real_logits - fake_logits.mean()).mean()
        )


class RelativisticAverageLeastSquares(AdversarialLoss):
    """RaLSGAN (Jolicoeur-Martineau 2019): least squares on each side's logit relative to the
    other side's mean, targets +1 for the side that should look real and -1 for the other;
    halved like ``LeastSquares``. G's loss needs the real logits too."""

    needs_real_logits_for_generator = True

    def __init__(self, config: object = None):
        pass

    def discriminator_loss(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        return 0.5 * (
            (real_logits - fake_logits.mean() - 1).pow(2).mean()
            + (fake_logits - real_logits.mean() + 1).pow(2).mean()
        )

    def generator_loss(self, fake_logits: Tensor, real_logits: Tensor | None = None) -> Tensor:
        if real_logits is None:
            raise ValueError("the relativistic loss needs the real logits in G's phase")
        return 0.5 * (
            (fake_logits - real_logits.mean() - 1).pow(2).mean()
            + (real_logits - fake_logits.mean() + 1).pow(2).mean()
        )
