"""Typed records that plugins return from registration hooks.

A spec says what a component is called, what it does (one line), which parameters it takes
(an attrs class whose fields carry defaults, help text and bounds) and how to build it (a
callable, or ``"module:attr"`` imported only when the component is used, so that listing
components stays fast). The host stamps ``provider`` when it collects the spec.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from typing import Any, ClassVar

import attrs

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


SEED_MAX = 2**32 - 1
"""The largest seed ganzoo accepts anywhere (recipe, ``--seed``, seed parameters): NumPy's
legacy seeding takes 32 bits, and seeds derived from it stay within what
``torch.Generator.manual_seed`` accepts."""


def param(
    default: Any = attrs.NOTHING,
    help: str = "",
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    factory: Callable[[], Any] | None = None,
) -> Any:
    """A component parameter: its default, one line of help and optional numeric bounds.

    Bounds are checked by the recipe validator, which reports every problem at once with its
    dotted path (attrs validators would stop at the first). Every number also has the range
    of the type it ends up in, checked for every config, third-party ones included: a
    ``float`` lies within float32 (it becomes a tensor or a torch scalar), an ``int`` within
    int64. Give a seed ``le=SEED_MAX``.
    """
    metadata = {"help": help, "ge": ge, "gt": gt, "le": le, "lt": lt}
    if factory is not None:
        return attrs.field(factory=factory, metadata=metadata)
    return attrs.field(default=default, metadata=metadata)


@attrs.frozen
class NoConfig:
    """Parameters of a component that takes none."""


@attrs.frozen
class Provider:
    """Who provided a component: the plugin, and the distribution and version behind it."""

    plugin: str
    distribution: str | None = None
    version: str | None = None

    def __str__(self) -> str:
        if self.distribution:
            return f"{self.plugin} ({self.distribution} {self.version or ''})".replace(" )", ")")
        return self.plugin


def _check_name(instance: Any, attribute: attrs.Attribute, value: str) -> None:
    if not isinstance(value, str) or not _NAME.match(value):
        raise ValueError(
            f"component name {value!r} must be lower-case letters, digits and '_', "
            "starting with a letter"
        )


def _check_config(instance: Any, attribute: attrs.Attribute, value: type) -> None:
    if not (isinstance(value, type) and attrs.has(value)):
        raise TypeError(f"config of {instance.name!r} must be an attrs class, got {value!r}")


@attrs.frozen(kw_only=True)
class ComponentSpec:
    """Base of every component record. ``kind`` is fixed per subclass."""

    kind: ClassVar[str] = "component"
    name: str = attrs.field(validator=_check_name)
    summary: str
    factory: Callable[..., Any] | str
    config: type = attrs.field(default=NoConfig, validator=_check_config)
    provider: Provider | None = None

    def load_factory(self) -> Callable[..., Any]:
        """The factory, importing ``"module:attr"`` references on first use."""
        if callable(self.factory):
            return self.factory
        module_name, _, attr = self.factory.partition(":")
        obj: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
        return obj

    def build(self, config: Any, *args: Any, **kwargs: Any) -> Any:
        return self.load_factory()(config, *args, **kwargs)


def _names(instance: Any, attribute: attrs.Attribute, value: tuple[str, ...]) -> None:
    for item in value:
        if not isinstance(item, str) or not _NAME.match(item):
            raise ValueError(f"{attribute.name} of {instance.name!r}: {item!r} is not a name")


@attrs.frozen(kw_only=True)
class BackboneSpec(ComponentSpec):
    """``factory(config, image_shape=(C, H, W), latent_dim=int, num_classes=int) ->
    ganzoo.system.Backbone``; ``num_classes`` is 0 for unconditional models, and a backbone
    that cannot condition on labels rejects a positive one with a ``ValueError``."""

    kind: ClassVar[str] = "backbone"


@attrs.frozen(kw_only=True)
class LatentCodeSpec(ComponentSpec):
    """``factory(config) -> ganzoo.latent.LatentCode``."""

    kind: ClassVar[str] = "latent_code"


@attrs.frozen(kw_only=True)
class LossSpec(ComponentSpec):
    """``factory(config) -> ganzoo.step.AdversarialLoss``."""

    kind: ClassVar[str] = "loss"


@attrs.frozen(kw_only=True)
class OptimizerSpec(ComponentSpec):
    """``factory(config, params) -> torch.optim.Optimizer``."""

    kind: ClassVar[str] = "optimizer"


@attrs.frozen(kw_only=True)
class ScheduleSpec(ComponentSpec):
    """Learning-rate schedule: ``factory(config, total_steps) -> Callable[[int], float]``,
    the multiplier of every optimiser's base learning rate at a step."""

    kind: ClassVar[str] = "schedule"


@attrs.frozen(kw_only=True)
class StepSpec(ComponentSpec):
    """A training step: ``factory(config, StepBuild) -> ganzoo.step.TrainingStep``.

    Declared here, so recipes are checked without importing the step: ``optimizer_roles``
    (one ``train.optimizer.<role>`` table each), ``provides`` (what its phases offer to loss
    terms, e.g. ``"adversarial"``, ``"posterior"``) and ``check``, an optional
    ``check(config, recipe) -> [(dotted key, message)]`` for mistakes that involve other
    tables (a regularised code with no network to recover it, say)."""

    kind: ClassVar[str] = "step"
    optimizer_roles: tuple[str, ...] = attrs.field(
        default=("generator", "discriminator"), converter=tuple, validator=_names
    )
    provides: tuple[str, ...] = attrs.field(default=("adversarial",), converter=tuple, validator=_names)
    check: Callable[..., Any] | None = None


