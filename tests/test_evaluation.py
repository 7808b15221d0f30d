"""Evaluation: metrics on constructed systems with known answers, the digit classifier's
cache, ``ganzoo eval`` on a tiny synthetic run, and in-training evaluation."""

from __future__ import annotations

import json
import math
import os

import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch import nn

from conftest import SMOKE_RECIPE, requires_mnist
from ganzoo.cli import main
from ganzoo.data import ImageData
from ganzoo.evaluation import EvalContext, Unavailable, evaluate, load_run, summary_keys
from ganzoo.latent import LatentSpace
from ganzoo.plugins import load_plugins
from ganzoo.step import TrainingStep
from ganzoo.system import GANSystem
from ganzoo_plugins.infogan.quick_eval import quick_evaluate
from ganzoo_plugins.latent_codes.categorical import Categorical, CategoricalConfig
from ganzoo_plugins.latent_codes.continuous import Uniform, UniformConfig
from ganzoo_plugins.metrics import feature_classifier as dc
from ganzoo_plugins.metrics.categorical_accuracy import CategoricalAccuracy
from ganzoo_plugins.metrics.class_consistency import ClassConsistency
from ganzoo_plugins.metrics.configs import ClassifierSettings, ContinuousFactorsConfig
from ganzoo_plugins.metrics.continuous_factors import ContinuousFactors, assign_shape_properties
from ganzoo_plugins.metrics.frechet_distance import FrechetDistance
from ganzoo_plugins.metrics.mutual_information import MutualInformation

K = 4
SIZE = 28


# -- a constructed system with known answers ------------------------------------------------
# The generator draws a vertical bar whose slant is 0.3 x the continuous code and whose ink
# level encodes the categorical code; the oracle Q reads both back from the image.
def _latent() -> LatentSpace:
    return LatentSpace(
        [
            ("noise", Uniform(UniformConfig(dim=2)), False, 1.0),
            ("digit", Categorical(CategoricalConfig(categories=K)), True, 1.0),
            ("style", Uniform(UniformConfig(dim=1)), True, 0.1),
        ]
    )


def _level(k: torch.Tensor) -> torch.Tensor:
    return 0.4 + 0.2 * k.float()  # ink level of category k


def _bar_images(noise: torch.Tensor, k: torch.Tensor, slant: torch.Tensor) -> torch.Tensor:
    ys = torch.arange(SIZE, dtype=torch.float32).view(1, SIZE, 1)
    xs = torch.arange(SIZE, dtype=torch.float32).view(1, 1, SIZE)
    centre_x = (13.5 + 2.0 * noise[:, 0]).view(-1, 1, 1)
    centre = centre_x + slant.view(-1, 1, 1) * (13.5 - ys)  # x of the bar in each row
    rows = ((ys >= 6) & (ys <= 21)).float()
    ink = (1.5 - (xs - centre).abs()).clamp(0, 1) * rows  # [B, H, W]
    return (2 * _level(k).view(-1, 1, 1) * ink - 1).unsqueeze(1)  # [B, 1, H, W] in [-1, 1]


class BarGenerator(nn.Module):
    def __init__(self, latent: LatentSpace):
        super().__init__()
        self.latent = latent
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        e = self.latent.entry
        k = z[:, e("digit").columns].argmax(dim=1)
        return _bar_images(z[:, e("noise").columns], k, 0.3 * z[:, e("style").columns][:, 0])


def _read_category(images: torch.Tensor) -> torch.Tensor:
    ink = ((images + 1) / 2).amax(dim=(1, 2, 3))
    return ((ink - 0.4) / 0.2).round().clamp(0, K - 1).long()


class OracleQ(nn.Module):
    """Reads both codes back from a bar image: [B, 1, H, W] -> [B, K + 1] posterior."""

    def __init__(self):
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, images):
        from ganzoo_plugins.measures import slant

        category = 30.0 * F.one_hot(_read_category(images), K).float()
        style = (slant(images) / 0.3).unsqueeze(1)
        return torch.cat([category, style], dim=1)


class OracleStep(TrainingStep):
    """Only what evaluation asks of a step: the codes it infers from an image."""

    def build_networks(self, parts):
        raise NotImplementedError

    def parameters(self, role, networks):
        return []

    def run(self, ctx):
        raise NotImplementedError

    def posterior(self, networks, images):
        return networks["q"](images)


