"""AC-GAN (Odena et al. 2017) as a plugin: a class-conditional G, and D with an auxiliary
classifier head on its trunk; the class cross-entropy is in both phases (``step.py``)."""

from ganzoo import StepSpec, hookimpl
from ganzoo_plugins.acgan.configs import AcGANConfig
from ganzoo_plugins.steps.configs import check_adversarial


@hookimpl
def ganzoo_steps():
    return [
        StepSpec(
            name="acgan",
            summary="AC-GAN: class-conditional G; D's trunk also feeds an auxiliary classifier, "
            "and both networks minimise its class cross-entropy (Odena et al. 2017)",
            config=AcGANConfig,
            factory="ganzoo_plugins.acgan.step:AcGANStep",
            optimizer_roles=("generator", "discriminator"),
            provides=("adversarial",),
            check=check_adversarial,
        ),
    ]
