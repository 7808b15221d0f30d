"""The training loop: wiring a recipe's parts together, then step, log, sample, checkpoint.

What one step does belongs to the recipe's training step (a plugin, ``ganzoo.step``); the
loop owns learning rates, the step context (backward, AMP scaler, gradient averaging
across processes), scalars and their non-finite checks (``ganzoo.scalars``), image grids,
in-training evaluation, checkpoints of every named network (``ganzoo.run_state``), exact
resume, rollback, signals and lifecycle hooks.

Scalars stay on the device and are summed there; they reach the host once per
``log_every`` steps, so logging adds no per-step synchronisation.
"""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ganzoo import checkpoint as ckpt
from ganzoo import run_state
from ganzoo.building import build_component
from ganzoo.data import ImageData, InMemoryBatches, load_dataset
from ganzoo.errors import UserError
from ganzoo.images import class_grid, sample_grid, traversal_grids
from ganzoo.recipe import Recipe
from ganzoo.runtime import Distributed, autocast_context, check_precision, seed_everything
from ganzoo.scalars import NonFiniteLoss, ScalarLog
from ganzoo.step import StepContext, lazy_ratio
from ganzoo.system import GANSystem, build_system


class Interrupted(Exception):
    """SIGINT/SIGTERM arrived; a checkpoint was saved."""

    def __init__(self, signum: int, path: Path | None):
        self.signum, self.path = signum, path
        super().__init__(signal.Signals(signum).name)


def component_provenance(recipe: Recipe, registry: Any) -> dict[str, dict[str, str]]:
    """For each component the recipe uses: the plugin, distribution and version behind it."""
    out = {}
    for path, kind, name in recipe.components():
        spec = registry.find(kind, name)
        provider = spec.provider if spec is not None else None
        out[path] = {
            "kind": kind,
            "name": name,
            "plugin": provider.plugin if provider else "",
            "distribution": (provider.distribution or "") if provider else "",
            "version": (provider.version or "") if provider else "",
        }
    return out


