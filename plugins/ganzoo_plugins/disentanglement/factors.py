"""Datasets with known factors of variation, and what the disentanglement metrics read.

A dataset says what made each of its images by setting ``ImageData.factors`` to an object
with this small protocol (nothing else in ganzoo needs to know about it):

* ``names``: one name per factor, ``("shape", "scale", ...)``;
* ``values()``: ``[N, F]`` int64, each image's factor classes (continuous, measured factors
  are binned; see :class:`MeasuredFactors`).

Datasets that can also *draw* images for factor values they are given (``shapes2d``) add

* ``sizes``: the number of values of each factor;
* ``sample(n, rng)``: ``[n, F]`` int64 factor classes drawn uniformly (``numpy`` Generator);
* ``render(factors)``: uint8 images ``[n, C, H, W]`` for those factor classes.

The first two serve MIG, DCI and SAP (observational: images and their factors); the FactorVAE
and BetaVAE scores need the last three (they fix one factor and vary the others).

The *representation* of an image is what Q infers about every regularised code: the
posterior mean of a continuous code (one column per dimension) and the most likely category
of a categorical code (one column), in latent-space order (:func:`representation`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ganzoo.evaluation import EvalContext, Unavailable

SCALED_AT = 5000
"""``ganzoo eval --samples`` at which every count is disentanglement_lib's default; other
values scale the counts proportionally (``--samples 500``: a tenth), so a CPU check is cheap."""


def scaled(ctx: EvalContext, count: int, minimum: int = 64) -> int:
    """``count`` (a disentanglement_lib default) scaled by ``ctx.samples / SCALED_AT``."""
    return max(minimum, round(count * ctx.samples / SCALED_AT))


def has_factors(data: Any) -> Any:
    """The data's factors, or ``Unavailable`` saying why not."""
    factors = getattr(data, "factors", None)
    if factors is None:
        raise Unavailable("the dataset has no known factors of variation (ImageData.factors)")
    return factors


def can_render(factors: Any) -> bool:
    return all(hasattr(factors, a) for a in ("sizes", "sample", "render"))


def interventional(ctx: EvalContext) -> Any:
    """Factors that can be fixed and rendered (FactorVAE, BetaVAE), or ``Unavailable``."""
    factors = has_factors(ctx.test_data)
    if not can_render(factors):
        raise Unavailable(
            f"dataset '{ctx.dataset_name}' has measured factors but cannot draw images for "
            "given factor values; the score needs one factor fixed while the others vary "
            "(not applicable)"
        )
    return factors


@torch.no_grad()
def representation(ctx: EvalContext, images: Tensor) -> np.ndarray:
    """``[N, R]`` float64: Q's estimate of every regularised code of ``images`` (uint8 or
    [-1, 1] floats): continuous codes' posterior means, categorical codes' argmax."""
    regularized = ctx.system.latent.regularized
    if not regularized:
        raise Unavailable("no regularised code: the model infers nothing to compare with factors")
    posterior = ctx.posteriors(images)  # [N, P]
    columns = []
    for e in regularized:
        estimate = e.code.point_estimate(posterior[:, e.posterior]).float()  # [N, width]
        if e.code.categories is not None:
            estimate = estimate.argmax(dim=1, keepdim=True).float()  # [N, 1]
        columns.append(estimate)
    return torch.cat(columns, dim=1).double().cpu().numpy()


def representation_names(ctx: EvalContext) -> list[str]:
    """One name per representation column: ``code`` or ``code[d]``."""
    names = []
    for e in ctx.system.latent.regularized:
        if e.code.categories is not None or e.code.width == 1:
            names.append(e.name)
        else:
            names.extend(f"{e.name}[{d}]" for d in range(e.code.width))
    return names


OBSERVATION_POOL = 15000
"""Images MIG, DCI and SAP share (scaled): DCI's and SAP's 10000 train + 5000 test points."""


