"""Evaluating a trained system: what did InfoGAN's codes learn?

The core knows no concrete metric. A metric is a plugin component (``MetricSpec``) whose
factory returns a :class:`Metric`; ``evaluate()`` runs the chosen metrics over one
:class:`EvalContext` and assembles the report, a plain JSON-ready dict::

    {"checkpoint": str, "step": int, "recipe": str, "dataset": str, "samples": int,
     "generator_weights": "ema" | "raw",  # which weights of G generated the samples
     "codes": {NAME: {"type": str, "kind": "categorical"|"continuous", ...}},
     "frechet_distance": float | None,
     "summary": {KEY: float | None},  # every key a registered metric declares
     "summary_source": {KEY: "code" | "code[dim]"},  # where each summary value came from
     "summary_omitted": {KEY: reason},  # declared keys left out: their metric's reason
     "floor": {KEY: float},  # what real data scores on the same measure (real train vs test)
     "metrics": {NAME: {"status": "ok"|"unavailable"|"failed", "seconds": float, "reason"?}},
     ...}                                             # metrics may add top-level keys

A metric's ``compute(ctx)`` returns a partial report: ``{"codes": {NAME: {...}}, ...}``;
``evaluate()`` merges these (dicts recursively). Then each metric's ``summarize(report)``
gives its headline numbers for ``report["summary"]``, whose keys the metrics declare in
their specs (``MetricSpec.summary_keys``): every declared key is present, None where not
measured. What a summary value means is the metric's business (the MNIST metrics, for
example, take the first categorical code and match slant and width to distinct continuous
code dimensions).

The in-training evaluation (``train.eval_every``) is the training step's own
(``TrainingStep.evaluate_during_training``).
"""

from __future__ import annotations

import abc
import contextlib
import math
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs
import torch
from torch import Tensor, nn

from ganzoo.building import build_component
from ganzoo.data import ImageData, load_dataset, to_unit_range
from ganzoo.errors import UserError
from ganzoo.latent import LatentEntry
from ganzoo.system import GANSystem, LoadedRun, load_system

DEFAULT_SAMPLES = 5000
BATCH = 500


class Unavailable(Exception):
    """A metric cannot be computed for this run (no labels, no test split, ...): its values
    are reported as null with this reason; nothing crashes."""


class Metric(abc.ABC):
    """One evaluation: ``compute(ctx)`` returns a partial report (see the module docstring)."""

    @abc.abstractmethod
    def compute(self, ctx: EvalContext) -> dict[str, Any]:
        """Measure the system in ``ctx``; raise :class:`Unavailable` if it cannot."""

    def summarize(self, report: dict[str, Any]) -> dict[str, tuple[Any, str]]:
        """This metric's headline numbers from the merged report: ``{KEY: (value, where)}``
        for the keys its ``MetricSpec.summary_keys`` declares (``where``: e.g. a code name)."""
        return {}


# -- running models in evaluation mode ---------------------------------------------------------
@contextlib.contextmanager
def eval_mode(*modules: nn.Module) -> Iterator[None]:
    """Every submodule in eval mode (batch-norm running statistics); previous modes restored."""
    saved = [(m, m.training) for module in modules for m in module.modules()]
    for module in modules:
        module.eval()
    try:
        yield
    finally:
        for m, training in saved:
            m.training = training


def categorical_codes(system: GANSystem) -> list[LatentEntry]:
    return [e for e in system.latent.regularized if e.code.categories is not None]


def continuous_codes(system: GANSystem) -> list[LatentEntry]:
    return [e for e in system.latent.regularized if e.code.categories is None]


@torch.no_grad()
def generate_images(system: GANSystem, z: Tensor, batch: int = BATCH, labels: Tensor | None = None) -> Tensor:
    """``z [N, D]`` (and, for a conditional system, the classes ``labels [N]`` to draw) ->
    images ``[N, C, H, W]`` float32 in [-1, 1], in chunks, eval mode."""
    generator = system.generator
    with eval_mode(generator):
        if labels is None:
            return torch.cat([generator(chunk).float() for chunk in z.split(batch)])
        pairs = zip(z.split(batch), labels.to(z.device).split(batch), strict=True)
        return torch.cat([generator(chunk, labels=y).float() for chunk, y in pairs])


