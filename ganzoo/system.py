"""Assembling a trained or trainable system from a recipe, and rebuilding one from a run.

A backbone plugin builds a generator and a discriminator trunk; the recipe's training step
(a plugin) decides which networks exist, by name, and builds them from those parts; the
loss and the loss terms are built from their tables. ``load_system`` is the one way to
rebuild a run's system from its checkpoint: ``ganzoo eval``, ``ganzoo sample`` and the
Python API all use it.
"""

from __future__ import annotations

import copy
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import torch
from torch import Tensor, nn
from torch.optim.swa_utils import AveragedModel

from ganzoo.building import build_component, guarded
from ganzoo.errors import UserError
from ganzoo.latent import LatentCode, LatentSpace
from ganzoo.recipe import Recipe, TrainSettings
from ganzoo.step import AdversarialLoss, LossTerm, NetworkParts, StepBuild, TermBuild, TrainingStep


@attrs.frozen
class Backbone:
    """What a backbone factory returns.

    ``generator``: ``[B, latent_dim] -> [B, C, H, W]`` images in [-1, 1] (with
    ``num_classes`` > 0 it also takes ``labels [B]``: ``generator(z, labels)``).
    ``trunk``: ``[B, C, H, W] -> [B, feature_dim]`` features for D's heads.
    """

    generator: nn.Module
    trunk: nn.Module
    feature_dim: int
    spectral_norm_head: bool = False  # wrap D's logit head too (an SNGAN-style trunk)


class Discriminator(nn.Module):
    """A trunk and the adversarial logit head; with ``num_classes`` > 0 also a projection
    embedding (Miyato & Koyama 2018): logit + <embed(y), features>.

    With an ``augmentation`` (the recipe's ``[model.augmentation]``, e.g. DiffAugment) every
    input is augmented while training, before the trunk: real and generated images alike,
    and the images of loss terms (gradient penalty, R1, InfoGAN's Q) too, since they all
    call D. In eval mode (metrics, ``ganzoo eval``) images pass unchanged."""

    def __init__(
        self,
        trunk: nn.Module,
        feature_dim: int,
        spectral_norm: bool = False,
        num_classes: int = 0,
        augmentation: nn.Module | None = None,
    ):
        super().__init__()
        self.augmentation = augmentation  # no parameters: checkpoints are the same without it
        self.trunk = trunk
        self.adversarial = nn.Linear(feature_dim, 1)
        if spectral_norm:
            self.adversarial = nn.utils.parametrizations.spectral_norm(self.adversarial)
        self.projection = nn.Embedding(num_classes, feature_dim) if num_classes else None
        if self.projection is not None and spectral_norm:
            self.projection = nn.utils.parametrizations.spectral_norm(self.projection)

    def forward(
        self, images: Tensor, labels: Tensor | None = None, return_features: bool = False
    ) -> Tensor | tuple[Tensor, Tensor]:
        """``[B, C, H, W]`` -> logits ``[B]`` (and the trunk's features ``[B, F]``)."""
        if self.augmentation is not None and self.training:
            images = self.augmentation(images)  # [B, C, H, W], differentiable in images
        features = self.trunk(images)  # [B, F]
        logits = self.adversarial(features).squeeze(1)  # [B]
        if self.projection is not None:
            if labels is None:
                raise ValueError("this discriminator is conditional: pass labels")
            logits = logits + (self.projection(labels) * features).sum(dim=1)
        return (logits, features) if return_features else logits


EMA_NETWORK = "generator_ema"  # its name in checkpoints' "models"


def ema_with_warmup(decay: float) -> Any:
    """``AveragedModel``'s ``multi_avg_fn``: after n updates the average moves ``1 - d`` of
    the way to G with d = min(decay, (1 + n) / (10 + n)), as TensorFlow's
    ExponentialMovingAverage with ``num_updates`` does. A fixed 0.999 would still hold 67 %
    of the first weights after 400 steps (measured: Fréchet distance 1583 against G's 21 on
    MNIST), so short runs need the warm-up. Computed on the device: no synchronisation."""

    def average(averaged: list[Tensor], current: list[Tensor], num_averaged: Tensor) -> None:
        d = torch.clamp((1 + num_averaged) / (10 + num_averaged), max=decay)  # [] on the device
        for a, c in zip(averaged, current, strict=True):
            if a.is_floating_point():
                a.lerp_(c, (1 - d).to(a.dtype))
            else:  # integer buffers (batch norm's num_batches_tracked): G's own count
                a.copy_(c)

    return average


