"""Adversarial losses. Any of them combines with loss terms (``[train.terms.*]``): a gradient
penalty, R1, InfoGAN's mutual-information term, ..."""

from ganzoo import LossSpec, hookimpl
from ganzoo_plugins.losses.configs import LeastSquaresConfig, WassersteinConfig

_MODULE = "ganzoo_plugins.losses.adversarial"


@hookimpl
def ganzoo_losses():
    return [
        LossSpec(
            name="nonsaturating",
            summary="non-saturating GAN loss: G maximises log D(G(z)) (Goodfellow et al. 2014)",
            factory=f"{_MODULE}:NonSaturating",
        ),
        LossSpec(
            name="minimax",
            summary="original minimax GAN loss: G minimises log(1 - D(G(z)))",
            factory=f"{_MODULE}:Minimax",
        ),
        LossSpec(
            name="least_squares",
            summary="least-squares GAN loss, a-b-c coding: D regresses fakes to a and reals to "
            "b, G its fakes to c; default 0-1-1 (Mao et al. 2017)",
            config=LeastSquaresConfig,
            factory=f"{_MODULE}:LeastSquares",
        ),
        LossSpec(
            name="hinge",
            summary="hinge loss for D, -D(G(z)) for G (Lim & Ye 2017; SNGAN)",
            factory=f"{_MODULE}:Hinge",
        ),
        LossSpec(
            name="wasserstein",
            summary="Wasserstein critic loss; pair with [train.terms.gradient_penalty] "
            "weight = 10 for WGAN-GP",
            config=WassersteinConfig,
            factory=f"{_MODULE}:Wasserstein",
        ),
        LossSpec(
            name="relativistic_average",
            summary="relativistic average GAN loss: real and fake judged against each other's "
            "mean logit, for D and G (Jolicoeur-Martineau 2019)",
            factory=f"{_MODULE}:RelativisticAverage",
        ),
        LossSpec(
            name="relativistic_average_least_squares",
            summary="RaLSGAN: least squares on real and fake logits relative to each other's "
            "mean, for D and G (Jolicoeur-Martineau 2019)",
            factory=f"{_MODULE}:RelativisticAverageLeastSquares",
        ),
    ]
