"""What each continuous code dimension controls, read from the images it generates.

For every dimension of every continuous regularised code: draw ``base_draws`` latents, and
for each sweep the dimension over ``steps`` values in [low, high] with everything else
(noise, other codes, the code's other dimensions) fixed. The slant, width and thickness of
the generated images (``ganzoo.measures``; colour images are read in grey) are correlated
with the swept value:

* ``factors``: mean over draws of Spearman ρ along one sweep, everything else fixed — what the
  code *controls* (the reported number, and the one ``best`` ranks);
* ``factors_pooled``: ρ over all draws x steps pooled, which also mixes in how much the
  property varies between draws (digits differ in slant regardless of the code).

``best`` names, per property, the dimension with the largest |ρ| (one dimension may be
best for several properties; the report's summary matches properties to *distinct*
dimensions, ``ganzoo.evaluation.assign_shape_properties``).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from ganzoo.evaluation import EvalContext, Metric, Unavailable, continuous_codes
from ganzoo.measures import correlation_table, slant, thickness, width
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
        steps = cfg.steps
        draws = cfg.base_draws or max(2, math.ceil(ctx.samples / steps))
        sweep = torch.linspace(cfg.low, cfg.high, steps, device=ctx.device)  # [S]
        base = ctx.system.latent.sample(draws, ctx.rng("continuous_factors"), ctx.device)  # [R, D]
        out: dict[str, Any] = {}
        for e in codes:
            pooled: dict[str, list[float]] = {p: [] for p in PROPERTIES}
            within: dict[str, list[float]] = {p: [] for p in PROPERTIES}
            for d in range(e.code.width):
                column = e.columns.start + d
                z = base.unsqueeze(1).repeat(1, steps, 1)  # [R, S, D]
                z[:, :, column] = sweep
                images = ctx.generate(z.reshape(draws * steps, -1))  # [R*S, C, H, W]
                grey = images.mean(dim=1, keepdim=True) if images.shape[1] != 1 else images
                measured = {name: fn(grey).cpu() for name, fn in PROPERTIES.items()}  # each [R*S]
                values = z[:, :, column].reshape(-1).cpu()
                table = correlation_table(values, measured)
                for name in PROPERTIES:
                    pooled[name].append(table[name][0])
                    within[name].append(within_sweep_rho(measured[name].view(draws, steps)))
            best = {}
            for name, rhos in within.items():
                dim = max(range(len(rhos)), key=lambda i: abs(rhos[i]))
                best[name] = {"dim": dim, "rho": rhos[dim], "abs_rho": abs(rhos[dim])}
            out[e.name] = {
                "factors": within,
                "factors_pooled": pooled,
                "best": best,
                "sweep": {"low": cfg.low, "high": cfg.high, "steps": steps, "base_draws": draws},
            }
        return {"codes": out}
