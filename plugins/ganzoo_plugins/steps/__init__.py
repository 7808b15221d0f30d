"""The plain adversarial training step (D phase(s), then a G phase), on which GAN families
build: InfoGAN's step (``ganzoo_plugins.infogan``) is a subclass."""

from ganzoo import StepSpec, hookimpl
from ganzoo_plugins.steps.configs import AdversarialConfig, check_adversarial


def __getattr__(name: str):
    # ``from ganzoo_plugins.steps import Phase`` keeps working without importing torch at
    # registration (listing components must stay fast).
    if name == "Phase":
        from ganzoo_plugins.steps.phase import Phase

        return Phase
    raise AttributeError(name)


@hookimpl
def ganzoo_steps():
    return [
        StepSpec(
            name="adversarial",
            summary="a GAN step: discriminator update(s) on real and generated images, then a "
            "generator update on the same generated images; optionally class-conditional",
            config=AdversarialConfig,
            factory="ganzoo_plugins.steps.adversarial:AdversarialStep",
            optimizer_roles=("generator", "discriminator"),
            provides=("adversarial",),
            check=check_adversarial,
        ),
    ]