def generator_average(generator: nn.Module, decay: float) -> AveragedModel:
    """An exponential moving average of ``generator``'s parameters and buffers (batch-norm
    statistics: G samples in eval mode), by ``torch.optim.swa_utils``. Its first update
    copies G; later ones follow ``ema_with_warmup``."""
    return AveragedModel(generator, multi_avg_fn=ema_with_warmup(decay), use_buffers=True)


RECOMPUTE_SAMPLES = 10240  # samples whose batch statistics replace the EMA's averaged ones
RECOMPUTE_BATCH = 256
RECOMPUTE_SEED = 20190928  # fixed: the same weights always get the same statistics


def recompute_batch_norm(generator: nn.Module, sampler: nn.Module, latent: LatentSpace) -> int:
    """Replace the running statistics of every batch norm in ``generator`` by the exact mean
    and variance of its activations over ``RECOMPUTE_SAMPLES`` of its own samples (BigGAN's
    "standing statistics"; ``torch.optim.swa_utils.update_bn`` does the same for data).

    Why: an average of G's weights is a network G never was, and the average of G's running
    statistics does not describe its activations. ``sampler`` calls ``generator`` (the step's
    sampler around it; conditional ones cycle through the classes). Only the batch norms run
    in train mode, under ``no_grad``; returns how many there were."""
    norms = [m for m in generator.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return 0
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average over the batches below
        m.train()
    device = next(generator.parameters()).device
    rng = torch.Generator(device="cpu").manual_seed(RECOMPUTE_SEED)
    with torch.no_grad():
        for _ in range(RECOMPUTE_SAMPLES // RECOMPUTE_BATCH):
            sampler(latent.sample(RECOMPUTE_BATCH, rng, torch.device("cpu")).to(device))  # [B, D] -> images
    for m, momentum in zip(norms, momenta, strict=True):
        m.momentum = momentum
        m.eval()
    return len(norms)


@attrs.define(eq=False)
class GANSystem:
    """Everything a recipe's model builds: named networks, the latent space, the step and its
    loss terms, and (``train.ema_decay`` > 0) a moving average of the generator."""

    networks: dict[str, nn.Module]
    latent: LatentSpace
    step: TrainingStep
    image_shape: tuple[int, int, int]
    num_classes: int = 0
    terms: dict[str, LossTerm] = attrs.field(factory=dict)
    ema: AveragedModel | None = None
    term_networks: dict[str, str] = attrs.field(factory=dict)  # network -> role, built by terms
    use_ema: bool = True  # sample with the average once it holds weights (``--weights``)
    ema_batch_norm: str = "averaged"  # or "recomputed": see ``recompute_batch_norm``
    _recomputed: tuple[int, nn.Module] | None = attrs.field(default=None, init=False, repr=False)  # (n_averaged, copy)

    @property
    def conditional(self) -> bool:
        """Whether ``generator`` takes labels: ``generator(z, labels [N])`` draws those classes
        of ``num_classes`` (the step trains on labels; ``num_classes`` alone is the data's)."""
        return bool(self.num_classes) and bool(getattr(self.step, "uses_labels", False))

    @property
    def generator_weights(self) -> str:
        """Which weights ``generator`` samples with: "ema" or "raw"."""
        averaged = self.ema is not None and int(self.ema.n_averaged) > 0
        return "ema" if averaged and self.use_ema else "raw"

    @property
    def generator(self) -> nn.Module:
        """Latents ``[N, D]`` -> images (the step's ``sampler``: for display and evaluation),
        with the EMA weights of G when ``generator_weights`` is "ema"."""
        if self.generator_weights == "ema":
            return self.step.sampler({**self.networks, "generator": self.ema_generator()})
        return self.step.sampler(self.networks)

    def ema_generator(self) -> nn.Module:
        """The EMA of G as it samples: its own module, or with ``ema_batch_norm`` =
        "recomputed" a copy whose batch-norm statistics are recomputed from its samples
        (rebuilt after each EMA update, load or move; the EMA itself, which checkpoints
        hold and training updates, is never changed)."""
        assert self.ema is not None
        if self.ema_batch_norm != "recomputed":
            return self.ema.module
        count = int(self.ema.n_averaged)
        if self._recomputed is None or self._recomputed[0] != count:
            module = copy.deepcopy(self.ema.module)
            recompute_batch_norm(module, self.step.sampler({**self.networks, "generator": module}), self.latent)
            self._recomputed = (count, module)
        return self._recomputed[1]

    def modules(self) -> list[nn.Module]:
        return list(self.networks.values()) + ([self.ema] if self.ema is not None else [])

    def to(self, device: torch.device, memory_format: Any = None) -> GANSystem:
        kwargs = {"memory_format": memory_format} if memory_format is not None else {}
        for network in self.modules():
            network.to(device, **kwargs)
        self._recomputed = None
        return self

    def role_parameters(self, role: str) -> list[nn.Parameter]:
        """What ``role``'s optimiser updates: the step's choice plus the networks of the loss
        terms that ``role`` trains (``LossTerm.build_networks``)."""
        own = self.step.parameters(role, self.networks)
        for name, owner in self.term_networks.items():
            if owner == role:
                own = own + list(self.networks[name].parameters())
        return own

    def posterior(self, images: Tensor) -> Tensor | None:
        """The step's inference of the codes from ``images`` (see ``TrainingStep.posterior``)."""
        return self.step.posterior(self.networks, images)

    def named_modules(self) -> dict[str, nn.Module]:
        """Every module a checkpoint holds, by name (the EMA as ``EMA_NETWORK``)."""
        return {**self.networks, **({EMA_NETWORK: self.ema} if self.ema is not None else {})}

    def state_dicts(self) -> dict[str, dict[str, Tensor]]:
        return {name: network.state_dict() for name, network in self.named_modules().items()}

    def load_state_dicts(
        self, models: dict[str, Any], source: str, only: Sequence[str] | None = None
    ) -> None:
        """Load saved weights by network name; a mismatch is a ``UserError`` naming ``source``."""
        modules = self.named_modules()
        names = list(only or modules)
        problems = state_dict_problems({n: modules[n] for n in names}, models)
        if problems:
            raise UserError(f"{source}: weights do not fit the saved recipe: " + "; ".join(problems))
        self._recomputed = None
        for name in names:
            try:
                modules[name].load_state_dict(models[name])
            except (KeyError, RuntimeError, TypeError, ValueError) as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise UserError(
                    f"{source}: weights of network '{name}' do not fit the saved recipe ({first})"
                ) from None


def state_dict_problems(networks: dict[str, nn.Module], models: Any, limit: int = 5) -> list[str]:
    """What is wrong with saved ``models`` for these networks: missing or unexpected networks
    and keys, values that are not tensors, shapes that differ (at most ``limit`` of each)."""
    if not isinstance(models, dict):
        return [f"'models' is a {type(models).__name__}, expected a table of networks"]
    problems = []
    for name, network in networks.items():
        saved = models.get(name)
        if not isinstance(saved, dict):
            problems.append(f"no weights for network '{name}'" if saved is None
                            else f"weights of network '{name}' are a {type(saved).__name__}")
            continue
        expected = network.state_dict()
        missing = [k for k in expected if k not in saved]
        unexpected = [k for k in saved if k not in expected]
        wrong = [
            f"{k} {list(saved[k].shape) if isinstance(saved[k], Tensor) else type(saved[k]).__name__}"
            f" (expected {list(v.shape)})"
            for k, v in expected.items()
            if k in saved and (not isinstance(saved[k], Tensor) or saved[k].shape != v.shape)
        ]
        for label, items in (("missing", missing), ("unexpected", unexpected), ("wrong shape", wrong)):
            if items:
                more = f" and {len(items) - limit} more" if len(items) > limit else ""
                problems.append(f"network '{name}': {label} {', '.join(map(str, items[:limit]))}{more}")
    return problems


# -- building from a recipe ------------------------------------------------------------------
def build_latent_space(recipe: Recipe, registry: Any) -> LatentSpace:
    codes = []
    for name, table in recipe.latent.items():
        spec = registry.get("latent_code", table.type)
        code = build_component(
            spec, f"model.latent.{name}", table.config, expected=LatentCode,
            expected_name="a ganzoo.latent.LatentCode",
        )
        codes.append((name, code, table.settings.regularized, table.settings.weight))
    return LatentSpace(codes)


def build_terms(recipe: Recipe, registry: Any, latent: LatentSpace) -> dict[str, LossTerm]:
    """The recipe's loss terms in recipe order; weight 0 turns one off (not built)."""
    terms: dict[str, LossTerm] = {}
    for name, table in recipe.terms.items():
        if table.settings.weight == 0:  # weight 0 turns a term off: not built, costs nothing
            continue
        spec = registry.get("term", table.type)
        context = TermBuild(name, table.settings.weight, latent, recipe)
        terms[name] = build_component(
            spec, f"train.terms.{name}", table.config, context,
            expected=LossTerm, expected_name="a ganzoo.step.LossTerm",
        )
    return terms


def build_step(
    recipe: Recipe, registry: Any, latent: LatentSpace, terms: dict[str, LossTerm] | None = None
) -> TrainingStep:
    """The recipe's loss and training step with its loss terms (no networks yet)."""
    loss = build_component(
        registry.get("loss", recipe.loss.type), "loss", recipe.loss.config,
        expected=AdversarialLoss, expected_name="a ganzoo.step.AdversarialLoss",
    )
    if terms is None:
        terms = build_terms(recipe, registry, latent)
    spec = registry.get("step", recipe.step.type)
    context = StepBuild(loss, terms, latent, recipe)
    return build_component(
        spec, "train.step", recipe.step.config, context,
        expected=TrainingStep, expected_name="a ganzoo.step.TrainingStep",
    )


def build_system(
    recipe: Recipe, registry: Any, image_shape: tuple[int, int, int], num_classes: int = 0
) -> GANSystem:
    """Build the named networks, latent space and step; plugin errors become user errors."""
    latent = build_latent_space(recipe, registry)
    terms = build_terms(recipe, registry, latent)
    step = build_step(recipe, registry, latent, terms)
    augmentation = None
    if recipe.augmentation is not None:
        table = recipe.augmentation
        augmentation = build_component(
            registry.get("augmentation", table.type), "model.augmentation", table.config,
            expected=nn.Module, expected_name="an nn.Module (images -> images)",
        )
    spec = registry.get("backbone", recipe.backbone.type)

    def make_backbone(classes: int) -> Backbone:
        kwargs = {"num_classes": classes} if classes else {}
        return build_component(
            spec, f"model.backbone ({recipe.backbone.type})", recipe.backbone.config,
            image_shape=image_shape, latent_dim=latent.width, expected=Backbone,
            expected_name="ganzoo.system.Backbone", **kwargs,
        )

    def make_discriminator(backbone: Backbone, classes: int) -> Discriminator:
        return Discriminator(
            backbone.trunk, backbone.feature_dim, backbone.spectral_norm_head, classes, augmentation
        )

    parts = NetworkParts(image_shape, latent, num_classes, make_backbone, make_discriminator)
    networks = guarded(
        "train.step", f"networks of step '{recipe.step.type}'", lambda: step.build_networks(parts)
    )
    if not isinstance(networks, dict):
        raise UserError(
            f"step '{recipe.step.type}' built {type(networks).__name__}: expected a dict of "
            "nn.Modules by name, one of them 'generator'"
        )
    if "generator" not in networks or not all(isinstance(m, nn.Module) for m in networks.values()):
        raise UserError(
            f"step '{recipe.step.type}' built {sorted(networks)}: expected nn.Modules by name, "
            "one of them 'generator'"
        )
    networks, term_networks = dict(networks), {}
    roles = registry.get("step", recipe.step.type).optimizer_roles
    for name, term in terms.items():
        where = f"train.terms.{name}"
        extra = guarded(where, f"networks of term {name!r}", lambda: term.build_networks(parts)) or {}  # noqa: B023
        if extra and term.networks_role not in roles:
            raise UserError(f"{where}: its networks are trained by role '{term.networks_role}', "
                            f"which step '{recipe.step.type}' lacks (roles: {', '.join(roles)})")
        for key, module in extra.items():
            if key in networks or not isinstance(module, nn.Module):
                raise UserError(f"{where}: network '{key}' clashes with another network or is "
                                "not an nn.Module")
            networks[key], term_networks[key] = module, term.networks_role
    decay = recipe.train.ema_decay
    ema = generator_average(networks["generator"], decay) if decay > 0 else None
    return GANSystem(
        networks, latent, step, image_shape, num_classes, terms, ema, term_networks,
        ema_batch_norm=recipe.train.ema_batch_norm,
    )


# -- rebuilding a run --------------------------------------------------------------------------
WEIGHT_CHOICES = ("auto", "ema", "raw")
EMA_BATCH_NORM_CHOICES = typing.get_args(typing.get_type_hints(TrainSettings)["ema_batch_norm"])


def describe_weights(system: GANSystem, recipe: Recipe) -> str:
    """One line on which generator weights a loaded run samples with."""
    if system.generator_weights == "ema":
        return (
            f"generator weights: EMA (decay {recipe.train.ema_decay:g}, averaged over "
            f"{int(system.ema.n_averaged)} steps from step {max(recipe.train.ema_start, 1)}"  # type: ignore[union-attr]
            + (f"; batch-norm statistics recomputed from {RECOMPUTE_SAMPLES} of its samples)"
               if system.ema_batch_norm == "recomputed" else ")")
        )
    if system.ema is not None and int(system.ema.n_averaged) > 0:
        return "generator weights: raw G (--weights raw; the run also holds an EMA)"
    return "generator weights: G (the run keeps no moving average)"


@attrs.define(eq=False)
class LoadedRun:
    """A system rebuilt from a checkpoint, with what built it."""

    system: GANSystem
    recipe: Recipe
    registry: Any
    plugins: Any
    checkpoint: Path
    run_dir: Path
    step: int
    device: torch.device
    warnings: list[str] = attrs.field(factory=list)


def load_system(
    path: str | Path,
    device: torch.device | str = "cpu",
    plugin_options: Sequence[str] = (),
    *,
    strict: bool = False,
    only: Sequence[str] | None = None,
    weights: str = "auto",
    ema_batch_norm: str | None = None,
) -> LoadedRun:
    """Rebuild the system of a run directory (its newest valid checkpoint) or of one ``.pt``
    file, weights loaded (every network, or the ones named in ``only``), in eval mode on
    ``device``. ``weights`` picks what the generator samples with: "auto" (the EMA of G when
    the run kept one, else G), "ema" (an error if it kept none) or "raw" (G itself);
    ``ema_batch_norm`` overrides the recipe's ``train.ema_batch_norm``. Every problem is a
    ``UserError``."""
    if weights not in WEIGHT_CHOICES:
        raise UserError(f"--weights {weights}: accepted are {', '.join(WEIGHT_CHOICES)}")
    if ema_batch_norm not in (None, *EMA_BATCH_NORM_CHOICES):
        raise UserError(f"--ema-batch-norm {ema_batch_norm}: accepted are {', '.join(EMA_BATCH_NORM_CHOICES)}")
    from ganzoo import checkpoint as ckpt
    from ganzoo.data import load_dataset
    from ganzoo.session import open_saved_recipe

    device = torch.device(device)
    checkpoint, payload, run_dir, warnings = ckpt.find_checkpoint(path, "cpu")
    session = open_saved_recipe(payload, str(run_dir / "recipe.toml"), (), plugin_options, strict=strict)
    recipe, registry = session.recipe, session.registry
    shape = payload.get("image_shape")
    if shape is None:
        shape = load_dataset(recipe, registry, "test").shape
    num_classes = payload.get("num_classes", 0)
    if not (
        isinstance(shape, list | tuple) and len(shape) == 3
        and all(isinstance(s, int) and 1 <= s <= 65536 for s in shape)
    ):
        raise ckpt.CheckpointError(
            f"{checkpoint}: 'image_shape' is {shape!r}, expected [channels, height, width]"
        )
    if not isinstance(num_classes, int) or not 0 <= num_classes <= 1_000_000:
        raise ckpt.CheckpointError(
            f"{checkpoint}: 'num_classes' is {num_classes!r}, expected a count of classes"
        )
    system = build_system(recipe, registry, tuple(shape), num_classes)  # type: ignore[arg-type]
    if only is not None and system.ema is not None and "generator" in only:
        only = (*only, EMA_NETWORK)
    system.load_state_dicts(payload["models"], str(checkpoint), only)
    system.to(device)
    for network in system.modules():
        network.eval()
    system.use_ema = weights != "raw"
    if ema_batch_norm is not None:
        system.ema_batch_norm = ema_batch_norm
    if weights == "ema" and system.generator_weights != "ema":
        raise UserError(
            f"--weights ema: {checkpoint} holds no moving average of G (train.ema_decay = "
            f"{recipe.train.ema_decay:g}, or the average had not started by step {payload['step']})"
        )
    return LoadedRun(
        system=system,
        recipe=recipe,
        registry=registry,
        plugins=session.plugins,
        checkpoint=Path(checkpoint),
        run_dir=run_dir,
        step=int(payload["step"]),
        device=device,
        warnings=list(warnings) + session.notes,
    )
