"""The per-dataset classifier: cache keyed by dataset and content, every message and report
naming the dataset; the metrics that read it (class consistency one to one, the sample
quality metrics with their floors); stroke measures left out on garments."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from conftest import REPO
from ganzoo.data import ImageData
from ganzoo.evaluation import EvalContext, Unavailable
from ganzoo.latent import LatentSpace
from ganzoo.step import TrainingStep
from ganzoo.system import GANSystem
from ganzoo_plugins.latent_codes.categorical import Categorical, CategoricalConfig
from ganzoo_plugins.latent_codes.continuous import Uniform, UniformConfig
from ganzoo_plugins.metrics import feature_classifier as fc
from ganzoo_plugins.metrics.class_consistency import ClassConsistency
from ganzoo_plugins.metrics.configs import ClassifierSettings
from ganzoo_plugins.metrics.continuous_factors import ContinuousFactors
from ganzoo_plugins.metrics.density_coverage import DensityCoverage
from ganzoo_plugins.metrics.frechet_distance import FrechetDistance
from ganzoo_plugins.metrics.precision_recall import PrecisionRecall

K = 4
SIZE = 8


def _synthetic(split: str, count: int = 96) -> ImageData:
    from ganzoo_plugins.datasets.synthetic import SyntheticConfig, generate

    images, labels = generate(SyntheticConfig(count=count, classes=K, size=16), split)
    return ImageData(images, labels)


def _fashion_mnist_root():
    root = REPO.parent / "shared" / "data"
    return root if (root / "FashionMNIST" / "raw").is_dir() else None


# -- cache and wording -----------------------------------------------------------------------------
def test_one_classifier_per_dataset_cached_by_name_and_content(monkeypatch, tmp_path):
    monkeypatch.setenv("GANZOO_CACHE_DIR", str(tmp_path))
    train, test = _synthetic("train"), _synthetic("test")
    settings = ClassifierSettings(epochs=1, batch_size=32)
    messages: list[str] = []
    _, digits = fc.load_or_train(train, test, settings, log=messages.append, dataset="mnist")
    _, garments = fc.load_or_train(train, test, settings, log=messages.append, dataset="fashion_mnist")
    assert digits["trained"] and garments["trained"]
    assert digits["cache"] != garments["cache"]  # same pixels, another dataset: its own model
    assert fc.Path(garments["cache"]).name.startswith("fashion_mnist-arch")
    assert fc.Path(garments["cache"]).parent == tmp_path / "classifier"
    assert garments["name"] == "fashion_mnist classifier" and garments["dataset"] == "fashion_mnist"
    assert 0.0 <= garments["test_accuracy"] <= 1.0
    garment_lines = [m for m in messages if "fashion_mnist" in m]
    assert garment_lines and all("fashion_mnist classifier" in m for m in garment_lines)
    assert not any("digit" in m for m in messages)
    again = fc.load_or_train(train, test, settings, dataset="fashion_mnist")[1]
    assert not again["trained"] and again["name"] == "fashion_mnist classifier"
    assert again["test_accuracy"] == garments["test_accuracy"]
    assert fc.classifier_report(again)["name"] == "fashion_mnist classifier"


def test_unlabelled_training_data_is_unavailable_naming_the_dataset():
    with pytest.raises(Unavailable, match="celeba training split has no labels.*celeba classifier"):
        fc.load_or_train(ImageData(torch.zeros(4, 1, 8, 8, dtype=torch.uint8), None), None, dataset="celeba")


# -- a constructed system: image brightness encodes the category ------------------------------------
def _latent() -> LatentSpace:
    return LatentSpace(
        [
            ("noise", Uniform(UniformConfig(dim=3)), False, 1.0),
            ("digit", Categorical(CategoricalConfig(categories=K)), True, 1.0),
            ("style", Uniform(UniformConfig(dim=1)), True, 0.1),
        ]
    )


def _level_images(k: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """Class k: a flat image at level 0.4 k - 0.6 (+ a little noise-driven texture)."""
    base = (0.4 * k.double() - 0.6).view(-1, 1, 1, 1)
    texture = 0.05 * noise[:, :1].double().view(-1, 1, 1, 1) * torch.linspace(-1, 1, SIZE).view(1, 1, 1, SIZE)
    return (base + texture).expand(-1, 1, SIZE, SIZE).float()


class LevelGenerator(nn.Module):
    def __init__(self, latent: LatentSpace, collapsed: bool = False):
        super().__init__()
        self.latent, self.collapsed = latent, collapsed
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        k = z[:, self.latent.entry("digit").columns].argmax(dim=1)
        if self.collapsed:  # every category draws class 2
            k = torch.full_like(k, 2)
        images = _level_images(k, z[:, self.latent.entry("noise").columns])
        return ((images + 1) * 127.5).round() / 127.5 - 1  # 8-bit levels, like the real images


class LevelClassifier(nn.Module):
    """Reads the level back: logits [B, K]; features: mean level and texture slope."""

    def __init__(self):
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(1))

    def features(self, images):
        level = images.mean(dim=(1, 2, 3))
        slope = (images[..., -1] - images[..., 0]).mean(dim=(1, 2))
        return torch.stack([level, slope], dim=1)

    def forward(self, images):
        k = ((images.mean(dim=(1, 2, 3)) + 0.6) / 0.4).round().clamp(0, K - 1).long()
        return 30.0 * F.one_hot(k, K).float()


class NoStep(TrainingStep):
    def build_networks(self, parts):
        raise NotImplementedError

    def parameters(self, role, networks):
        return []

    def run(self, ctx):
        raise NotImplementedError


def _real(count: int, seed: int, uint8: bool = True) -> ImageData:
    g = torch.Generator().manual_seed(seed)
    k = torch.arange(count) % K
    images = _level_images(k, torch.rand(count, 1, generator=g) * 2 - 1)
    u8 = ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return ImageData(u8, k)


def _ctx(collapsed: bool = False, dataset: str = "mnist", samples: int = 400) -> EvalContext:
    latent = _latent()
    system = GANSystem({"generator": LevelGenerator(latent, collapsed)}, latent, NoStep(), (1, SIZE, SIZE))
    recipe = SimpleNamespace(data=SimpleNamespace(type=dataset))
    ctx = EvalContext(
        system, samples=samples, recipe=recipe, test_data=_real(800, 1), train_data=_real(1200, 2)
    )
    name = fc.classifier_name(dataset)
    ctx.cache["classifier"] = (LevelClassifier(), {"name": name, "dataset": dataset, "classes": K})
    return ctx


def test_class_consistency_is_one_only_for_one_class_per_value():
    digit = ClassConsistency().compute(_ctx())["codes"]["digit"]
    assert digit["class_consistency"] == pytest.approx(1.0)
    assert digit["generated_accuracy"] == pytest.approx(1.0)
    assert digit["distinct_classes"] == K


def test_class_consistency_of_a_code_that_draws_the_same_class_everywhere():
    digit = ClassConsistency().compute(_ctx(collapsed=True))["codes"]["digit"]
    # each value is pure (all its images are class 2), but only one value can own class 2
    assert digit["purity"] == pytest.approx(1.0)
    assert digit["distinct_classes"] == 1
    assert digit["class_consistency"] == pytest.approx(1 / K, abs=0.05)
    assert digit["generated_accuracy"] == pytest.approx(1 / K, abs=0.05)
    matched = [v["matched_share"] for v in digit["per_value"].values()]
    assert sorted(matched)[-1] == pytest.approx(1.0) and sum(matched) == pytest.approx(1.0)


@pytest.mark.parametrize("metric", [FrechetDistance, PrecisionRecall, DensityCoverage])
def test_sample_quality_metrics_report_their_floor_and_name_the_classifier(metric):
    good, bad = metric().compute(_ctx()), metric().compute(_ctx(collapsed=True))
    keys = {FrechetDistance: ["frechet_distance"], PrecisionRecall: ["precision", "recall"],
            DensityCoverage: ["density", "coverage"]}[metric]
    for key in keys:
        assert isinstance(good["floor"][key], float) and good["floor"][key] == bad["floor"][key]
    assert good["classifier"]["name"] == "mnist classifier"
    summary = metric().summarize(good)
    assert {where for _, where in summary.values()} == {"mnist classifier features"}
    if metric is FrechetDistance:  # a collapsed generator is far from the data, a good one near its floor
        assert bad["frechet_distance"] > 10 * good["frechet_distance"]
        assert good["frechet_distance"] < good["floor"]["frechet_distance"] + 0.05
    elif metric is PrecisionRecall:
        assert bad["recall"] < 0.5 < 0.9 < good["recall"]
    else:
        assert bad["coverage"] < 0.5 < 0.9 < good["coverage"]


def test_floor_is_left_out_without_a_training_split_not_the_metric():
    ctx = _ctx()
    ctx.train_data_ = None  # and no recipe with a loader: the training split is not at hand
    ctx.recipe = None
    said: list[str] = []
    ctx.log = said.append
    out = FrechetDistance().compute(ctx)
    assert isinstance(out["frechet_distance"], float) and "floor" not in out
    assert any("no floor" in m for m in said)


def test_stroke_measures_are_left_out_on_garments_with_the_reason():
    with pytest.raises(Unavailable, match="pen strokes; dataset 'fashion_mnist'"):
        ContinuousFactors().compute(_ctx(dataset="fashion_mnist"))
    out = ContinuousFactors().compute(_ctx(dataset="mnist", samples=36))
    assert set(out["codes"]["style"]["best"]) == {"slant", "width", "thickness"}


@pytest.mark.slow
@pytest.mark.skipif(_fashion_mnist_root() is None, reason="real Fashion-MNIST not in ../shared/data/FashionMNIST/raw")
def test_fashion_mnist_gets_its_own_classifier(monkeypatch, tmp_path):
    from ganzoo_plugins.datasets.fashion_mnist import FashionMnistConfig, build

    monkeypatch.setenv("GANZOO_CACHE_DIR", str(tmp_path))
    root = _fashion_mnist_root()
    train = build(FashionMnistConfig(), root=root, split="train", download=False)
    test = build(FashionMnistConfig(), root=root, split="test", download=False)
    _, info = fc.load_or_train(train, test, dataset="fashion_mnist")
    assert info["name"] == "fashion_mnist classifier" and info["test_accuracy"] >= 0.85