def observations(ctx: EvalContext, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``count`` of a pool of test images drawn with replacement (as
    disentanglement_lib samples its ground-truth data): their representations ``[n, R]``
    and factor classes ``[n, F]``. The pool is drawn once from its own stream and shared by
    MIG, DCI and SAP, so their results do not depend on which of them run."""
    pool = max(count, scaled(ctx, OBSERVATION_POOL))
    key = ("disentanglement_observations", pool)
    if key not in ctx.cache:
        data = ctx.test_data
        values = np.asarray(has_factors(data).values(), dtype=np.int64)  # [N, F]
        gen = torch.Generator().manual_seed(int(ctx.rng("disentanglement").initial_seed()))
        index = torch.randint(len(data), (pool,), generator=gen)  # [n]
        ctx.cache[key] = (representation(ctx, data.images[index]), values[index.numpy()])
    codes, factors = ctx.cache[key]
    return codes[:count], factors[:count]


def numpy_rng(ctx: EvalContext, purpose: str) -> np.random.Generator:
    return np.random.default_rng(int(ctx.rng(purpose).initial_seed()))


def factor_names(ctx: EvalContext) -> list[str]:
    return list(has_factors(ctx.test_data).names)


# -- MNIST: factors measured from image moments ------------------------------------------------
def height(images: Tensor) -> Tensor:
    """Vertical extent of the ink in pixels, ``sqrt(12 * var_y)`` (as ``width`` is for x),
    ``[B]``; images ``[B, 1, H, W]`` in [-1, 1]."""
    from ganzoo_plugins.measures import ink_weights

    w = ink_weights(images)  # [B, H, W]
    ys = torch.arange(w.shape[1], dtype=w.dtype, device=w.device).view(1, -1, 1)  # [1, H, 1]
    mass = w.sum(dim=(1, 2)).clamp_min(1e-6)  # [B]
    cy = (w * ys).sum(dim=(1, 2)) / mass  # [B]
    var = (w * (ys - cy.view(-1, 1, 1)) ** 2).sum(dim=(1, 2)) / mass  # [B]
    return torch.sqrt(12.0 * var)


def quantile_bins(values: np.ndarray, bins: int) -> np.ndarray:
    """``[N]`` float -> ``[N]`` int64 classes 0..bins-1 of (nearly) equal frequency."""
    edges = np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1])
    return np.searchsorted(edges, values, side="right").astype(np.int64)


class MeasuredFactors:
    """MNIST's factors: the class label, and slant, width, thickness and height measured
    from image moments (``ganzoo_plugins.measures``), each binned into ``bins`` classes of
    equal frequency (measured values lie on no grid). Computed on first use."""

    measures = ("slant", "width", "thickness", "height")

    def __init__(self, images: Tensor, labels: Tensor | None, bins: int = 20):
        self.images, self.labels, self.bins = images, labels, bins
        self.names = (("class",) if labels is not None else ()) + self.measures
        self._values: np.ndarray | None = None

    def measured(self) -> dict[str, np.ndarray]:
        """The raw measurements ``{name: [N]}`` (pixels; slant dimensionless)."""
        from ganzoo.data import to_unit_range
        from ganzoo_plugins.measures import slant, thickness, width

        out: dict[str, list[Tensor]] = {n: [] for n in self.measures}
        for chunk in self.images.split(2000):
            x = to_unit_range(chunk)  # [b, 1, H, W]
            for name, fn in zip(self.measures, (slant, width, thickness, height), strict=True):
                out[name].append(fn(x))
        return {n: torch.cat(v).double().numpy() for n, v in out.items()}

    def values(self) -> np.ndarray:
        if self._values is None:
            columns: Sequence[np.ndarray] = [
                quantile_bins(v, self.bins) for v in self.measured().values()
            ]
            if self.labels is not None:
                columns = [self.labels.numpy().astype(np.int64), *columns]
            self._values = np.stack(columns, axis=1)
        return self._values
