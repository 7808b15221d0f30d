"""What each continuous code dimension controls, read from the images it generates.

For every sweep of every continuous regularised code (the code's own ``traversals()``: each
dimension of a uniform code, the angle of a von Mises code as one sweep of its cos and sin
columns): draw ``base_draws`` latents, and for each sweep the code over ``steps`` values in
[low, high] with everything else (noise, other codes, the columns the sweep keeps) fixed. The slant, width and thickness of
the generated images (``ganzoo_plugins.measures``; colour images are read in grey) are correlated
with the swept value:

* ``factors``: mean over draws of Spearman ρ along one sweep, everything else fixed — what the
  code *controls* (the reported number, and the one ``best`` ranks);
* ``factors_pooled``: ρ over all draws x steps pooled, which also mixes in how much the
  property varies between draws (digits differ in slant regardless of the code).

``best`` names, per property, the dimension with the largest |ρ| (one dimension may be
best for several properties; the report's summary matches properties to *distinct*
dimensions, ``ganzoo.evaluation.assign_shape_properties``).

Only on datasets of pen strokes (``stroke_datasets``: MNIST and the synthetic test data by
default): on Fashion-MNIST the metric is unavailable, with that reason, so slant and width
are not headline numbers for garments.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import torch
from torch import Tensor

from ganzoo.evaluation import EvalContext, Metric, Unavailable, continuous_codes
from ganzoo.latent import traversal_latents
from ganzoo_plugins.measures import correlation_table, slant, thickness, width
from ganzoo_plugins.metrics.configs import ContinuousFactorsConfig

PROPERTIES = {"slant": slant, "width": width, "thickness": thickness}


def within_sweep_rho(values: Tensor) -> float:
    """Mean Spearman ρ of ``values [R, S]`` with the sweep order 0..S-1, row by row
    (rows without variation count as 0). Ties are broken by position."""
    rows, steps = values.shape
    ranks = values.argsort(dim=1).argsort(dim=1).double()  # [R, S]
    order = torch.arange(steps, dtype=torch.float64, device=values.device)  # [S]
    constant = values.double().std(dim=1) <= 1e-9  # [R]
    a = ranks - ranks.mean(dim=1, keepdim=True)
    b = order - order.mean()
    rho = (a * b).sum(dim=1) / torch.sqrt((a * a).sum(dim=1) * (b * b).sum()).clamp_min(1e-12)
    return float(torch.where(constant, torch.zeros_like(rho), rho).mean())


class ContinuousFactors(Metric):
    def __init__(self, config: ContinuousFactorsConfig = ContinuousFactorsConfig()):
        self.config = config

    def compute(self, ctx: EvalContext) -> dict[str, Any]:
        codes = continuous_codes(ctx.system)
        if not codes:
            raise Unavailable("no regularised continuous code")
        cfg = self.config
        # slant, width and thickness are pen-stroke geometry: headline numbers for digits,
        # noise for garments or photos (data given directly, as in tests, is the caller's call)
        if ctx.recipe is not None and ctx.dataset_name not in cfg.stroke_datasets:
            raise Unavailable(
                f"slant, width and thickness describe pen strokes; dataset '{ctx.dataset_name}' "
                f"is not one of the stroke datasets ({', '.join(cfg.stroke_datasets)}: the "
                "metric's stroke_datasets)"
            )
        steps = cfg.steps
        draws = cfg.base_draws or max(2, math.ceil(ctx.samples / steps))
        base = ctx.system.latent.sample(draws, ctx.rng("continuous_factors"), ctx.device)  # [R, D]
        position = torch.arange(steps, dtype=torch.float32).repeat(draws)  # [R*S] order along a sweep
        out: dict[str, Any] = {}
        for e in codes:
            pooled: dict[str, list[float]] = {p: [] for p in PROPERTIES}
            within: dict[str, list[float]] = {p: [] for p in PROPERTIES}
            # the code's own sweeps: one per dimension of a uniform code, one angle (cos and
            # sin together) of a von Mises code; columns a sweep keeps still hold each draw's value
            sweeps = e.code.traversals(steps, (cfg.low, cfg.high))
            for _, values in sweeps:
                values = values.to(ctx.device)  # [S, width]
                z = traversal_latents(base, e.columns, values)  # [R, S, D]
                columns = torch.arange(e.columns.start, e.columns.stop, device=ctx.device)
                held = columns[~(values != values[:1]).any(dim=0)]
                z[:, :, held] = base[:, held].unsqueeze(1)
                images = ctx.generate(z.reshape(draws * steps, -1))  # [R*S, C, H, W]
                grey = images.mean(dim=1, keepdim=True) if images.shape[1] != 1 else images
                measured = {name: fn(grey).cpu() for name, fn in PROPERTIES.items()}  # each [R*S]
                table = correlation_table(position, measured)
                for name in PROPERTIES:
                    pooled[name].append(table[name][0])
                    within[name].append(within_sweep_rho(measured[name].view(draws, steps)))
            best = {}
            for name, rhos in within.items():
                dim = max(range(len(rhos)), key=lambda i: abs(rhos[i]))
                best[name] = {"dim": dim, "rho": rhos[dim], "abs_rho": abs(rhos[dim])}
            out[e.name] = {
                "dims": len(sweeps),  # sweeps, each reported as one "dim"
                "sweep_labels": [label for label, _ in sweeps],
                "factors": within,
                "factors_pooled": pooled,
                "best": best,
                "sweep": {"low": cfg.low, "high": cfg.high, "steps": steps, "base_draws": draws},
            }
        return {"codes": out}

    def summarize(self, report: dict[str, Any]) -> dict[str, tuple[Any, str]]:
        return {
            f"{prop}_abs_rho": value
            for prop, value in assign_shape_properties(report.get("codes", {})).items()
        }


SHAPE_PROPERTIES = ("slant", "width", "thickness")


def assign_shape_properties(codes: dict[str, Any]) -> dict[str, tuple[float, str]]:
    """Each shape property matched to its *own* continuous code dimension: ``{PROPERTY:
    (|rho|, "code[dim]")}``.

    The paper's claim is that one code drives slant and *another* width, so one dimension
    must not count for both (a dimension that mostly changes slant often also changes
    width a little, monotonically, and Spearman's ρ only sees the order). Slant and width
    are matched first, jointly, to the pair of distinct dimensions with the largest
    |ρ_slant| + |ρ_width| (the Hungarian criterion, by enumeration: the dimensions are
    few); thickness then takes the best dimension left, if any. A single dimension goes
    to slant or width, whichever it drives more.
    """
    dims = [
        (f"{name}[{d}]", {p: abs(c["factors"][p][d]) for p in SHAPE_PROPERTIES if p in c["factors"]})
        for name, c in codes.items()
        if isinstance(c.get("factors"), dict)
        for d in range(len(next(iter(c["factors"].values()), [])))
    ]
    claimed = [p for p in ("slant", "width") if any(p in rhos for _, rhos in dims)]
    # every way to give each claimed property its own dimension or none (None pads the
    # choices so that with one dimension only one property gets it)
    choices = [*range(len(dims)), *[None] * len(claimed)]
    best = max(
        itertools.permutations(choices, len(claimed)),
        key=lambda pick: sum(dims[i][1].get(p, 0.0) for p, i in zip(claimed, pick, strict=True) if i is not None),
    )
    assigned = {
        p: (dims[i][1][p], dims[i][0])
        for p, i in zip(claimed, best, strict=True)
        if i is not None and p in dims[i][1]
    }
    used = {where for _, where in assigned.values()}
    for prop in SHAPE_PROPERTIES:
        if prop in assigned:
            continue
        left = [(rhos[prop], where) for where, rhos in dims if where not in used and prop in rhos]
        if left:
            assigned[prop] = max(left)
            used.add(assigned[prop][1])
    return {p: assigned[p] for p in SHAPE_PROPERTIES if p in assigned}
