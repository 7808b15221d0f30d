"""``ganzoo run``: from a recipe (or a run to resume) to a finished run directory."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import click
import torch

from ganzoo import checkpoint as ckpt
from ganzoo.data import resolve_data_root
from ganzoo.errors import TrainingError, UserError
from ganzoo.recipe import Recipe, resolve, write_recipe
from ganzoo.runtime import distributed_from_env, process_group, resolve_device
from ganzoo.session import check_resume_overrides, open_recipe, open_saved_recipe


def default_run_dir(name: str) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in name)
    return Path("runs") / f"{safe}-{stamp}"


@attrs.frozen
class RunResult:
    """Where a run lives and how far it got; ``scalars``: the last logged values."""

    run_dir: Path
    step: int
    scalars: dict[str, float]
    dry_run: bool = False


def with_data_root(recipe: Recipe) -> Recipe:
    """``recipe`` with ``data.root`` set to the absolute folder the data is read from now, so
    ``--resume`` finds it again without ``$GANZOO_DATA_ROOT`` (an explicit root is kept)."""
    settings = recipe.data.settings
    if settings.root:
        return recipe
    root = str(resolve_data_root("").absolute())
    data = attrs.evolve(recipe.data, settings=attrs.evolve(settings, root=root))
    return attrs.evolve(recipe, data=data)


def start_run(
    *,
    recipe: str | Path | None,
    overrides: Sequence[str],
    plugin_options: Sequence[str],
    strict_plugins: bool,
    out: Path | None,
    device_name: str,
    resume: Path | None,
    overwrite: bool,
    dry_run: bool,
    progress: bool = True,
) -> RunResult:
    """Train a recipe (file or registered name) or resume a run; raises
    ``ganzoo.training.Interrupted`` (after saving a checkpoint) on SIGINT/SIGTERM."""
    from ganzoo.training import Interrupted, Trainer, prepare_run_dir

    dist_info = distributed_from_env()
    device = resolve_device(device_name)
    if dist_info.enabled and device.type == "cuda":
        device = torch.device("cuda", dist_info.local_rank)
        torch.cuda.set_device(device)
    payload = None
    if resume is not None:
        run_dir = Path(resume)
        if not run_dir.is_dir():
            raise UserError(f"--resume {run_dir}: no such run directory")
        if dist_info.is_main:  # what a killed write left behind
            ckpt.remove_stale_temporaries(run_dir)
        path, payload, warnings = ckpt.newest_valid_checkpoint(run_dir)
        for warning in warnings:
            click.secho(f"warning: {warning}", err=True, fg="yellow")
        session = open_saved_recipe(
            payload, str(run_dir / "recipe.toml"), overrides, plugin_options, strict=strict_plugins
        )
        # Compare against the saved recipe resolved by *this* ganzoo without overrides, so
        # options added since the run started (their defaults keep the old behaviour) do not
        # read as changes; only what the user overrides now is checked.
        source = str(run_dir / "recipe.toml")
        baseline = resolve(payload["recipe"], session.registry, source=source)
        check_resume_overrides(baseline.to_dict(), session.recipe.to_dict(), source)
        if dist_info.is_main:
            click.echo(f"resuming {run_dir} from {path.name} (step {payload['step']})", err=True)
    else:
        assert recipe is not None
        session = open_recipe(recipe, overrides, plugin_options, strict=strict_plugins)
        run_dir = Path(out) if out is not None else default_run_dir(session.recipe.name)
        session.recipe = with_data_root(session.recipe)
    for note in session.notes:
        click.secho(f"note: {note}", err=True, fg="yellow")

    if dry_run:
        from ganzoo.data import load_dataset
        from ganzoo.system import build_system

        data = load_dataset(session.recipe, session.registry, "train")
        system = build_system(session.recipe, session.registry, data.shape, data.num_classes)
        sizes = ", ".join(
            f"{name} {sum(p.numel() for p in network.parameters()):,}"
            for name, network in system.networks.items()
        )
        click.echo(
            f"dry run ok: {len(data)} images {data.shape}, parameters: {sizes}; "
            f"latent width {system.latent.width}"
        )
        return RunResult(Path(run_dir), 0, {}, dry_run=True)

    with process_group(dist_info, device):
        if resume is None and dist_info.is_main:
            prepare_run_dir(run_dir, overwrite=overwrite)
            try:
                write_recipe(session.recipe, run_dir / "recipe.toml")
            except OSError as exc:
                raise UserError(f"--out {run_dir}: cannot write recipe.toml ({exc.strerror or exc})") from None
        if dist_info.enabled:
            import torch.distributed as dist

            dist.barrier()
        trainer = Trainer(
            session.recipe,
            session.registry,
            run_dir,
            device,
            hooks=session.plugins.hook,
            dist_info=dist_info,
        )
        if payload is not None:
            trainer.load_state_dict(payload, str(path))
        if dist_info.is_main:
            click.echo(
                f"run {run_dir} | {session.recipe.name} | device {device} | "
                f"{trainer.settings.steps} steps of batch {session.recipe.data.settings.batch_size}",
                err=True,
            )
        reporter = ProgressReporter(trainer, enabled=dist_info.is_main and progress)
        try:
            with reporter:
                last = trainer.fit(on_step=reporter.update)
        except OSError as exc:  # a full disk while writing images or events (checkpoint
            # writes say so themselves)
            reporter.stop()
            earlier = (
                "earlier checkpoints are intact" if ckpt.list_checkpoints(run_dir)
                else "no checkpoint was written yet"
            )
            raise TrainingError(
                f"could not write to {run_dir} at step {trainer.step}: {exc.strerror or exc}; {earlier}"
            ) from None
        except Interrupted as exc:
            reporter.stop()
            where = f" at {exc.path}" if exc.path else ""
            click.secho(
                f"stopped by {exc}; checkpoint saved{where} (step {trainer.step}).\n"
                f"resume with: ganzoo run --resume {run_dir}",
                err=True,
                fg="yellow",
            )
            raise
        if dist_info.is_main:
            click.echo(f"done: {run_dir} (step {trainer.step}); view with: tensorboard --logdir {run_dir}", err=True)
        return RunResult(Path(run_dir), trainer.step, last)


class ProgressReporter:
    """A rich progress bar (images/s and ETA) on a terminal, else one line per log step."""

    def __init__(self, trainer: Any, enabled: bool = True):
        self.trainer = trainer
        self.enabled = enabled
        self.total = trainer.settings.steps
        self.batch = trainer.images_per_step
        self.labels = trainer.step_impl.progress_labels
        self.start_step = trainer.step
        self.start_time = time.perf_counter()
        self.interactive = enabled and sys.stderr.isatty()
        self._progress = None
        self._task = None

    def __enter__(self) -> ProgressReporter:
        self.start_time = time.perf_counter()
        if self.interactive:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                TextColumn("[bold]train"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[speed]} img/s"),
                TextColumn("{task.fields[info]}"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
            )
            self._progress.start()
            self._task = self._progress.add_task(
                "train", total=self.total, completed=self.trainer.step, speed="-", info=""
            )
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def _speed(self, step: int) -> float:
        elapsed = time.perf_counter() - self.start_time
        return (step - self.start_step) * self.batch / elapsed if elapsed > 0 else 0.0

    def update(self, step: int, logged: dict[str, float] | None) -> None:
        if not self.enabled:
            return
        info = ""
        if logged:
            parts = [
                f"D {logged.get('loss/discriminator/total', float('nan')):.3f}",
                f"G {logged.get('loss/generator/total', float('nan')):.3f}",
            ]
            parts += [
                f"{label}[{tag[len(prefix):]}] {value:.2f}"
                for prefix, label in self.labels.items()
                for tag, value in logged.items()
                if tag.startswith(prefix)
            ]
            info = " ".join(parts)
        if self._progress is not None:
            fields: dict[str, Any] = {"speed": f"{self._speed(step):.0f}"}
            if info:
                fields["info"] = info
            self._progress.update(self._task, completed=step, **fields)
        elif logged is not None:
            speed = self._speed(step)
            remaining = (self.total - step) * self.batch / speed if speed else float("nan")
            click.echo(
                f"step {step}/{self.total} | {speed:.0f} img/s | ETA {_duration(remaining)} | {info}",
                err=True,
            )


def _duration(seconds: float) -> str:
    if seconds != seconds:  # NaN
        return "?"
    seconds = int(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s"
