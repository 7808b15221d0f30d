"""Loss terms any adversarial step accepts: regularisers of the discriminator."""

from ganzoo import TermSpec, hookimpl
from ganzoo_plugins.terms.configs import GradientPenaltyConfig, R1Config


@hookimpl
def ganzoo_terms():
    return [
        TermSpec(
            name="gradient_penalty",
            summary="WGAN-GP: weight * (||grad D(x_hat)|| - 1)^2 between real and generated "
            "images, in D's phase (Gulrajani et al. 2017)",
            config=GradientPenaltyConfig,
            factory="ganzoo_plugins.terms.penalties:GradientPenalty",
            needs=("adversarial",),
        ),
        TermSpec(
            name="r1",
            summary="R1: weight/2 * ||grad D(x)||^2 on real images in D's phase, optionally "
            "lazy (every k steps, scaled by k) (Mescheder et al. 2018; StyleGAN2)",
            config=R1Config,
            factory="ganzoo_plugins.terms.penalties:R1Penalty",
            needs=("adversarial",),
        ),
    ]
