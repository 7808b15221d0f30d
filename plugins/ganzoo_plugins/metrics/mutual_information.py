"""Variational lower bound of I(c; G(z, c)) per regularised code, on fresh samples.

Categorical codes: ln K − cross-entropy of Q's logits; continuous codes: differential
entropy − Gaussian NLL. The entropy, the bound's ceiling for discrete codes, is reported
beside it, and how often (categorical) or how well (continuous, Spearman ρ per dimension)
Q recovers the code from the image.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from ganzoo.evaluation import EvalContext, Metric, Unavailable, first_categorical
from ganzoo_plugins.measures import spearman
from ganzoo_plugins.metrics.configs import MutualInformationConfig


def code_information(system: Any, z: Tensor, posterior: Tensor) -> dict[str, dict[str, float | None]]:
    """Per regularised code: ``nll`` (mean −log Q(c|x)), ``entropy`` H(c) and the variational
    lower bound ``mi_lower_bound`` = H(c) − NLL (None where H(c) is undefined)."""
    out: dict[str, dict[str, float | None]] = {}
    for e in system.latent.regularized:
        nll = float(-e.code.log_likelihood(z[:, e.columns], posterior[:, e.posterior]).mean())
        h = e.code.entropy()
        out[e.name] = {
            "nll": nll,
            "entropy": None if h is None else float(h),
            "mi_lower_bound": None if h is None else float(h) - nll,
        }
    return out


class MutualInformation(Metric):
    def __init__(self, config: MutualInformationConfig = MutualInformationConfig()):
        self.config = config

    def compute(self, ctx: EvalContext) -> dict[str, Any]:
        if not ctx.system.latent.regularized:
            raise Unavailable("no regularised code")
        z, images = ctx.generated()
        posterior = ctx.posteriors(images)  # [N, P]
        out: dict[str, Any] = {}
        bounds = code_information(ctx.system, z, posterior)
        for e in ctx.system.latent.regularized:
            result: dict[str, Any] = dict(bounds[e.name])
            code = z[:, e.columns]
            estimate = e.code.point_estimate(posterior[:, e.posterior])
            if e.code.categories is not None:
                hits = (estimate.argmax(dim=1) == code.argmax(dim=1)).float().mean()
                result["q_accuracy"] = float(hits)
            else:
                result["q_rho"] = [
                    spearman(code[:, d].cpu(), estimate[:, d].cpu()) for d in range(code.shape[1])
                ]
            out[e.name] = result
        return {"codes": out}

    def summarize(self, report: dict[str, Any]) -> dict[str, tuple[Any, str]]:
        """The first categorical code's bound, else the first code that has one."""
        codes = report.get("codes", {})
        first = first_categorical(codes)
        names = ([first] if first else []) + [n for n in codes if n != first]
        for name in names:
            if codes[name].get("mi_lower_bound") is not None:
                return {key: (codes[name].get(key), name) for key in ("mi_lower_bound", "entropy")}
        return {}
