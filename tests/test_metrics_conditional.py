"""Conditional families: accuracy on images drawn for requested labels and the intra-class
Fréchet distance, on a constructed system with known answers and through ``ganzoo eval``
on a tiny conditional run."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import torch
from click.testing import CliRunner
from test_metrics_classifier import K, LevelClassifier, NoStep, _level_images, _real
from torch import nn

from conftest import RECIPES
from ganzoo.cli import main
from ganzoo.evaluation import EvalContext, Unavailable
from ganzoo.latent import LatentSpace
from ganzoo.system import GANSystem
from ganzoo_plugins.latent_codes.continuous import Uniform, UniformConfig
from ganzoo_plugins.metrics import feature_classifier as fc
from ganzoo_plugins.metrics.conditional_accuracy import ConditionalAccuracy
from ganzoo_plugins.metrics.conditional_samples import is_conditional
from ganzoo_plugins.metrics.frechet_distance import FrechetDistance
from ganzoo_plugins.metrics.intra_class_frechet import IntraClassFrechet

CGAN = RECIPES / "smoke" / "cgan_synthetic.toml"


class LabelGenerator(nn.Module):
    """Draws class ``(label + shift) mod K``: shift 0 obeys, shift 1 draws real-looking
    images of the wrong class."""

    def __init__(self, shift: int):
        super().__init__()
        self.shift = shift
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if labels is None:
            labels = torch.arange(len(z)) % K
        images = _level_images((labels + self.shift) % K, z)
        return ((images + 1) * 127.5).round() / 127.5 - 1


class ConditionalStep(NoStep):
    uses_labels = True


def _ctx(shift: int, conditional: bool = True) -> EvalContext:
    latent = LatentSpace([("noise", Uniform(UniformConfig(dim=2)), False, 1.0)])
    step = ConditionalStep() if conditional else NoStep()
    system = GANSystem({"generator": LabelGenerator(shift)}, latent, step, (1, 8, 8), num_classes=K)
    recipe = SimpleNamespace(data=SimpleNamespace(type="mnist"))
    ctx = EvalContext(system, samples=400, recipe=recipe, test_data=_real(800, 1), train_data=_real(1600, 2))
    info = {"name": fc.classifier_name("mnist"), "classes": K, "test_accuracy": 0.99}
    ctx.cache["classifier"] = (LevelClassifier(), info)
    return ctx


def test_a_generator_that_draws_what_it_is_asked_for():
    out = ConditionalAccuracy().compute(_ctx(shift=0))
    assert out["conditional_accuracy"] == 1.0
    assert out["conditional"]["per_class"] == {str(c): 1.0 for c in range(K)}
    assert out["conditional"]["images_per_class"] == 100
    assert out["floor"] == {"conditional_accuracy": 0.99}
    assert out["conditional"]["relative_to_classifier"] == pytest.approx(1 / 0.99)
    intra = IntraClassFrechet().compute(_ctx(shift=0))
    per_class = intra["intra_class"]["per_class"]
    assert set(per_class) == {str(c) for c in range(K)}
    assert intra["intra_class_frechet"] == pytest.approx(
        sum(c["frechet_distance"] for c in per_class.values()) / K
    )
    assert intra["intra_class_frechet"] < 0.01 and intra["floor"]["intra_class_frechet"] < 0.01


def test_good_images_of_the_wrong_class():
    ctx = _ctx(shift=1)
    accuracy = ConditionalAccuracy().compute(ctx)
    assert accuracy["conditional_accuracy"] == 0.0
    confusion = torch.tensor(accuracy["conditional"]["confusion"])
    assert all(confusion[c, (c + 1) % K] == 100 for c in range(K))
    intra = IntraClassFrechet().compute(ctx)["intra_class_frechet"]
    overall = FrechetDistance().compute(ctx)["frechet_distance"]
    assert overall < 0.01 < 0.1 < intra  # the overall distribution is right; each class is not


def test_unconditional_systems_are_skipped_with_a_reason():
    ctx = _ctx(shift=0, conditional=False)
    assert not is_conditional(ctx.system)  # num_classes alone (the dataset's) is not enough
    for metric in (ConditionalAccuracy(), IntraClassFrechet()):
        with pytest.raises(Unavailable, match="unconditional system"):
            metric.compute(ctx)


def test_eval_json_of_a_tiny_conditional_run(tmp_path, monkeypatch):
    monkeypatch.setenv("GANZOO_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "run"
    runner = CliRunner()
    result = runner.invoke(main, ["run", str(CGAN), "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["eval", str(out), "--json", "--samples", "64"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["metrics"]["conditional_accuracy"]["status"] == "ok", report["metrics"]
    assert report["metrics"]["intra_class_frechet"]["status"] == "ok", report["metrics"]
    summary, floor = report["summary"], report["floor"]
    assert 0.0 <= summary["conditional_accuracy"] <= 1.0
    assert summary["intra_class_frechet"] >= 0.0
    assert set(report["intra_class"]["per_class"]) == {"0", "1", "2", "3"}
    assert all(c["samples"] == 16 for c in report["intra_class"]["per_class"].values())
    assert floor["conditional_accuracy"] == report["classifier"]["test_accuracy"]
    for key in ("intra_class_frechet", "frechet_distance", "precision", "recall", "density", "coverage"):
        assert isinstance(floor[key], float), key
    assert report["summary_source"]["conditional_accuracy"] == "synthetic classifier"
    # no categorical code: those metrics are left out of the summary, each saying why
    assert "no regularised categorical code" in report["summary_omitted"]["accuracy"]

    text = runner.invoke(main, ["eval", str(out), "--samples", "64"], catch_exceptions=False)
    assert text.exit_code == 0, text.output
    assert "floor (real)" in text.stdout and "conditional_accuracy" in text.stdout
    assert "left out accuracy, nmi: categorical_accuracy: no regularised categorical code" in " ".join(
        text.stdout.split()
    )
    assert "synthetic classifier: test accuracy" in text.stdout
