"""InfoGAN's in-training evaluation (``train.eval_every``): cheap numbers for TensorBoard."""

from __future__ import annotations

import torch
from torch import Tensor

from ganzoo.evaluation import categorical_codes, cluster_ids, generate_images, posteriors
from ganzoo_plugins.measures import matched_accuracy
from ganzoo_plugins.metrics.mutual_information import code_information

QUICK_TEST_IMAGES = 2000


@torch.no_grad()
def quick_evaluate(
    system,
    test_images_u8: Tensor | None,
    test_labels: Tensor | None,
    device: torch.device,
    samples: int,
    generator: torch.Generator,
) -> dict[str, float]:
    """``{"mi_lower_bound/CODE": nats, "accuracy/CODE": fraction}``.

    The MI lower bound of every regularised code on ``samples`` fresh samples drawn with
    ``generator`` (categorical: ln K − CE; continuous: entropy − NLL), and, when labels are
    given, the Hungarian-matched accuracy of Q's argmax for each categorical code on at most
    2000 test images. Models run in eval mode; their previous modes are restored.
    """
    out: dict[str, float] = {}
    if not system.latent.regularized:
        return out
    z = system.latent.sample(samples, generator, device)  # [N, D]
    images = generate_images(system, z)
    for name, values in code_information(system, z, posteriors(system, images, device)).items():
        if values["mi_lower_bound"] is not None:
            out[f"mi_lower_bound/{name}"] = values["mi_lower_bound"]
    codes = categorical_codes(system)
    if codes and test_images_u8 is not None and test_labels is not None and len(test_labels):
        n = min(QUICK_TEST_IMAGES, len(test_labels))
        posterior = posteriors(system, test_images_u8[:n], device)
        labels = test_labels[:n].cpu()
        for e in codes:
            predicted = cluster_ids(e, posterior).cpu()
            out[f"accuracy/{e.name}"] = matched_accuracy(
                predicted, labels, num_clusters=e.code.categories
            ).accuracy
    return out