@torch.no_grad()
def posteriors(
    system: GANSystem, images: Tensor, device: torch.device | None = None, batch: int = BATCH
) -> Tensor:
    """Q's raw outputs ``[N, P]`` for images ``[N, C, H, W]``: float in [-1, 1], or uint8
    (converted chunk by chunk, so a whole test split is never held as floats)."""
    device = device or next(system.generator.parameters()).device
    out = []
    with eval_mode(*system.modules()):
        for chunk in images.split(batch):
            chunk = chunk.to(device, non_blocking=True)
            x = to_unit_range(chunk) if chunk.dtype == torch.uint8 else chunk.float()
            posterior = system.posterior(x)
            if posterior is None:
                raise Unavailable(
                    f"step '{type(system.step).__name__}' infers no codes from images"
                )
            out.append(posterior.float())
    return torch.cat(out)


def cluster_ids(entry: LatentEntry, posterior: Tensor) -> Tensor:
    """Q's most likely category per image, ``[N]`` int64."""
    return entry.code.point_estimate(posterior[:, entry.posterior]).argmax(dim=1)


# -- loading a run -----------------------------------------------------------------------------
def load_run(
    path: str | Path,
    device: torch.device | str = "cpu",
    plugin_options: Sequence[str] = (),
    *,
    strict: bool = False,
    weights: str = "auto",
) -> LoadedRun:
    """Rebuild every network of a run (``ganzoo.system.load_system``) for evaluation;
    ``weights`` chooses the generator's ("auto": its EMA when the run kept one)."""
    return load_system(path, device, plugin_options, strict=strict, weights=weights)


# -- the context metrics see ---------------------------------------------------------------------
def _seed_for(seed: int, purpose: str) -> int:
    return (int(seed) * 1_000_003 + zlib.crc32(purpose.encode())) % (2**63)


@attrs.define(eq=False)
class EvalContext:
    """What a metric may use. Data splits load lazily (``test_data``/``train_data`` may be
    given directly, e.g. in tests); random numbers come only from seeded generators, so
    results do not depend on which metrics run or in what order."""

    system: GANSystem
    device: torch.device = attrs.field(factory=lambda: torch.device("cpu"), converter=torch.device)
    recipe: Any = None
    registry: Any = None
    samples: int = DEFAULT_SAMPLES
    seed: int = 0
    out_dir: Path | None = None
    writer: Any = None
    step: int = 0
    batch: int = BATCH
    log: Callable[[str], None] | None = None
    test_data_: ImageData | None = attrs.field(default=None, alias="test_data")
    train_data_: ImageData | None = attrs.field(default=None, alias="train_data")
    cache: dict[str, Any] = attrs.field(factory=dict)
    requested: tuple[str, ...] = ()  # metrics named by the caller (not just the defaults)
    data_errors: dict[str, str] = attrs.field(factory=dict)  # split -> why it could not load
    generator: torch.Generator = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.generator = self.rng("samples")

    # random streams
    def rng(self, purpose: str) -> torch.Generator:
        """A fresh generator on the device, seeded from (seed, purpose)."""
        return torch.Generator(device=self.device).manual_seed(_seed_for(self.seed, purpose))

    def say(self, message: str) -> None:
        if self.log is not None:
            self.log(message)

    # data
    def _load(self, split: str) -> ImageData:
        if self.recipe is None or self.registry is None:
            raise Unavailable(f"no {split} data given and no recipe to load it from")
        if split in self.data_errors:  # tried once already: say so without loading again
            raise Unavailable(f"the {split} split could not be loaded (see above)")
        try:
            return load_dataset(self.recipe, self.registry, split)
        except UserError as exc:
            self.data_errors[split] = str(exc)
            raise Unavailable(f"the {split} split could not be loaded: {exc}") from None

    @property
    def test_data(self) -> ImageData:
        if self.test_data_ is None:
            self.test_data_ = self._load("test")
        return self.test_data_

    @property
    def train_data(self) -> ImageData:
        if self.train_data_ is None:
            self.train_data_ = self._load("train")
        return self.train_data_

    @property
    def dataset_name(self) -> str:
        return self.recipe.data.type if self.recipe is not None else "given data"

    def labelled(self, data: ImageData, split: str) -> ImageData:
        """``data`` if it has labels, else ``Unavailable``."""
        if data.labels is None:
            raise Unavailable(f"dataset '{self.dataset_name}' has no labels ({split} split)")
        return data

    # models
    def generate(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        return generate_images(self.system, z.to(self.device), self.batch, labels)

    def posteriors(self, images: Tensor) -> Tensor:
        return posteriors(self.system, images, self.device, self.batch)

    def generated(self) -> tuple[Tensor, Tensor]:
        """``samples`` fresh draws ``z [N, D]`` and their images ``[N, C, H, W]``; drawn once
        from their own stream and shared by the metrics that need generated samples."""
        key = ("generated", self.samples)
        if key not in self.cache:
            z = self.system.latent.sample(self.samples, self.rng("generated"), self.device)
            self.cache[key] = (z, self.generate(z))
        return self.cache[key]

    def output_path(self, name: str) -> Path | None:
        if self.out_dir is None:
            return None
        Path(self.out_dir).mkdir(parents=True, exist_ok=True)
        return Path(self.out_dir) / name


# -- running metrics and assembling the report -----------------------------------------------------
def merge(into: dict[str, Any], part: dict[str, Any]) -> dict[str, Any]:
    """Merge ``part`` into ``into``: dicts recursively, other values replaced."""
    for key, value in part.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            merge(into[key], value)
        else:
            into[key] = value
    return into


def plain(value: Any) -> Any:
    """JSON-ready data: numpy/torch scalars to Python, non-finite floats to None."""
    import numpy as np

    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, torch.Tensor):
        return plain(value.tolist())
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    return value