class Trainer:
    """Trains one recipe in one run directory. Build it, then call ``fit()``."""

    def __init__(
        self,
        recipe: Recipe,
        registry: Any,
        run_dir: Path,
        device: torch.device,
        *,
        hooks: Any = None,
        dist_info: Distributed | None = None,
        progress: Callable[..., Any] | None = None,
        data: ImageData | None = None,
    ):
        self.recipe = recipe
        self.registry = registry
        self.run_dir = Path(run_dir)
        self.device = device
        self.hooks = hooks
        self.dist = dist_info or Distributed()
        self.progress = progress
        self.settings = settings = recipe.train
        check_precision(device, settings.precision)
        seed_everything(recipe.seed)  # identical initial weights on every process

        self.data = data if data is not None else load_dataset(recipe, registry, "train")
        self.system: GANSystem = build_system(recipe, registry, self.data.shape, self.data.num_classes)
        self.step_impl = self.system.step
        memory_format = torch.channels_last if settings.channels_last else None
        self.system.to(device, memory_format)
        if settings.sync_batchnorm and self.dist.enabled and device.type != "cuda":
            raise UserError("train.sync_batchnorm needs CUDA devices; on the CPU each process "
                            "keeps its own batch-norm statistics")
        if self.dist.enabled and settings.sync_batchnorm:
            for name, network in self.system.networks.items():
                self.system.networks[name] = nn.SyncBatchNorm.convert_sync_batchnorm(network)
        self.latent = self.system.latent

        seed_everything(recipe.seed + self.dist.rank)  # per-process streams from here on

        roles = registry.get("step", recipe.step.type).optimizer_roles
        self.role_parameters = {
            role: self.system.role_parameters(role) for role in roles
        }
        self.optimizers = {role: self._optimizer(role) for role in roles}
        self.base_lrs = {
            role: [g["lr"] for g in opt.param_groups] for role, opt in self.optimizers.items()
        }
        self.lr_factor = 1.0  # lowered by rollbacks after non-finite losses
        schedule_spec = registry.get("schedule", recipe.lr_schedule.type)
        self.lr_multiplier = build_component(
            schedule_spec, "train.lr_schedule", recipe.lr_schedule.config, settings.steps
        )
        if not callable(self.lr_multiplier):
            raise UserError(
                f"train.lr_schedule: schedule '{recipe.lr_schedule.type}' from "
                f"{schedule_spec.provider} returned {type(self.lr_multiplier).__name__}, "
                "expected a callable step -> multiplier"
            )
        self.scaler = torch.amp.GradScaler(device.type, enabled=settings.precision == "fp16")

        # Separate random streams: latent sampling (on the device, checkpointed) and the fixed
        # noise of the image grids (drawn once, never advancing the training streams).
        self.latent_generator = torch.Generator(device=device).manual_seed(
            recipe.seed * 7919 + 17 + self.dist.rank
        )
        grid_generator = torch.Generator(device=device).manual_seed(recipe.seed + 123_456)
        self.fixed_z = self.latent.sample(settings.sample_count, grid_generator, device)
        self.traversal_base = self.latent.sample(settings.traversal_rows, grid_generator, device)

        self.batches = InMemoryBatches(
            self.data.images.to(device),
            recipe.data.settings.batch_size,
            recipe.seed,
            labels=self._labels(),
            rank=self.dist.rank,
            world_size=self.dist.world_size,
        )
        self.images_per_step = self.step_impl.images_per_step(recipe.data.settings.batch_size)
        self.context = StepContext(
            networks=self._forward_networks(),
            latent=self.latent,
            batches=self.batches,
            batch_size=recipe.data.settings.batch_size,
            device=device,
            optimizers=self.optimizers,
            role_parameters=self.role_parameters,
            scaler=self.scaler,
            autocast=lambda: autocast_context(device, settings.precision),
            memory_format=torch.channels_last if settings.channels_last else torch.contiguous_format,
            latent_generator=self.latent_generator,
            average_gradients=self._average_gradients,
        )
        self.step = 0
        self.writer = None
        self._stop_signal: int | None = None
        self.scalars = ScalarLog(device)
        self.rollbacks = 0
        self.provenance = component_provenance(recipe, registry)
        self._eval_data: ImageData | None = None  # test split for train.eval_every (lazy)

    # -- construction helpers ------------------------------------------------------------
    def _optimizer(self, role: str) -> torch.optim.Optimizer:
        table = self.recipe.optimizers[role]
        spec = self.registry.get("optimizer", table.type)
        optimizer = build_component(
            spec, f"train.optimizer.{role}", table.config, self.role_parameters[role],
            expected=torch.optim.Optimizer, expected_name="a torch.optim.Optimizer",
        )
        ratio = lazy_ratio(self.system.terms, role)
        if ratio != 1.0:  # lazy regularisers take extra optimiser steps (StyleGAN2's mb_ratio)
            for group in optimizer.param_groups:
                group["lr"] *= ratio
                if "betas" in group:
                    group["betas"] = tuple(beta**ratio for beta in group["betas"])
        return optimizer

    def _labels(self) -> torch.Tensor | None:
        if not self.step_impl.uses_labels:
            return None  # unconditional steps never gather labels
        if self.data.labels is None:
            raise UserError(
                f"train.step: step '{self.recipe.step.type}' trains on labels, but dataset "
                f"'{self.recipe.data.type}' has none"
            )
        return self.data.labels.to(self.device)

    def _forward_networks(self) -> dict[str, nn.Module]:
        """The callables steps use in forwards: the networks, compiled with ``train.compile``.

        Multi-process runs average each role's gradients with one flat all-reduce after its
        backward (``_average_gradients``) instead of wrapping networks in DDP, whose reducer
        expects one forward per backward; GAN steps run D several times per phase."""
        networks = dict(self.system.networks)
        if self.settings.compile:
            mode = self.settings.compile_mode
            networks = {name: torch.compile(network, mode=mode) for name, network in networks.items()}
        return networks

    def _average_gradients(self, params: list[nn.Parameter]) -> None:
        """Average gradients over processes with one flat all-reduce."""
        if not self.dist.enabled:
            return
        import torch.distributed as dist

        grads = [p.grad for p in params if p.grad is not None]
        if not grads:
            return
        flat = torch.cat([g.reshape(-1) for g in grads])
        dist.all_reduce(flat)
        flat /= self.dist.world_size
        offset = 0
        for g in grads:
            g.copy_(flat[offset : offset + g.numel()].view_as(g))
            offset += g.numel()

    # -- one training step -----------------------------------------------------------------
    def _set_lrs(self, step: int) -> None:
        multiplier = self.lr_multiplier(step) * self.lr_factor
        for role, opt in self.optimizers.items():
            for group, base in zip(opt.param_groups, self.base_lrs[role], strict=True):
                group["lr"] = base * multiplier

    def train_step(self, step: int) -> dict[str, torch.Tensor]:
        """One training step of the recipe's step plugin; returns its detached scalars."""
        self._set_lrs(step)
        self.context.step = step
        self.step_impl.run(self.context)
        ema = self.system.ema
        if ema is not None and step >= self.settings.ema_start:
            ema.update_parameters(self.system.networks["generator"])
        return self.context.take_stats()

    # -- bookkeeping -------------------------------------------------------------------------
    def _flush_scalars(self, step: int, elapsed: float, images: int) -> dict[str, float]:
        scalars = self.scalars.means(self.dist.world_size)
        for role, opt in self.optimizers.items():
            scalars[f"learning_rate/{role}"] = opt.param_groups[0]["lr"]
        if elapsed > 0:
            scalars["speed/images_per_second"] = images * self.dist.world_size / elapsed
        if self.device.type == "cuda":  # the high-water mark so far, for sizing batches
            scalars["memory/max_allocated_mib"] = torch.cuda.max_memory_allocated(self.device) / 2**20
        if self.dist.is_main:
            for tag, value in scalars.items():
                self.writer.add_scalar(tag, value, step)
            self._call_hook("ganzoo_log_scalars", run_dir=self.run_dir, step=step, scalars=scalars)
        return scalars

    def _write_images(self, step: int) -> None:
        if not self.dist.is_main:
            return
        from torchvision.utils import save_image

        grid = sample_grid(self.system.generator, self.fixed_z)
        self.writer.add_image("samples/fixed_noise", grid, step)
        samples = self.run_dir / "samples"
        samples.mkdir(exist_ok=True)
        paths = [samples / f"step_{step:08d}.png"]
        save_image(grid, paths[0])
        if self.system.conditional:
            columns = min(len(self.fixed_z), 10)
            grid = class_grid(self.system.generator, self.fixed_z[:columns], self.system.num_classes)
            self.writer.add_image("samples/per_class", grid, step)
            paths.append(samples / f"per_class_step_{step:08d}.png")
            save_image(grid, paths[-1])
        span = tuple(self.settings.traversal_range)
        grids = traversal_grids(
            self.system.generator,
            self.latent,
            self.traversal_base,
            self.settings.traversal_steps,
            span,  # type: ignore[arg-type]
        )
        for tag, image in grids.items():
            self.writer.add_image(f"traversal/{tag}", image, step)
            paths.append(samples / f"traversal_{tag}_step_{step:08d}.png")
            save_image(image, paths[-1])
        self._call_hook("ganzoo_images_saved", run_dir=self.run_dir, step=step, paths=paths)

    def _call_hook(self, name: str, **kwargs: Any) -> None:
        if self.hooks is None:
            return
        try:
            getattr(self.hooks, name)(**kwargs)
        except (Exception, SystemExit) as exc:  # a broken logger plugin must not kill a long run
            print(f"warning: plugin hook {name} failed: {type(exc).__name__}: {exc}")

    # -- in-training evaluation (train.eval_every) ---------------------------------------------
    def _evaluate(self, step: int) -> None:
        """Log the step's ``evaluate_during_training`` numbers as ``eval/<tag>`` (main process).

        Uses its own random generator (same draws every time), never the training streams."""
        if not self.dist.is_main:
            return
        if self._eval_data is None:
            try:
                self._eval_data = load_dataset(self.recipe, self.registry, "test")
            except UserError as exc:
                print(f"warning: in-training evaluation without test data: {exc}")
                self._eval_data = ImageData(torch.zeros(0, *self.system.image_shape, dtype=torch.uint8))
        data = self._eval_data if len(self._eval_data) else None
        generator = torch.Generator(device=self.device).manual_seed(self.recipe.seed + 271_828)
        scalars = self.step_impl.evaluate_during_training(
            self.system, data, self.settings.eval_samples, generator
        )
        logged = {f"eval/{tag}": float(value) for tag, value in scalars.items()}
        for tag, value in logged.items():
            self.writer.add_scalar(tag, value, step)
        if logged:
            self._call_hook("ganzoo_log_scalars", run_dir=self.run_dir, step=step, scalars=logged)

    # -- checkpoints ---------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return run_state.capture(self)

    def load_state_dict(self, payload: dict[str, Any], source: str = "checkpoint") -> None:
        run_state.restore(self, payload, source)

    def save_checkpoint(self) -> Path | None:
        return run_state.save(self)

    # -- the loop ------------------------------------------------------------------------------
    def _open_writer(self) -> None:
        if self.dist.is_main and self.writer is None:
            from ganzoo.tensorboard import open_writer, write_layout

            # purge_step makes TensorBoard drop events a killed run logged after the
            # checkpoint we resumed from, so curves stay continuous.
            self.writer = open_writer(
                self.run_dir, purge_step=self.step + 1 if self.step else None
            )
            if self.step == 0:
                write_layout(self.writer, self.step_impl.tensorboard_layout())

    def _handle_signal(self, signum: int, frame: Any) -> None:
        self._stop_signal = signum

    def _should_stop(self) -> bool:
        """A signal arrived (on any process: all stop at the same step)."""
        if not self.dist.enabled:
            return self._stop_signal is not None
        import torch.distributed as dist

        flag = torch.tensor([self._stop_signal or 0], device=self.device)
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        self._stop_signal = int(flag.item()) or None
        return self._stop_signal is not None

    def fit(self, on_step: Callable[[int, dict[str, float] | None], None] | None = None) -> dict[str, float]:
        """Train until ``train.steps``; returns the last logged scalars."""
        settings = self.settings
        self._open_writer()
        if self.system.ema is not None and self.dist.is_main and self.step == 0:
            print(
                f"EMA of G: decay {settings.ema_decay:g} from step {max(settings.ema_start, 1)}; "
                "grids, in-training evaluation, eval and sample use the averaged weights"
                + (" with batch-norm statistics recomputed from its own samples"
                   if settings.ema_batch_norm == "recomputed" else "")
            )
        self._call_hook(
            "ganzoo_run_start", run_dir=self.run_dir, recipe=self.recipe.to_dict(), step=self.step
        )
        handlers = {}
        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                handlers[signum] = signal.signal(signum, self._handle_signal)
            except ValueError:  # not the main thread
                pass
        last: dict[str, float] = {}
        status = "failed"
        try:
            interval_start, interval_images = time.perf_counter(), 0
            check_every_step = self.device.type == "cpu" and not self.dist.enabled
            while self.step < settings.steps:
                step = self.step + 1
                stats = self.train_step(step)
                self.scalars.add(step, stats)
                interval_images += self.images_per_step
                self.step = step
                logged = None
                boundary = (
                    step % settings.log_every == 0
                    or step == settings.steps
                    or (settings.checkpoint_every and step % settings.checkpoint_every == 0)
                )
                try:
                    if check_every_step or boundary:
                        self.scalars.check_finite(self.dist.enabled)
                except NonFiniteLoss as exc:
                    if settings.on_nonfinite == "rollback" and self._rollback(exc):
                        interval_start, interval_images = time.perf_counter(), 0
                        continue
                    raise
                if boundary:
                    now = time.perf_counter()
                    last = self._flush_scalars(step, now - interval_start, interval_images)
                    logged = last
                    interval_start, interval_images = now, 0
                if settings.sample_every and (step % settings.sample_every == 0 or step == settings.steps):
                    self._write_images(step)
                if settings.eval_every and (step % settings.eval_every == 0 or step == settings.steps):
                    self._evaluate(step)
                if settings.checkpoint_every and step % settings.checkpoint_every == 0:
                    self.save_checkpoint()
                if on_step is not None:
                    on_step(step, logged)
                if self._should_stop():
                    path = self.save_checkpoint()
                    status = "interrupted"
                    raise Interrupted(self._stop_signal, path)
            if not (settings.checkpoint_every and self.step % settings.checkpoint_every == 0):
                self.save_checkpoint()
            status = "completed"
            return last
        finally:
            for signum, handler in handlers.items():
                signal.signal(signum, handler)
            if self.writer is not None:
                self.writer.flush()
            self._call_hook("ganzoo_run_end", run_dir=self.run_dir, step=self.step, status=status)
            if self.writer is not None:
                self.writer.close()
                self.writer = None

    def _rollback(self, exc: NonFiniteLoss) -> bool:
        """Reload the newest checkpoint with a lower learning rate; False if impossible."""
        if self.rollbacks >= 3 or not ckpt.list_checkpoints(self.run_dir):
            return False
        path, payload, _ = ckpt.newest_valid_checkpoint(self.run_dir, self.device)
        rollbacks = self.rollbacks + 1
        factor = self.lr_factor * self.settings.rollback_lr_factor
        self.load_state_dict(payload)
        self.rollbacks, self.lr_factor = rollbacks, factor
        self.scalars.reset()
        print(
            f"warning: {exc}; rolled back to {path.name} (step {self.step}) "
            f"with learning rates x{factor:g}"
        )
        if self.writer is not None:
            self.writer.close()
            self.writer = None
            self._open_writer()
        return True


