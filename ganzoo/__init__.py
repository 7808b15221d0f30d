"""ganzoo: a plugin-based, modular GAN zoo for PyTorch.

Components (backbones, latent codes, losses, optimisers, schedules, datasets, metrics)
come from plugins; recipes (TOML) combine them; the core trains, logs and checkpoints.
"""

from importlib.metadata import PackageNotFoundError, version

import pluggy

try:
    __version__ = version("torch-ganzoo")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

hookimpl = pluggy.HookimplMarker("ganzoo")
"""Marker for plugin hook implementations: ``@hookimpl def ganzoo_latent_codes(): ...``."""

from ganzoo.specs import (  # noqa: E402  (hookimpl must exist before plugins import us)
    BackboneSpec,
    DatasetSpec,
    LatentCodeSpec,
    LossSpec,
    MetricSpec,
    OptimizerSpec,
    ScheduleSpec,
    param,
)

__all__ = [
    "BackboneSpec",
    "DatasetSpec",
    "LatentCodeSpec",
    "LossSpec",
    "MetricSpec",
    "OptimizerSpec",
    "ScheduleSpec",
    "__version__",
    "hookimpl",
    "param",
]
