"""Example third-party ganzoo plugin: a Bernoulli (binary) latent code.

Registration only: the configs are torch-free and the codes are ``"module:attr"`` factories,
so ``ganzoo components`` does not import torch through this plugin.

It also registers a code named ``uniform`` (fair bits), on purpose the name of a built-in:
the built-in keeps ``uniform``, this one is reachable as ``bernoulli:uniform``, and ganzoo
reports the clash with both providers.
"""

from ganzoo import LatentCodeSpec, hookimpl
from ganzoo_bernoulli.configs import BernoulliConfig, FairBitsConfig


@hookimpl
def ganzoo_latent_codes():
    return [
        LatentCodeSpec(
            name="bernoulli",
            summary="independent binary bits (Q: logits, binary cross-entropy)",
            config=BernoulliConfig,
            factory="ganzoo_bernoulli.code:Bernoulli",
        ),
        LatentCodeSpec(
            name="uniform",
            summary="fair bits, uniform over {0, 1} (named like the built-in on purpose)",
            config=FairBitsConfig,
            factory="ganzoo_bernoulli.code:fair_bits",
        ),
    ]