RUN_MARKER = ".ganzoo-run"
"""Written into every run directory ganzoo creates, so ``--overwrite`` can tell a run from a
folder that only happens to be named like one."""

# What ganzoo writes into a run directory: top-level names, and for each folder it creates,
# the file names it puts there. --overwrite removes only these.
_RUN_FILES = re.compile(r"^(recipe\.toml|events\.out\.tfevents\..+|\..+\.tmp)$")
_RUN_FOLDERS = {
    "checkpoints": re.compile(r"^(step_\d{8}\.pt|\..+\.tmp)$"),
    "samples": re.compile(r"^.+\.(png|gif)$"),
    "eval": re.compile(r"^.+\.(png|gif|json)$"),
    "hparams": re.compile(r"^events\.out\.tfevents\..+$"),
}


def is_run_dir(folder: Path) -> bool:
    """A run directory: ganzoo's marker, or (runs made before it) a recipe with checkpoints."""
    folder = Path(folder)
    return (folder / RUN_MARKER).is_file() or (
        (folder / "recipe.toml").is_file() and (folder / "checkpoints").is_dir()
    )


def _remove_run_contents(run_dir: Path) -> list[str]:
    """Delete what ganzoo wrote in ``run_dir``; returns the names of what it left alone."""
    left = []
    for child in sorted(run_dir.iterdir()):
        if child.name == RUN_MARKER:
            continue
        if child.is_file() and _RUN_FILES.match(child.name):
            child.unlink()
        elif child.is_dir() and not child.is_symlink() and child.name in _RUN_FOLDERS:
            pattern = _RUN_FOLDERS[child.name]
            for item in child.iterdir():
                if item.is_file() and pattern.match(item.name):
                    item.unlink()
            if any(child.iterdir()):
                left.append(child.name + "/")
            else:
                child.rmdir()
        else:
            left.append(child.name)
    return left


