"""ganzoo from Python: train a recipe, load a run, draw samples and traversals, evaluate.

The command line is a thin layer over these functions (``ganzoo run`` calls :func:`train`,
``ganzoo sample`` :func:`load_run`, ``ganzoo eval`` :func:`evaluate`), so a notebook gets
exactly what the CLI does. Every mistake is a ``ganzoo.errors.UserError`` with the message
the CLI would print. Importing this module does no work; torch is imported on first use.

    from ganzoo import api
    result = api.train("smoke_infogan", overrides={"train.steps": 20}, out="runs/demo")
    run = api.load_run(result.run_dir)
    images = api.sample(run, n=16, codes={"digit": 2})        # [16, C, H, W] in [0, 1]
    sweeps = api.traverse(run, "style")                          # {label: [R, S, C, H, W]}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from ganzoo.errors import UserError

if TYPE_CHECKING:
    from torch import Tensor

    from ganzoo.engine import RunResult
    from ganzoo.system import GANSystem, LoadedRun


def override_strings(overrides: Mapping[str, Any] | Sequence[str] | None) -> list[str]:
    """``{"train.steps": 200}`` or ``["train.steps=200"]`` -> ``--set``-style strings."""
    if overrides is None:
        return []
    if isinstance(overrides, str):
        return [overrides]
    if isinstance(overrides, Mapping):
        import json

        out = []
        for key, value in overrides.items():
            if isinstance(value, Path):
                value = str(value)
            if isinstance(value, Mapping):
                raise UserError(
                    f"override {key}: give one key per value (e.g. '{key}.NAME'), not a table"
                )
            # JSON scalars and arrays are TOML too: the value as --set reads it back
            out.append(f"{key}={json.dumps(value)}")
        return out
    return [str(item) for item in overrides]


def train(
    recipe: str | Path | None,
    overrides: Mapping[str, Any] | Sequence[str] | None = None,
    out: str | Path | None = None,
    *,
    device: str = "auto",
    plugins: Sequence[str] = (),
    strict_plugins: bool = False,
    resume: str | Path | None = None,
    overwrite: bool = False,
    dry_run: bool = False,
    progress: bool = True,
) -> RunResult:
    """Train ``recipe`` (a TOML file or a registered name such as ``"infogan_dcgan"``) into
    ``out`` (default ``runs/NAME-TIMESTAMP``), or continue the run in ``resume``.

    ``overrides``: ``{"train.steps": 200}`` or ``["train.steps=200"]`` (``--set``). Returns
    the run directory, the final step and the last logged scalars. On SIGINT/SIGTERM a
    checkpoint is saved and ``ganzoo.training.Interrupted`` raised."""
    from ganzoo.engine import start_run

    return start_run(
        recipe=recipe,
        overrides=override_strings(overrides),
        plugin_options=tuple(plugins),
        strict_plugins=strict_plugins,
        out=Path(out) if out is not None else None,
        device_name=device,
        resume=Path(resume) if resume is not None else None,
        overwrite=overwrite,
        dry_run=dry_run,
        progress=progress,
    )


@attrs.define(eq=False)
class Run:
    """A trained run, rebuilt from its newest valid checkpoint (see :func:`load_run`)."""

    loaded: LoadedRun

    @property
    def system(self) -> GANSystem:
        return self.loaded.system

    @property
    def step(self) -> int:
        return self.loaded.step

    @property
    def checkpoint(self) -> Path:
        return self.loaded.checkpoint

    @property
    def run_dir(self) -> Path:
        return self.loaded.run_dir

    @property
    def recipe(self) -> Any:
        return self.loaded.recipe

    @property
    def weights(self) -> str:
        """Which generator weights sample: "ema" (the run's moving average of G) or "raw"."""
        return self.loaded.system.generator_weights

    @property
    def conditional(self) -> bool:
        """Whether the sampler draws given classes (``sampler(z, labels=None)``)."""
        from ganzoo.sampling import is_conditional

        return is_conditional(self.system)


def load_run(
    path: str | Path,
    device: str = "cpu",
    *,
    plugins: Sequence[str] = (),
    strict_plugins: bool = False,
    networks: Sequence[str] | None = None,
    weights: str = "auto",
    ema_batch_norm: str | None = None,
) -> Run:
    """Rebuild a run directory's newest valid checkpoint (damaged ones are skipped, with a
    warning in ``run.loaded.warnings``) or one ``.pt`` file, through
    ``ganzoo.system.load_system``; ``networks``: load only these (e.g. ``("generator",)``);
    ``weights``: the generator's moving average when the run kept one ("auto"), insist on
    it ("ema"), or G as trained ("raw"); ``ema_batch_norm``: "averaged" or "recomputed"
    statistics for the moving average (default: the run's ``train.ema_batch_norm``)."""
    from ganzoo.runtime import resolve_device
    from ganzoo.system import load_system

    loaded = load_system(
        path, resolve_device(device), plugins, strict=strict_plugins, only=networks,
        weights=weights, ema_batch_norm=ema_batch_norm,
    )
    return Run(loaded)


def _as_run(run: Run | str | Path) -> Run:
    return run if isinstance(run, Run) else load_run(run)


def _fixed_codes(run: Run, codes: Mapping[str, Any] | None) -> dict[str, Tensor]:
    """``{"digit": 3, "style": [0.5, -1]}`` -> the ``[width]`` blocks ``--code`` would give."""
    from ganzoo.sampling import parse_codes

    texts = []
    for name, value in (codes or {}).items():
        values = value.tolist() if hasattr(value, "tolist") else value
        if isinstance(values, (list, tuple)):
            text = ",".join(repr(float(v)) for v in values)
        else:
            text = str(values)
        texts.append(f"{name}={text}")
    return parse_codes(run.system.latent, texts)


def sample(
    run: Run | str | Path,
    n: int = 64,
    *,
    seed: int = 0,
    codes: Mapping[str, Any] | None = None,
    labels: int | Sequence[int] | None = None,
) -> Tensor:
    """``n`` images ``[n, C, H, W]`` in [0, 1] on the CPU. ``codes`` fixes codes (a category
    for a categorical code, a number or list for a continuous one; the rest is drawn with
    ``seed``, the same latents as ``ganzoo sample --seed``); ``labels``: one class, or one per
    image, for a class-conditional run (an error on an unconditional one)."""
    from ganzoo.sampling import check_labels, from_loaded_run, render, sample_latents

    if n < 1:
        raise UserError(f"n must be at least 1, got {n}")
    run = _as_run(run)
    view = from_loaded_run(run.loaded)
    z = sample_latents(view.latent, n, seed, _fixed_codes(run, codes))  # [n, D]
    return render(view, z, check_labels(view, labels, n))


def traverse(
    run: Run | str | Path,
    code: str,
    *,
    rows: int = 8,
    steps: int = 10,
    span: tuple[float, float] = (-2.0, 2.0),
    seed: int = 0,
    codes: Mapping[str, Any] | None = None,
    labels: int | Sequence[int] | None = None,
) -> dict[str, Tensor]:
    """Every sweep the code defines (``LatentCode.traversals``: all categories of a
    categorical code, each dimension of a continuous one, one angle of a von Mises code) ->
    ``{label: [rows, S, C, H, W]}`` in [0, 1]; row r keeps draw r, column s the s-th value."""
    from ganzoo.sampling import (
        Traverse,
        check_labels,
        from_loaded_run,
        parse_traverse,
        render,
        sweep_latents,
    )

    if rows < 1 or steps < 2:
        raise UserError(f"rows must be >= 1 and steps >= 2, got {rows} and {steps}")
    run = _as_run(run)
    view = from_loaded_run(run.loaded)
    fixed = _fixed_codes(run, codes)
    entry = parse_traverse(view.latent, code, fixed).entry
    out = {}
    for label, _ in entry.code.traversals(steps, span):
        plan = Traverse(entry, label)
        z, sweep = sweep_latents(view.latent, plan, rows, seed, fixed, steps, span)
        images = render(view, z, check_labels(view, labels, len(z)))  # [R * S, C, H, W]
        out[label] = images.reshape(rows, sweep.shape[0], *images.shape[1:])
    return out


def evaluate(
    run: Run | str | Path,
    *,
    metrics: Sequence[str] | None = None,
    samples: int = 5000,
    out_dir: str | Path | None = None,
    seed: int = 0,
    device: str = "cpu",
    plugins: Sequence[str] = (),
    writer: Any = None,
    log: Any = None,
) -> dict[str, Any]:
    """Run the evaluation metrics (default: all registered) and return the JSON-ready report
    (``ganzoo eval --json``); PNGs such as the confusion matrix go to ``out_dir``.

    When a metric needs data that cannot be loaded (no MNIST here), this raises one
    ``UserError`` saying where it looked, instead of a report of unavailable metrics; name
    metrics that need no data with ``metrics=[...]`` to run those alone. Plugins following
    runs are told (``ganzoo_evaluated``), e.g. to store the report in MLflow."""
    from ganzoo import evaluation

    loaded = run.loaded if isinstance(run, Run) else load_run(run, device, plugins=plugins).loaded
    for name in metrics or ():
        loaded.registry.get("metric", name)  # unknown names: a user error before any work
    context = evaluation.EvalContext(
        system=loaded.system,
        device=loaded.device,
        recipe=loaded.recipe,
        registry=loaded.registry,
        samples=samples,
        seed=seed,
        out_dir=Path(out_dir) if out_dir is not None else None,
        writer=writer,
        step=loaded.step,
        log=log,
    )
    report = evaluation.evaluate(
        loaded,
        metrics,
        samples,
        out_dir=out_dir,
        writer=writer,
        seed=seed,
        log=log,
        context=context,
    )
    if context.data_errors:
        needing = [n for n, info in report["metrics"].items() if info["status"] == "unavailable"]
        raise UserError(
            f"{next(iter(context.data_errors.values()))}\n"
            f"(needed by {', '.join(needing)}; run the others alone with --metric NAME)"
        )
    path = None
    if out_dir is not None:
        import json

        path = Path(out_dir) / f"eval_step_{loaded.step:08d}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2) + "\n")
    hook = getattr(loaded.plugins, "hook", None)
    if hook is not None:
        try:
            hook.ganzoo_evaluated(
                run_dir=loaded.run_dir, step=loaded.step, report=report, path=path
            )
        except Exception as exc:  # a broken tracker must not lose the report
            import sys

            print(
                f"warning: plugin hook ganzoo_evaluated failed: {type(exc).__name__}: {exc}",
                file=sys.stderr,
            )
    return report


__all__ = ["Run", "evaluate", "load_run", "override_strings", "sample", "train", "traverse"]