def code_skeleton(recipe: Any, system: GANSystem) -> dict[str, dict[str, Any]]:
    codes = {}
    for e in system.latent.regularized:
        type_name = recipe.latent[e.name].type if recipe is not None and e.name in recipe.latent else type(e.code).__name__.lower()
        info: dict[str, Any] = {
            "type": type_name,
            "kind": "categorical" if e.code.categories is not None else "continuous",
            "weight": float(e.weight),
        }
        if e.code.categories is not None:
            info["categories"] = int(e.code.categories)
        else:
            info["dims"] = int(e.code.width)
        codes[e.name] = info
    return codes


def first_categorical(codes: dict[str, Any]) -> str | None:
    """The code the summary's per-code values come from: the first categorical one."""
    return next((n for n, c in codes.items() if c.get("kind") == "categorical"), None)


def first_categorical_values(report: dict[str, Any], keys: Sequence[str]) -> dict[str, tuple[Any, str]]:
    """``{KEY: (value, code)}`` for ``keys`` of the first categorical code (for summaries)."""
    name = first_categorical(report.get("codes", {}))
    if name is None:
        return {}
    return {key: (report["codes"][name].get(key), name) for key in keys}


def summary_keys(registry: Any) -> list[str]:
    """Keys of ``report["summary"]``: what the registered metrics declare, in their order."""
    return list(dict.fromkeys(
        key for spec in registry.components.get("metric", {}).values() for key in spec.summary_keys
    ))


def metric_names(registry: Any) -> list[str]:
    """Every registered metric, in registration order (first-party ones first)."""
    return list(registry.components.get("metric", {}))


def evaluate(
    run: LoadedRun | str | Path,
    metrics: Sequence[str] | None = None,
    samples: int = DEFAULT_SAMPLES,
    *,
    device: torch.device | str = "cpu",
    out_dir: str | Path | None = None,
    writer: Any = None,
    seed: int = 0,
    configs: dict[str, Any] | None = None,
    log: Callable[[str], None] | None = None,
    context: EvalContext | None = None,
) -> dict[str, Any]:
    """Run ``metrics`` (default: every registered one) on a run and return the report.

    ``run``: a :class:`LoadedRun`, a run directory or a checkpoint file. ``configs`` maps a
    metric name to its config object (default: the metric's defaults). PNGs go to
    ``out_dir`` (none if None); images and ``eval/...`` scalars to ``writer`` if given.
    """
    if not isinstance(run, LoadedRun):
        run = load_run(run, device)
    if samples < 2:
        raise UserError(f"--samples: need at least 2 samples, got {samples}")
    registry = run.registry
    names = list(metrics) if metrics else metric_names(registry)
    specs = [registry.get("metric", name) for name in dict.fromkeys(names)]
    ctx = context or EvalContext(
        system=run.system,
        device=run.device,
        recipe=run.recipe,
        registry=registry,
        samples=samples,
        seed=seed,
        out_dir=Path(out_dir) if out_dir is not None else None,
        writer=writer,
        step=run.step,
        log=log,
        requested=tuple(metrics or ()),
    )
    report: dict[str, Any] = {
        "checkpoint": str(run.checkpoint),
        "step": int(run.step),
        "recipe": run.recipe.name,
        "dataset": run.recipe.data.type,
        "samples": int(samples),
        "generator_weights": run.system.generator_weights,
        "ema_batch_norm": run.system.ema_batch_norm if run.system.generator_weights == "ema" else None,
        "codes": code_skeleton(run.recipe, run.system),
        "frechet_distance": None,
        "summary": dict.fromkeys(summary_keys(registry)),
        "floor": {},
        "metrics": {},
    }
    if run.warnings:
        report["warnings"] = list(run.warnings)
    built: list[Metric] = []
    with eval_mode(*run.system.modules()):
        for spec in specs:
            config = (configs or {}).get(spec.name) or spec.config()
            start = time.perf_counter()
            status: dict[str, Any] = {"status": "ok"}
            ctx.say(f"metric {spec.name} ...")
            try:
                metric = build_component(
                    spec, f"metric {spec.name}", config, expected=Metric,
                    expected_name="a ganzoo.evaluation.Metric",
                )
                built.append(metric)
                with torch.no_grad():
                    part = metric.compute(ctx)
                merge(report, part or {})
            except Unavailable as exc:
                status = {"status": "unavailable", "reason": str(exc)}
            except UserError:
                raise
            except (Exception, SystemExit) as exc:  # one broken (plugin) metric must not lose the others
                status = {"status": "failed", "reason": f"{type(exc).__name__}: {exc}"}
            status["seconds"] = round(time.perf_counter() - start, 3)
            report["metrics"][spec.name] = status
    report["summary_source"] = {}
    for metric in built:
        for key, (value, where) in metric.summarize(report).items():
            if value is not None:
                report["summary"][key], report["summary_source"][key] = value, where
    report["summary_omitted"] = {
        key: f"{spec.name}: {report['metrics'][spec.name]['reason']}"
        for spec in specs
        if report["metrics"][spec.name]["status"] != "ok"
        for key in spec.summary_keys
        if report["summary"].get(key) is None
    }
    report = plain(report)
    if writer is not None:
        log_report(writer, report, run.step)
    return report


