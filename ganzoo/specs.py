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
    dotted path (attrs validators would stop at the first).
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


@attrs.frozen(kw_only=True)
class BackboneSpec(ComponentSpec):
    """``factory(config, image_shape=(C, H, W), latent_dim=int) -> ganzoo.model.Backbone``."""

    kind: ClassVar[str] = "backbone"


@attrs.frozen(kw_only=True)
class LatentCodeSpec(ComponentSpec):
    """``factory(config) -> ganzoo.latent.LatentCode``."""

    kind: ClassVar[str] = "latent_code"


@attrs.frozen(kw_only=True)
class LossSpec(ComponentSpec):
    """``factory(config) -> ganzoo.objective.AdversarialLoss``."""

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
class DatasetSpec(ComponentSpec):
    """``factory(config, root=Path, split="train"|"test", download=bool) -> ganzoo.data.ImageData``."""

    kind: ClassVar[str] = "dataset"


@attrs.frozen(kw_only=True)
class MetricSpec(ComponentSpec):
    """``factory(config) -> ganzoo.evaluation.Metric``."""

    kind: ClassVar[str] = "metric"


SPEC_TYPES: dict[str, type[ComponentSpec]] = {
    cls.kind: cls
    for cls in (
        BackboneSpec,
        LatentCodeSpec,
        LossSpec,
        OptimizerSpec,
        ScheduleSpec,
        DatasetSpec,
        MetricSpec,
    )
}
"""Every component kind and its record type; the registration hook is ``ganzoo_<kind>s``."""

KIND_HOOKS: dict[str, str] = {
    "backbone": "ganzoo_backbones",
    "latent_code": "ganzoo_latent_codes",
    "loss": "ganzoo_losses",
    "optimizer": "ganzoo_optimizers",
    "schedule": "ganzoo_schedules",
    "dataset": "ganzoo_datasets",
    "metric": "ganzoo_metrics",
}
