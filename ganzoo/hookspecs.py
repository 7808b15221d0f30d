"""Hook specifications: the whole contract between ganzoo and its plugins.

Registration hooks return iterables of typed specs (``ganzoo.specs``); a plugin implements any
subset. Lifecycle hooks let loggers and notifiers follow a run; none is called inside the
per-step hot loop (scalars arrive every ``train.log_every`` steps).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pluggy

from ganzoo.specs import (
    BackboneSpec,
    DatasetSpec,
    LatentCodeSpec,
    LossSpec,
    MetricSpec,
    OptimizerSpec,
    ScheduleSpec,
)

hookspec = pluggy.HookspecMarker("ganzoo")


@hookspec
def ganzoo_backbones() -> Iterable[BackboneSpec]:
    """Generator/discriminator-trunk pairs, built for an image shape and latent width."""


@hookspec
def ganzoo_latent_codes() -> Iterable[LatentCodeSpec]:
    """Latent-code distributions (noise or InfoGAN codes)."""


@hookspec
def ganzoo_losses() -> Iterable[LossSpec]:
    """Adversarial losses."""


@hookspec
def ganzoo_optimizers() -> Iterable[OptimizerSpec]:
    """Optimisers for the generator and discriminator."""


@hookspec
def ganzoo_schedules() -> Iterable[ScheduleSpec]:
    """Learning-rate schedules."""


@hookspec
def ganzoo_datasets() -> Iterable[DatasetSpec]:
    """Image datasets."""


@hookspec
def ganzoo_metrics() -> Iterable[MetricSpec]:
    """Evaluation metrics for trained systems."""


@hookspec
def ganzoo_run_start(run_dir: Path, recipe: dict[str, Any]) -> None:
    """A training run starts (or resumes) in ``run_dir`` with this resolved recipe."""


@hookspec
def ganzoo_log_scalars(run_dir: Path, step: int, scalars: dict[str, float]) -> None:
    """Scalars averaged over the last logging interval (every ``train.log_every`` steps)."""


@hookspec
def ganzoo_checkpoint_saved(run_dir: Path, step: int, path: Path) -> None:
    """A checkpoint was written completely (atomically) to ``path``."""


@hookspec
def ganzoo_run_end(run_dir: Path, step: int, status: str) -> None:
    """A run ended: ``status`` is ``"completed"``, ``"interrupted"`` or ``"failed"``."""