@attrs.frozen(kw_only=True)
class TermSpec(ComponentSpec):
    """A loss term a step adds to its phases: ``factory(config, TermBuild) ->
    ganzoo.step.LossTerm``. ``needs`` names what the step must provide (see ``StepSpec``);
    ``check`` as for steps."""

    kind: ClassVar[str] = "term"
    needs: tuple[str, ...] = attrs.field(default=("adversarial",), converter=tuple, validator=_names)
    check: Callable[..., Any] | None = None


@attrs.frozen(kw_only=True)
class AugmentationSpec(ComponentSpec):
    """``factory(config) -> torch.nn.Module`` mapping images ``[B, C, H, W]`` to augmented
    images of the same shape, differentiably; the discriminator applies it to every input
    while training (``[model.augmentation]``). Random draws use the global torch generator,
    which checkpoints hold, so resume stays exact."""

    kind: ClassVar[str] = "augmentation"


@attrs.frozen(kw_only=True)
class DatasetSpec(ComponentSpec):
    """``factory(config, root=Path, split="train"|"test", download=bool) -> ganzoo.data.ImageData``."""

    kind: ClassVar[str] = "dataset"


@attrs.frozen(kw_only=True)
class MetricSpec(ComponentSpec):
    """``factory(config) -> ganzoo.evaluation.Metric``; ``summary_keys``: the headline
    numbers it contributes to an evaluation report's summary."""

    kind: ClassVar[str] = "metric"
    summary_keys: tuple[str, ...] = attrs.field(default=(), converter=tuple)


def _recipe_minutes(instance: Any, attribute: attrs.Attribute, value: float | None) -> None:
    if value is not None and not value > 0:
        raise ValueError(f"minutes of recipe {instance.name!r} must be > 0 or None, got {value!r}")


@attrs.frozen(kw_only=True)
class RecipeSpec(ComponentSpec):
    """A recipe a plugin ships, runnable by name (``ganzoo run NAME``).

    ``source`` says where its TOML is: ``"package:relative/path.toml"`` (a package resource,
    so it works from an installed wheel) or a file path. ``data``: the data it needs (a
    dataset name, or what to download); ``minutes``: how long a full run takes on the
    machine the plugin author measured (None: not measured). Recipes are read, never built:
    ``factory`` is unused."""

    kind: ClassVar[str] = "recipe"
    source: str
    data: str = ""
    minutes: float | None = attrs.field(default=None, validator=_recipe_minutes)
    factory: Callable[..., Any] | str | None = None

    def read_text(self) -> str:
        """The recipe's TOML text (``OSError`` if the resource is missing)."""
        return self.locate().read_text(encoding="utf-8")

    def locate(self) -> Any:
        """A ``Traversable`` (or ``Path``) for ``source``."""
        from importlib.resources import files
        from pathlib import Path

        package, sep, relative = self.source.partition(":")
        if sep and all(part.isidentifier() for part in package.split(".")):
            return files(package).joinpath(relative)
        return Path(self.source)


@attrs.frozen
class Kind:
    """One component kind: its record type, its registration hook and the words for it."""

    name: str
    spec: type[ComponentSpec]
    plural: str
    summary: str
    aliases: tuple[str, ...] = ()

    @property
    def hook(self) -> str:
        return f"ganzoo_{self.plural}"

    @property
    def label(self) -> str:
        return self.name.replace("_", " ")

    def words(self) -> set[str]:
        """What a user may type for this kind (``ganzoo components codes``)."""
        out = {self.name, self.plural, *self.aliases}
        return out | {w.replace("_", "-") for w in out}


KINDS: tuple[Kind, ...] = (
    Kind("backbone", BackboneSpec, "backbones",
         "generator/discriminator-trunk pairs, built for an image shape and latent width"),
    Kind("latent_code", LatentCodeSpec, "latent_codes",
         "latent-code distributions (noise or codes a step recovers)", ("code", "codes")),
    Kind("loss", LossSpec, "losses", "adversarial losses"),
    Kind("optimizer", OptimizerSpec, "optimizers", "optimisers, one per optimiser role"),
    Kind("schedule", ScheduleSpec, "schedules", "learning-rate schedules"),
    Kind("step", StepSpec, "steps",
         "training steps: which networks, which phases, which optimiser roles", ("training_step",)),
    Kind("term", TermSpec, "terms",
         "loss terms a recipe adds to a step's phases (penalties, regularisers)", ("loss_term",)),
    Kind("augmentation", AugmentationSpec, "augmentations",
         "differentiable augmentations of every image D sees, real and generated (DiffAugment)"),
    Kind("dataset", DatasetSpec, "datasets", "image datasets"),
    Kind("metric", MetricSpec, "metrics", "evaluation metrics for trained systems"),
    Kind("recipe", RecipeSpec, "recipes", "ready-made recipes, runnable by name"),
)
"""Every component kind, in one place: hook specifications, exports, CLI words and recipe
tables are all derived from this table."""

KIND_BY_NAME: dict[str, Kind] = {k.name: k for k in KINDS}
SPEC_TYPES: dict[str, type[ComponentSpec]] = {k.name: k.spec for k in KINDS}
KIND_HOOKS: dict[str, str] = {k.name: k.hook for k in KINDS}