# -- TensorBoard ------------------------------------------------------------------------------------
def report_scalars(report: dict[str, Any]) -> dict[str, float]:
    """``eval/...`` scalars of a report: the summary, its floors and every numeric per-code value."""
    out: dict[str, float] = {}
    for group in ("summary", "floor"):
        for key, value in report.get(group, {}).items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                out[f"eval/{group}/{key}"] = float(value)
    for name, code in report.get("codes", {}).items():
        for key, value in code.items():
            if key in ("weight", "categories", "dims"):
                continue
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                out[f"eval/{key}/{name}"] = float(value)
        for prop, item in (code.get("best") or {}).items():
            if item and item.get("rho") is not None:
                out[f"eval/{prop}_rho/{name}_{item['dim']}"] = float(item["rho"])
    return out


def log_report(writer: Any, report: dict[str, Any], step: int) -> None:
    for tag, value in report_scalars(report).items():
        writer.add_scalar(tag, value, step)
    writer.flush()


def hparams_of(recipe: Any) -> dict[str, Any]:
    """Flattened scalar recipe values for TensorBoard's HParams (lists as text)."""
    from ganzoo.session import flatten

    skip_prefixes = ("data.root", "data.download", "plugins")
    skip_train = {
        "log_every", "sample_every", "checkpoint_every", "keep_checkpoints", "eval_every",
        "eval_samples", "sample_count", "traversal_rows", "traversal_steps", "traversal_range",
    }
    out: dict[str, Any] = {}
    for key, value in flatten(recipe.to_dict()).items():
        if key.startswith(skip_prefixes) or (key.startswith("train.") and key.split(".", 1)[1] in skip_train):
            continue
        if isinstance(value, (list, tuple)):
            value = ", ".join(str(v) for v in value)
        if isinstance(value, (bool, int, float, str)):
            out[key] = value
    return out


def write_hparams(run_dir: Path, recipe: Any, report: dict[str, Any], folder: str = "hparams") -> Path:
    """Record the recipe's hyper-parameters with the summary metrics for TensorBoard's HParams
    dashboard in ``run_dir/folder`` (replacing an earlier evaluation's record there)."""
    from torch.utils.tensorboard.summary import hparams as hparams_summaries

    from ganzoo.tensorboard import open_writer

    target = Path(run_dir) / folder
    if target.is_dir():
        for old in target.glob("events.out.tfevents.*"):
            old.unlink(missing_ok=True)
    hparams = hparams_of(recipe)
    hparams["eval.checkpoint_step"] = int(report["step"])
    metrics = {
        f"hparams/{key}": float(value)
        for key, value in report["summary"].items()
        if isinstance(value, (int, float)) and not isinstance(value, bool)
    }
    exp, ssi, sei = hparams_summaries(hparams, metrics)
    step = int(report["step"])
    with open_writer(target) as writer:
        for summary in (exp, ssi, sei):
            writer.file_writer.add_summary(summary, step)
        for tag, value in metrics.items():
            writer.add_scalar(tag, value, step)
    return target


__all__ = [
    "EvalContext",
    "LoadedRun",
    "Metric",
    "Unavailable",
    "evaluate",
    "eval_mode",
    "generate_images",
    "hparams_of",
    "load_run",
    "log_report",
    "posteriors",
    "report_scalars",
    "write_hparams",
]
