"""TensorBoard layout: a custom-scalars dashboard that groups what a GAN user watches."""

from __future__ import annotations

from typing import Any

from ganzoo.latent import LatentSpace


def write_layout(writer: Any, latent: LatentSpace) -> None:
    layout: dict[str, dict[str, list[Any]]] = {
        "losses": {
            "discriminator": ["Multiline", [r"loss/discriminator/.*"]],
            "generator": ["Multiline", [r"loss/generator/.*"]],
        },
        "discriminator output": {
            "mean logit on real and generated images": ["Multiline", [r"d_output/.*"]],
        },
        "training": {
            "learning rates": ["Multiline", [r"learning_rate/.*"]],
            "images per second": ["Multiline", [r"speed/images_per_second"]],
        },
    }
    if latent.regularized:
        layout["mutual information"] = {
            "lower bound (nats)": ["Multiline", [r"mi_lower_bound/.*"]],
            "MI loss terms": ["Multiline", [r"loss/.*/mutual_information/.*"]],
        }
        layout["evaluation"] = {
            "categorical code vs labels (test split)": ["Multiline", [r"eval/(accuracy|nmi)/.*"]],
            "MI lower bound on fresh samples": ["Multiline", [r"eval/mi_lower_bound/.*"]],
        }
    writer.add_custom_scalars(layout)