class OracleClassifier(nn.Module):
    """Labels a bar image with class (category + 1) mod K, like the test split below."""

    def __init__(self):
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(1))

    def features(self, images):
        from ganzoo_plugins.measures import slant

        ink = ((images + 1) / 2).amax(dim=(1, 2, 3))
        centre = ((images + 1) / 2).mean(dim=(1, 2))
        return torch.cat([ink.unsqueeze(1), slant(images).unsqueeze(1), centre], dim=1)

    def forward(self, images):
        return 30.0 * F.one_hot((_read_category(images) + 1) % K, K).float()


def _system() -> GANSystem:
    latent = _latent()
    networks = {"generator": BarGenerator(latent), "q": OracleQ()}
    return GANSystem(networks, latent, OracleStep(), (1, SIZE, SIZE))


def _test_split(system: GANSystem, n: int = 400, seed: int = 1) -> ImageData:
    """Real images from the same process; class = (category + 1) mod K."""
    z = system.latent.sample(n, torch.Generator().manual_seed(seed), torch.device("cpu"))
    k = z[:, system.latent.entry("digit").columns].argmax(dim=1)
    images = system.generator(z)
    u8 = ((images + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)
    return ImageData(u8, (k + 1) % K)


def _context(tmp_path, **kwargs) -> EvalContext:
    system = _system()
    kwargs.setdefault("test_data", _test_split(system))
    return EvalContext(system=system, samples=400, out_dir=tmp_path / "eval", **kwargs)


# -- metrics on known answers ----------------------------------------------------------------
def test_oracle_q_gives_perfect_accuracy_and_a_confusion_png(tmp_path):
    ctx = _context(tmp_path)
    result = CategoricalAccuracy().compute(ctx)["codes"]["digit"]
    assert result["accuracy"] == pytest.approx(1.0)
    assert result["nmi"] == pytest.approx(1.0)
    assert result["mapping"] == {str(k): (k + 1) % K for k in range(K)}
    assert (tmp_path / "eval" / "confusion_digit.png").stat().st_size > 0
    assert sum(map(sum, result["confusion"])) == 400


def test_oracle_q_gives_mi_bound_near_ln_k(tmp_path):
    codes = MutualInformation().compute(_context(tmp_path))["codes"]
    assert codes["digit"]["entropy"] == pytest.approx(math.log(K))
    assert codes["digit"]["mi_lower_bound"] == pytest.approx(math.log(K), abs=1e-3)
    assert codes["digit"]["q_accuracy"] == 1.0
    assert codes["style"]["q_rho"][0] > 0.99  # Q's mean recovers the continuous code
    assert codes["style"]["entropy"] == pytest.approx(math.log(2))


def test_bar_slant_code_gives_rho_near_one_with_slant(tmp_path):
    metric = ContinuousFactors(ContinuousFactorsConfig(steps=7, base_draws=40))
    style = metric.compute(_context(tmp_path))["codes"]["style"]
    assert style["factors"]["slant"][0] > 0.99
    assert style["factors_pooled"]["slant"][0] > 0.99
    assert style["best"]["slant"] == {"dim": 0, "rho": pytest.approx(style["factors"]["slant"][0]),
                                      "abs_rho": pytest.approx(abs(style["factors"]["slant"][0]))}
    assert style["sweep"] == {"low": -2.0, "high": 2.0, "steps": 7, "base_draws": 40}


def test_class_consistency_with_an_oracle_classifier(tmp_path):
    ctx = _context(tmp_path)
    ctx.cache["classifier"] = (OracleClassifier(), {"test_accuracy": 1.0})
    digit = ClassConsistency().compute(ctx)["codes"]["digit"]
    assert digit["class_consistency"] == pytest.approx(1.0)
    assert digit["generated_accuracy"] == pytest.approx(1.0)
    for k in range(K):
        assert digit["per_value"][str(k)]["majority_class"] == (k + 1) % K
        assert digit["per_value"][str(k)]["matched_class"] == (k + 1) % K


def test_frechet_distance_small_for_the_same_process_large_for_another(tmp_path):
    ctx = _context(tmp_path)
    ctx.cache["classifier"] = (OracleClassifier(), {})
    same = FrechetDistance().compute(ctx)["frechet_distance"]
    other = _context(tmp_path)
    other.cache["classifier"] = (OracleClassifier(), {})
    real = other.test_data.images
    other.test_data_ = ImageData((real.float() * 0.5).to(torch.uint8), other.test_data.labels)  # dimmer ink
    different = FrechetDistance().compute(other)["frechet_distance"]
    assert same < 0.05 * different


def test_quick_evaluate_on_the_oracle_restores_modes_and_rng(tmp_path):
    system = _system()
    data = _test_split(system)
    system.generator.train()
    system.networks["q"].train()
    before = torch.get_rng_state()
    scalars = quick_evaluate(system, data.images, data.labels, torch.device("cpu"), 256,
                             torch.Generator().manual_seed(0))
    assert torch.equal(torch.get_rng_state(), before)
    assert system.generator.training and system.networks["q"].training
    assert scalars["accuracy/digit"] == pytest.approx(1.0)
    assert scalars["mi_lower_bound/digit"] == pytest.approx(math.log(K), abs=1e-3)
    assert "mi_lower_bound/style" in scalars
    unlabelled = quick_evaluate(system, data.images, None, torch.device("cpu"), 64,
                                torch.Generator().manual_seed(0))
    assert set(unlabelled) == {"mi_lower_bound/digit", "mi_lower_bound/style"}


def test_metrics_needing_labels_are_unavailable_without_them(tmp_path):
    system = _system()
    data = _test_split(system)
    ctx = _context(tmp_path, test_data=ImageData(data.images), train_data=ImageData(data.images))
    with pytest.raises(Unavailable, match="no labels"):
        CategoricalAccuracy().compute(ctx)
    with pytest.raises(Unavailable, match="no labels"):
        ClassConsistency().compute(ctx)
    with pytest.raises(Unavailable, match="no labels"):
        FrechetDistance().compute(ctx)


# -- the dataset classifier --------------------------------------------------------------------
def _synthetic(split: str, count: int = 128) -> ImageData:
    from ganzoo_plugins.datasets.synthetic import SyntheticConfig, generate

    images, labels = generate(SyntheticConfig(count=count, classes=4, size=16), split)
    return ImageData(images, labels)


def test_classifier_cache_dir_precedence(monkeypatch, tmp_path):
    monkeypatch.delenv("GANZOO_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert dc.cache_dir() == tmp_path / "xdg" / "ganzoo"
    monkeypatch.setenv("GANZOO_CACHE_DIR", str(tmp_path / "mine"))
    assert dc.cache_dir() == tmp_path / "mine"
    monkeypatch.delenv("GANZOO_CACHE_DIR")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert dc.cache_dir() == dc.Path.home() / ".cache" / "ganzoo"


def test_classifier_is_trained_once_then_loaded_from_the_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("GANZOO_CACHE_DIR", str(tmp_path))
    train, test = _synthetic("train"), _synthetic("test")
    settings = ClassifierSettings(epochs=2, batch_size=32)
    trained_before = dc.trainings
    model, info = dc.load_or_train(train, test, settings)
    assert info["trained"] and dc.trainings == trained_before + 1
    path = dc.Path(info["cache"])
    assert path.parent.parent == tmp_path and dc.ARCH_VERSION == 1
    assert dc.fingerprint(train.images, train.labels, settings)[:24] in path.name
    payload = torch.load(path, weights_only=True)  # plain data only
    assert payload["classes"] == 4 and 0.0 <= payload["test_accuracy"] <= 1.0
    mtime = os.stat(path).st_mtime_ns

    again, info2 = dc.load_or_train(train, test, settings)
    assert not info2["trained"] and dc.trainings == trained_before + 1
    assert os.stat(path).st_mtime_ns == mtime
    assert info2["test_accuracy"] == info["test_accuracy"]
    x = torch.rand(5, 1, 16, 16) * 2 - 1
    assert torch.allclose(model(x), again(x), atol=1e-6)
    assert dc.run_batched(again, test.images, "features").shape == (len(test), dc.FEATURES)

    # other training data: another file
    _, info3 = dc.load_or_train(_synthetic("train", 64), None, settings)
    assert info3["trained"] and info3["cache"] != info["cache"]


def test_classifier_training_is_deterministic_and_leaves_global_rng_alone():
    train = _synthetic("train", 64)
    settings = ClassifierSettings(epochs=1, batch_size=32)
    state = torch.get_rng_state()
    a = dc.train_classifier(train.images, train.labels, 4, settings)
    assert torch.equal(torch.get_rng_state(), state)
    b = dc.train_classifier(train.images, train.labels, 4, settings)
    for (name, p), q in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(p, q), name


@requires_mnist
@pytest.mark.slow
def test_classifier_reaches_98_percent_on_mnist(monkeypatch, tmp_path):
    from conftest import mnist_root
    from ganzoo_plugins.datasets.mnist import MnistConfig, build

    monkeypatch.setenv("GANZOO_CACHE_DIR", str(tmp_path))
    train = build(MnistConfig(), root=mnist_root(), split="train", download=False)
    test = build(MnistConfig(), root=mnist_root(), split="test", download=False)
    _, info = dc.load_or_train(train, test)
    assert info["test_accuracy"] >= 0.98


# -- ganzoo eval on a tiny run, and in-training evaluation -----------------------------------------
@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("eval") / "run"
    result = CliRunner().invoke(
        main,
        ["run", str(SMOKE_RECIPE), "--out", str(out), "--set", "train.eval_every=3",
         "--set", "train.eval_samples=64", "--set", "train.sample_every=0"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return out


def test_in_training_evaluation_logs_eval_scalars(tiny_run):
    acc = EventAccumulator(str(tiny_run), size_guidance={"scalars": 0})
    acc.Reload()
    for tag in ("eval/mi_lower_bound/digit", "eval/mi_lower_bound/style", "eval/accuracy/digit"):
        assert [e.step for e in acc.Scalars(tag)] == [3, 6], tag
    assert all(e.value <= math.log(K) + 1e-4 for e in acc.Scalars("eval/mi_lower_bound/digit"))
    assert all(0.0 <= e.value <= 1.0 for e in acc.Scalars("eval/accuracy/digit"))


def test_in_training_evaluation_uses_no_training_randomness(tmp_path, registry):
    from ganzoo.recipe import read_toml, resolve
    from ganzoo.training import Trainer

    recipe = resolve(read_toml(SMOKE_RECIPE), registry)
    trainer = Trainer(recipe, registry, tmp_path, torch.device("cpu"))

    class Writer:
        def __init__(self):
            self.tags = []

        def add_scalar(self, tag, value, step):
            self.tags.append(tag)

    trainer.writer = Writer()
    latent_state, global_state = trainer.latent_generator.get_state(), torch.get_rng_state()
    trainer._evaluate(1)
    assert torch.equal(trainer.latent_generator.get_state(), latent_state)
    assert torch.equal(torch.get_rng_state(), global_state)
    assert all(network.training for network in trainer.system.networks.values())
    assert {"eval/mi_lower_bound/digit", "eval/accuracy/digit"} <= set(trainer.writer.tags)


DISENTANGLEMENT_KEYS = ["mig", "dci_disentanglement", "dci_completeness", "dci_informativeness",
                        "sap", "factor_vae_score", "beta_vae_score"]


def test_eval_json_report_png_tensorboard_and_hparams(tiny_run, monkeypatch, tmp_path):
    monkeypatch.setenv("GANZOO_CACHE_DIR", str(tmp_path / "cache"))
    result = CliRunner().invoke(main, ["eval", str(tiny_run), "--json", "--samples", "128"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)  # stdout holds the JSON object and nothing else
    assert {"checkpoint", "step", "recipe", "dataset", "samples", "codes", "frechet_distance",
            "summary"} <= set(report)
    keys = summary_keys(load_plugins(autoload="first-party").registry())
    assert keys == ["accuracy", "nmi", "mi_lower_bound", "entropy", "slant_abs_rho", "width_abs_rho",
                    "thickness_abs_rho", "class_consistency", "generated_accuracy", "frechet_distance",
                    "precision", "recall", "density", "coverage", "conditional_accuracy",
                    "intra_class_frechet", "fid_inception", "kid_inception", *DISENTANGLEMENT_KEYS]
    assert list(report["summary"]) == keys  # every key the metrics declare, in their order
    # the synthetic data has no known factors: the disentanglement metrics say so
    for name in ("mig", "dci", "sap", "factor_vae_score", "beta_vae_score"):
        assert report["metrics"].pop(name)["status"] == "unavailable"
    keys = keys[: -len(DISENTANGLEMENT_KEYS)]
    assert report["step"] == 6 and report["recipe"] == "smoke-infogan"
    assert report["dataset"] == "synthetic" and report["samples"] == 128
    assert report["checkpoint"].endswith("step_00000006.pt")
    # an unconditional run on a CPU: the conditional metrics and TF-Inception are left out, saying why
    skipped = {"conditional_accuracy", "intra_class_frechet", "fid_inception"}
    assert {n for n, m in report["metrics"].items() if m["status"] != "ok"} == skipped, report["metrics"]
    assert {report["metrics"][n]["status"] for n in skipped} == {"unavailable"}
    assert "unconditional" in report["metrics"]["conditional_accuracy"]["reason"]
    assert "--metric fid_inception" in report["metrics"]["fid_inception"]["reason"]
    assert set(report["summary_omitted"]) == {"conditional_accuracy", "intra_class_frechet",
                                              "fid_inception", "kid_inception", *DISENTANGLEMENT_KEYS}
    for key in keys:
        if key != "thickness_abs_rho" and key not in report["summary_omitted"]:
            # two style dimensions: both go to slant and width
            assert isinstance(report["summary"][key], float), key
    for key in ("frechet_distance", "precision", "recall", "density", "coverage"):
        assert isinstance(report["floor"][key], float), key
        assert report["summary_source"][key] == "synthetic classifier features"
    assert report["classifier"]["name"] == "synthetic classifier"
    assert report["summary"]["thickness_abs_rho"] is None
    assert report["frechet_distance"] == report["summary"]["frechet_distance"]
    digit, style = report["codes"]["digit"], report["codes"]["style"]
    assert digit["type"] == "categorical" and style["type"] == "uniform"
    assert 0.0 <= digit["accuracy"] <= 1.0 and digit["entropy"] == pytest.approx(math.log(K))
    assert set(style["best"]) == {"slant", "width", "thickness"}
    # slant and width come from two different dimensions, whichever pairing fits best
    source = report["summary_source"]
    assert {source["slant_abs_rho"], source["width_abs_rho"]} == {"style[0]", "style[1]"}
    slant_dim = int(source["slant_abs_rho"][-2])
    rho = style["factors"]
    assert report["summary"]["slant_abs_rho"] == abs(rho["slant"][slant_dim])
    assert report["summary"]["width_abs_rho"] == abs(rho["width"][1 - slant_dim])
    assert abs(rho["slant"][slant_dim]) + abs(rho["width"][1 - slant_dim]) >= (
        abs(rho["slant"][1 - slant_dim]) + abs(rho["width"][slant_dim]))
    assert (tiny_run / "eval" / "confusion_digit.png").exists()
    assert report["classifier"]["trained"] and list((tmp_path / "cache").rglob("*.pt"))

    acc = EventAccumulator(str(tiny_run), size_guidance={"scalars": 0, "images": 0})
    acc.Reload()
    assert {"eval/summary/accuracy", "eval/floor/frechet_distance"} <= set(acc.Tags()["scalars"])
    assert "eval/confusion/digit" in acc.Tags()["images"]
    hp = EventAccumulator(str(tiny_run / "hparams"))
    hp.Reload()
    content = hp.PluginTagToContent("hparams")
    assert {"_hparams_/experiment", "_hparams_/session_start_info"} <= set(content)
    from tensorboard.plugins.hparams import plugin_data_pb2

    start = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_start_info"])
    hparams = start.session_start_info.hparams
    assert hparams["seed"].number_value == 0
    assert hparams["train.optimizer.generator.lr"].number_value == pytest.approx(1e-3)
    assert hparams["model.backbone.type"].string_value == "dcgan"
    assert "hparams/accuracy" in hp.Tags()["scalars"]


def test_eval_text_report_and_a_checkpoint_file(tiny_run, monkeypatch, tmp_path):
    checkpoint = tiny_run / "checkpoints" / "step_00000003.pt"
    result = CliRunner().invoke(
        main, ["eval", str(checkpoint), "--metric", "mutual_information", "--samples", "64",
               "--out", str(tmp_path / "pngs")], catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "summary" in result.stdout and "mi_lower_bound" in result.stdout
    assert "step 3" in result.stdout


def test_load_run_rebuilds_the_trained_weights(tiny_run):
    run = load_run(tiny_run)
    assert run.step == 6 and run.run_dir == tiny_run
    assert not run.system.generator.training
    payload = torch.load(run.checkpoint, weights_only=True)
    for key, value in payload["models"]["generator"].items():
        assert torch.equal(run.system.generator.state_dict()[key], value)


def test_evaluate_without_labels_reports_null_with_reasons(tiny_run, monkeypatch, tmp_path):
    monkeypatch.setenv("GANZOO_CACHE_DIR", str(tmp_path))
    run = load_run(tiny_run)
    images = torch.zeros(64, 1, 28, 28, dtype=torch.uint8)
    ctx = EvalContext(system=run.system, recipe=run.recipe, registry=run.registry, samples=64,
                      test_data=ImageData(images), train_data=ImageData(images))
    report = evaluate(run, samples=64, context=ctx)
    for key in ("accuracy", "nmi", "class_consistency", "generated_accuracy", "frechet_distance"):
        assert report["summary"][key] is None, key
    assert report["summary"]["mi_lower_bound"] is not None
    for name in ("categorical_accuracy", "class_consistency", "frechet_distance"):
        assert report["metrics"][name]["status"] == "unavailable"
        assert "no labels" in report["metrics"][name]["reason"]
    json.dumps(report, allow_nan=False)


@pytest.mark.parametrize("make", ["missing", "empty_dir", "garbage_file"])
def test_eval_bad_path_exits_2_with_one_message(tmp_path, make):
    target = tmp_path / "x"
    if make == "empty_dir":
        target.mkdir()
    elif make == "garbage_file":
        target = tmp_path / "x.pt"
        target.write_bytes(b"not a checkpoint")
    result = CliRunner().invoke(main, ["eval", str(target), "--json"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: ") and str(target) in result.stderr
    assert "Traceback" not in result.output


def test_eval_unknown_metric_exits_2(tiny_run):
    result = CliRunner().invoke(main, ["eval", str(tiny_run), "--metric", "mutual_informaton"])
    assert result.exit_code == 2
    assert "did you mean 'mutual_information'" in result.stderr


# -- matching shape properties to code dimensions --------------------------------------------------
def _factors(**codes):
    return {name: {"kind": "continuous", "factors": dict(zip(("slant", "width", "thickness"), rows, strict=True))}
            for name, rows in codes.items()}


def test_one_dimension_does_not_count_for_both_slant_and_width():
    # dim 0 drives slant and (weakly, monotonically) width; dim 1 drives thickness
    codes = _factors(style=([0.99, 0.2], [0.9, 0.5], [0.1, -0.95]))
    assert assign_shape_properties(codes) == {"slant": (0.99, "style[0]"), "width": (0.5, "style[1]")}


def test_slant_and_width_take_the_pairing_with_the_largest_total():
    codes = _factors(style=([0.95, -0.9], [0.3, 0.85], [0.0, 0.0]))
    assert assign_shape_properties(codes) == {"slant": (0.95, "style[0]"), "width": (0.85, "style[1]")}


def test_thickness_takes_the_best_dimension_left_across_codes():
    codes = _factors(a=([0.2, 0.97], [0.9, 0.1], [0.7, 0.2]), b=([0.1], [0.3], [-0.8]))
    assert assign_shape_properties(codes) == {
        "slant": (0.97, "a[1]"), "width": (0.9, "a[0]"), "thickness": (0.8, "b[0]")}


def test_a_single_dimension_goes_to_the_property_it_drives_most():
    assert assign_shape_properties(_factors(s=([0.4], [-0.9], [0.95]))) == {"width": (0.9, "s[0]")}
    assert assign_shape_properties({"digit": {"kind": "categorical"}}) == {}
