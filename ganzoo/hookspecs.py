"""Hook specifications: the whole contract between ganzoo and its plugins.

Registration hooks return iterables of typed specs (``ganzoo.specs``); a plugin implements any
subset. There is one per component kind, named ``ganzoo_<plural>`` and made from the table
``ganzoo.specs.KINDS`` (so a new kind is one row there):

    ganzoo_backbones, ganzoo_latent_codes, ganzoo_losses, ganzoo_optimizers,
    ganzoo_schedules, ganzoo_steps, ganzoo_terms, ganzoo_augmentations, ganzoo_datasets,
    ganzoo_metrics, ganzoo_recipes (ready-made recipes, runnable by name)

Lifecycle hooks let loggers and notifiers follow a run; none is called inside the per-step
hot loop (scalars arrive every ``train.log_every`` steps).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pluggy

from ganzoo.specs import KINDS, Kind

hookspec = pluggy.HookspecMarker("ganzoo")


def _registration_hook(kind: Kind) -> Callable[[], Any]:
    def hook() -> Any: ...

    hook.__name__ = hook.__qualname__ = kind.hook
    hook.__doc__ = f"{kind.summary[0].upper()}{kind.summary[1:]}: an iterable of {kind.spec.__name__}."
    return hookspec(hook)


for _kind in KINDS:
    globals()[_kind.hook] = _registration_hook(_kind)
del _kind


@hookspec
def ganzoo_run_start(run_dir: Path, recipe: dict[str, Any], step: int) -> None:
    """A training run starts (``step`` 0) or resumes (from checkpoint ``step``) in ``run_dir``
    with this resolved recipe. An implementation may take any subset of the arguments."""


@hookspec
def ganzoo_log_scalars(run_dir: Path, step: int, scalars: dict[str, float]) -> None:
    """Scalars the run logs at ``step``: every ``train.log_every`` steps the losses and
    statistics averaged over the interval (``loss/<role>/<name>``, ``d_output/...``,
    ``learning_rate/<role>``, ``speed/images_per_second``, the step's own tags), and every
    ``train.eval_every`` steps the step's in-training evaluation (``eval/<tag>``)."""


@hookspec
def ganzoo_images_saved(run_dir: Path, step: int, paths: list[Path]) -> None:
    """Sample and traversal grids were written as PNGs (every ``train.sample_every`` steps)."""


@hookspec
def ganzoo_evaluated(run_dir: Path, step: int, report: dict[str, Any], path: Path | None) -> None:
    """``ganzoo eval`` (or ``ganzoo.api.evaluate``) measured the checkpoint of ``step``;
    ``report`` is its JSON-ready report, saved at ``path`` when it was written to a file."""


@hookspec
def ganzoo_checkpoint_saved(run_dir: Path, step: int, path: Path) -> None:
    """A checkpoint was written completely (atomically) to ``path``."""


@hookspec
def ganzoo_run_end(run_dir: Path, step: int, status: str) -> None:
    """A run ended: ``status`` is ``"completed"``, ``"interrupted"`` or ``"failed"``."""
