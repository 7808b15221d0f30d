"""Assembling a trained or trainable system from a recipe, and rebuilding one from a run.

A backbone plugin builds a generator and a discriminator trunk; the recipe's training step
(a plugin) decides which networks exist, by name, and builds them from those parts; the
loss and the loss terms are built from their tables. ``load_system`` is the one way to
rebuild a run's system from its checkpoint: ``ganzoo eval``, ``ganzoo sample`` and the
Python API all use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import torch
from torch import Tensor, nn

from ganzoo.errors import UserError, brief
from ganzoo.latent import LatentSpace
from ganzoo.recipe import Recipe
from ganzoo.step import LossTerm, NetworkParts, StepBuild, TermBuild, TrainingStep


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


@attrs.define(eq=False)
class GANSystem:
    """Everything a recipe's model builds: named networks, the latent space and the step."""

    networks: dict[str, nn.Module]
    latent: LatentSpace
    step: TrainingStep
    image_shape: tuple[int, int, int]
    num_classes: int = 0

    @property
    def generator(self) -> nn.Module:
        """Latents ``[N, D]`` -> images (the step's ``sampler``: for display and evaluation)."""
        return self.step.sampler(self.networks)

    def modules(self) -> list[nn.Module]:
        return list(self.networks.values())

    def to(self, device: torch.device, memory_format: Any = None) -> GANSystem:
        kwargs = {"memory_format": memory_format} if memory_format is not None else {}
        for network in self.networks.values():
            network.to(device, **kwargs)
        return self

    def posterior(self, images: Tensor) -> Tensor | None:
        """The step's inference of the codes from ``images`` (see ``TrainingStep.posterior``)."""
        return self.step.posterior(self.networks, images)

    def state_dicts(self) -> dict[str, dict[str, Tensor]]:
        return {name: network.state_dict() for name, network in self.networks.items()}

    def load_state_dicts(
        self, models: dict[str, Any], source: str, only: Sequence[str] | None = None
    ) -> None:
        """Load saved weights by network name; a mismatch is a ``UserError`` naming ``source``."""
        for name in only or list(self.networks):
            try:
                self.networks[name].load_state_dict(models[name])
            except (KeyError, RuntimeError) as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise UserError(
                    f"{source}: weights of network '{name}' do not fit the saved recipe ({first})"
                ) from None


# -- building from a recipe ------------------------------------------------------------------
def build_latent_space(recipe: Recipe, registry: Any) -> LatentSpace:
    codes = []
    for name, table in recipe.latent.items():
        code = registry.get("latent_code", table.type).build(table.config)
        codes.append((name, code, table.settings.regularized, table.settings.weight))
    return LatentSpace(codes)


def _built(kind: str, path: str, build: Any) -> Any:
    """Run a plugin factory; its ``ValueError`` (a parameter it rejects) is a user error."""
    try:
        return build()
    except UserError:
        raise
    except ValueError as exc:
        raise UserError(f"{path}: {exc}") from None
    except (TypeError, RuntimeError, OverflowError, MemoryError) as exc:  # e.g. sizes too large
        raise UserError(f"{path}: cannot build the {kind} with these parameters ({brief(exc)})") from None


def build_step(recipe: Recipe, registry: Any, latent: LatentSpace) -> TrainingStep:
    """The recipe's loss, loss terms and training step (no networks yet)."""
    loss = registry.get("loss", recipe.loss.type).build(recipe.loss.config)
    terms: dict[str, LossTerm] = {}
    for name, table in recipe.terms.items():
        if table.settings.weight == 0:  # weight 0 turns a term off: not built, costs nothing
            continue
        spec = registry.get("term", table.type)
        context = TermBuild(name, table.settings.weight, latent, recipe)
        terms[name] = _built("term", f"train.terms.{name}", lambda: spec.build(table.config, context))  # noqa: B023
    spec = registry.get("step", recipe.step.type)
    context = StepBuild(loss, terms, latent, recipe)
    step = _built("step", "train.step", lambda: spec.build(recipe.step.config, context))
    if not isinstance(step, TrainingStep):
        raise UserError(
            f"step '{recipe.step.type}' from {spec.provider} returned {type(step).__name__}, "
            "expected a ganzoo.step.TrainingStep"
        )
    return step


def build_system(
    recipe: Recipe, registry: Any, image_shape: tuple[int, int, int], num_classes: int = 0
) -> GANSystem:
    """Build the named networks, latent space and step; plugin errors become user errors."""
    latent = build_latent_space(recipe, registry)
    step = build_step(recipe, registry, latent)
    augmentation = None
    if recipe.augmentation is not None:
        table = recipe.augmentation
        augment_spec = registry.get("augmentation", table.type)
        augmentation = _built("augmentation", "model.augmentation", lambda: augment_spec.build(table.config))
    spec = registry.get("backbone", recipe.backbone.type)
    where = f"model.backbone ({recipe.backbone.type})"

    def make_backbone(classes: int) -> Backbone:
        kwargs = {"num_classes": classes} if classes else {}
        backbone = _built(
            "backbone",
            where,
            lambda: spec.build(
                recipe.backbone.config, image_shape=image_shape, latent_dim=latent.width, **kwargs
            ),
        )
        if not isinstance(backbone, Backbone):
            raise UserError(
                f"backbone '{recipe.backbone.type}' from {spec.provider} returned "
                f"{type(backbone).__name__}, expected ganzoo.system.Backbone"
            )
        return backbone

    def make_discriminator(backbone: Backbone, classes: int) -> Discriminator:
        return Discriminator(
            backbone.trunk, backbone.feature_dim, backbone.spectral_norm_head, classes, augmentation
        )

    parts = NetworkParts(image_shape, latent, num_classes, make_backbone, make_discriminator)
    networks = _built("networks", "train.step", lambda: step.build_networks(parts))
    if "generator" not in networks or not all(isinstance(m, nn.Module) for m in networks.values()):
        raise UserError(
            f"step '{recipe.step.type}' built {sorted(networks)}: expected nn.Modules by name, "
            "one of them 'generator'"
        )
    return GANSystem(dict(networks), latent, step, image_shape, num_classes)


# -- rebuilding a run --------------------------------------------------------------------------
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
) -> LoadedRun:
    """Rebuild the system of a run directory (its newest valid checkpoint) or of one ``.pt``
    file, weights loaded (every network, or the ones named in ``only``), in eval mode on
    ``device``. Every problem is a ``UserError``."""
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
    system = build_system(
        recipe, registry, tuple(int(s) for s in shape), int(payload.get("num_classes", 0))  # type: ignore[arg-type]
    )
    system.load_state_dicts(payload["models"], str(checkpoint), only)
    system.to(device)
    for network in system.networks.values():
        network.eval()
    return LoadedRun(
        system=system,
        recipe=recipe,
        registry=registry,
        plugins=session.plugins,
        checkpoint=Path(checkpoint),
        run_dir=run_dir,
        step=int(payload["step"]),
        device=device,
        warnings=list(warnings),
    )
