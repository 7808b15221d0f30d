"""Latent-code distributions: categorical, gaussian, uniform."""

from ganzoo import LatentCodeSpec, hookimpl
from ganzoo_plugins.latent_codes.configs import CategoricalConfig, GaussianConfig, UniformConfig


@hookimpl
def ganzoo_latent_codes():
    return [
        LatentCodeSpec(
            name="categorical",
            summary="one-hot code with K equally likely categories (Q: logits, cross-entropy)",
            config=CategoricalConfig,
            factory="ganzoo_plugins.latent_codes.categorical:Categorical",
        ),
        LatentCodeSpec(
            name="gaussian",
            summary="standard normal code (Q: factored Gaussian, learned or fixed std)",
            config=GaussianConfig,
            factory="ganzoo_plugins.latent_codes.continuous:Gaussian",
        ),
        LatentCodeSpec(
            name="uniform",
            summary="uniform code on [low, high] (Q: factored Gaussian, learned or fixed std)",
            config=UniformConfig,
            factory="ganzoo_plugins.latent_codes.continuous:Uniform",
        ),
    ]