def prepare_run_dir(run_dir: Path, *, overwrite: bool) -> None:
    """Create a fresh run directory; refuse an existing run unless ``overwrite``, and refuse
    a non-empty folder that is not a run (``--overwrite`` never deletes what ganzoo did not
    write)."""
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise UserError(f"--out {run_dir}: exists and is not a folder")
    if run_dir.is_dir() and any(run_dir.iterdir()):
        if not is_run_dir(run_dir):
            names = sorted(p.name for p in run_dir.iterdir())
            shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
            raise UserError(
                f"--out {run_dir}: the folder is not empty ({shown}) and is not a ganzoo run, "
                "so ganzoo will not write into it"
                + (" nor delete anything there" if overwrite else "")
                + "; choose a new or empty folder"
            )
        if not overwrite:
            raise UserError(
                f"--out {run_dir}: already holds a run; resume it with "
                f"'ganzoo run --resume {run_dir}', choose another --out, or pass --overwrite"
            )
        left = _remove_run_contents(run_dir)
        if left:
            print(f"note: --overwrite kept what ganzoo did not write in {run_dir}: {', '.join(left)}")
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        probe = run_dir / ".ganzoo-write-test"
        probe.write_bytes(b"")
        probe.unlink()
        (run_dir / RUN_MARKER).write_text("a ganzoo run directory (written by 'ganzoo run')\n")
    except OSError as exc:
        raise UserError(f"--out {run_dir}: cannot write there ({exc.strerror or exc})") from None
