"""Optimisers for the generator and discriminator (torch.optim)."""

from ganzoo import OptimizerSpec, hookimpl
from ganzoo_plugins.optimizers.configs import (
    AdamConfig,
    AdamWConfig,
    RMSpropConfig,
    SGDConfig,
)

_MODULE = "ganzoo_plugins.optimizers.torch_optimizers"


@hookimpl
def ganzoo_optimizers():
    return [
        OptimizerSpec(name="adam", summary="Adam (Kingma & Ba 2015)", config=AdamConfig,
                      factory=f"{_MODULE}:adam"),
        OptimizerSpec(name="adamw", summary="Adam with decoupled weight decay", config=AdamWConfig,
                      factory=f"{_MODULE}:adamw"),
        OptimizerSpec(name="rmsprop", summary="RMSprop (the original WGAN's choice)",
                      config=RMSpropConfig, factory=f"{_MODULE}:rmsprop"),
        OptimizerSpec(name="sgd", summary="stochastic gradient descent with momentum",
                      config=SGDConfig, factory=f"{_MODULE}:sgd"),
    ]
