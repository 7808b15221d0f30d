"""The training engine: phases, optimiser steps, logging, samples and checkpoints.

The objective computes loss terms; the trainer owns ``backward()``, optimiser steps, learning
rates, logging, image grids and checkpoints (stylegan2-ada's split). One step is: D phase(s)
on real and generated images, then a G phase on the *same* generated images (one generator
forward with gradients per step, shared by the adversarial and MI terms).

Scalars stay on the device and are summed there; they reach the host once per
``log_every`` steps, so logging adds no per-step synchronisation.
"""

from __future__ import annotations

import math
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

import ganzoo
from ganzoo import checkpoint as ckpt
from ganzoo.data import ImageData, InMemoryBatches, load_dataset
from ganzoo.errors import TrainingError, UserError
from ganzoo.images import sample_grid, traversal_grids
from ganzoo.model import GANSystem, build_system
from ganzoo.objective import InfoGANObjective
from ganzoo.recipe import Recipe
from ganzoo.runtime import Distributed, autocast_context, check_precision, seed_everything


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
        self.settings = recipe.train
        check_precision(device, self.settings.precision)
        seed_everything(recipe.seed)  # identical initial weights on every process

        self.data = data if data is not None else load_dataset(recipe, registry, "train")
        self.system: GANSystem = build_system(recipe, registry, self.data.shape)
        memory_format = torch.channels_last if self.settings.channels_last else None
        self.system.to(device, memory_format)
        self.generator: nn.Module = self.system.generator
        self.discriminator = self.system.discriminator
        self.latent = self.system.latent
        if self.settings.sync_batchnorm and self.dist.enabled and device.type != "cuda":
            raise UserError("train.sync_batchnorm needs CUDA devices; on the CPU each process "
                            "keeps its own batch-norm statistics")
        if self.dist.enabled and self.settings.sync_batchnorm:
            self.generator = nn.SyncBatchNorm.convert_sync_batchnorm(self.generator)
            self.discriminator = nn.SyncBatchNorm.convert_sync_batchnorm(self.discriminator)
            self.system.generator, self.system.discriminator = self.generator, self.discriminator

        seed_everything(recipe.seed + self.dist.rank)  # per-process streams from here on

        loss_spec = registry.get("loss", recipe.loss.type)
        self.objective = InfoGANObjective(
            loss_spec.build(recipe.loss.config),
            self.latent,
            gradient_penalty=recipe.loss.settings.gradient_penalty,
            q_optimizer=recipe.q_head.optimizer,
            trains_trunk=recipe.q_head.trains_trunk,
            real_data_augmentation=recipe.q_head.real_data_augmentation,
            augmentation_strength=recipe.q_head.real_data_augmentation_strength,
        )
        q_params = self.discriminator.q_parameters()
        d_params = self.discriminator.d_parameters()
        g_params = list(self.generator.parameters())
        if recipe.q_head.optimizer == "generator":
            g_params += q_params
        else:
            d_params += q_params
        self._d_owned_params = d_params
        # Frozen during G's phase: all of D, except Q's head when G's optimiser owns it.
        self._frozen_in_g_phase = (
            self.discriminator.d_parameters()
            if recipe.q_head.optimizer == "generator"
            else list(self.discriminator.parameters())
        )
        self._g_extra_params = q_params if recipe.q_head.optimizer == "generator" else []
        self.optimizers = {
            "generator": self._optimizer("generator", g_params),
            "discriminator": self._optimizer("discriminator", d_params),
        }
        self.base_lrs = {
            role: [g["lr"] for g in opt.param_groups] for role, opt in self.optimizers.items()
        }
        self.lr_factor = 1.0  # lowered by rollbacks after non-finite losses
        schedule_spec = registry.get("schedule", recipe.lr_schedule.type)
        self.lr_multiplier = schedule_spec.build(recipe.lr_schedule.config, self.settings.steps)
        self.scaler = torch.amp.GradScaler(
            device.type, enabled=self.settings.precision == "fp16"
        )

        # Separate random streams: latent sampling (on the device, checkpointed) and the fixed
        # noise of the image grids (drawn once, never advancing the training streams).
        self.latent_generator = torch.Generator(device=device).manual_seed(
            recipe.seed * 7919 + 17 + self.dist.rank
        )
        grid_generator = torch.Generator(device=device).manual_seed(recipe.seed + 123_456)
        self.fixed_z = self.latent.sample(self.settings.sample_count, grid_generator, device)
        self.traversal_base = self.latent.sample(self.settings.traversal_rows, grid_generator, device)

        self.batches = InMemoryBatches(
            self.data.images.to(device),
            recipe.data.settings.batch_size,
            recipe.seed,
            rank=self.dist.rank,
            world_size=self.dist.world_size,
        )
        self.step = 0
        self._g_forward, self._d_forward = self._wrap_models()
        self.writer = None
        self._stop_signal: int | None = None
        self._stat_names: list[str] | None = None
        self._stat_sum: Tensor | None = None
        self._stat_count = 0
        self._bad_step = torch.full((), -1, dtype=torch.long, device=device)
        self._bad_values: Tensor | None = None
        self.rollbacks = 0
        self.provenance = component_provenance(recipe, registry)
        self._eval_data: ImageData | None = None  # test split for train.eval_every (lazy)

    # -- construction helpers ------------------------------------------------------------
    def _optimizer(self, role: str, params: list[nn.Parameter]) -> torch.optim.Optimizer:
        table = self.recipe.optimizers[role]
        spec = self.registry.get("optimizer", table.type)
        return spec.build(table.config, params)

    def _wrap_models(self) -> tuple[nn.Module, nn.Module]:
        """The callables the step uses for G and D.

        Multi-process: G is wrapped in DistributedDataParallel (one forward with gradients and
        one backward per step). D runs several forwards per step (real, fake, gradient
        penalty, and G's phase where it is frozen), which DDP's reducer does not handle
        reliably, so D's gradients are averaged with one bucketed all-reduce after its
        backward instead (``_average_gradients``); the arithmetic is the same.
        """
        g, d = self.generator, self.discriminator
        if self.dist.enabled:
            from torch.nn.parallel import DistributedDataParallel as DDP

            ids = [self.device.index or 0] if self.device.type == "cuda" else None
            g = DDP(g, device_ids=ids)
        if self.settings.compile:
            g, d = torch.compile(g), torch.compile(d)
        return g, d

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

    def _backward_step(
        self, loss: Tensor, optimizer: torch.optim.Optimizer, average: list[nn.Parameter] = ()
    ) -> None:
        optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self._average_gradients(list(average))  # parameters DDP does not already average
        self.scaler.step(optimizer)
        self.scaler.update()

    def train_step(self, step: int) -> dict[str, Tensor]:
        """One generator update and its discriminator updates; returns detached scalars."""
        settings = self.settings
        batch = self.recipe.data.settings.batch_size
        self._set_lrs(step)
        autocast = autocast_context(self.device, settings.precision)
        stats: dict[str, Tensor] = {}
        memory_format = torch.channels_last if settings.channels_last else torch.contiguous_format

        # D phase(s). Only the last one generates with gradients: G's phase reuses it.
        for i in range(settings.discriminator_steps):
            real = self.batches.next().contiguous(memory_format=memory_format)
            z = self.latent.sample(batch, self.latent_generator, self.device)  # [B, D]
            last = i == settings.discriminator_steps - 1
            with autocast, torch.set_grad_enabled(last):
                fake = self._g_forward(z)  # [B, C, H, W]
            with autocast:
                d_terms, d_stats = self.objective.discriminator_terms(
                    self._d_forward, real, fake, z
                )
                d_total = sum(d_terms.values())
            self._backward_step(
                d_total, self.optimizers["discriminator"], self._d_owned_params
            )

        # G phase: D's own parameters are frozen so no gradient work is spent on them; Q's
        # head stays trainable when it belongs to G's optimiser.
        for p in self._frozen_in_g_phase:
            p.requires_grad_(False)
        try:
            with autocast:
                g_terms, g_stats = self.objective.generator_terms(self._d_forward, fake, z)
                g_total = sum(g_terms.values())
            # Q's head (generator mode) is not inside G's DDP wrapper: average it by hand.
            self._backward_step(g_total, self.optimizers["generator"], self._g_extra_params)
        finally:
            for p in self._frozen_in_g_phase:
                p.requires_grad_(True)

        for name, value in d_terms.items():
            stats[f"loss/discriminator/{name}"] = value.detach()
        stats["loss/discriminator/total"] = d_total.detach()
        for name, value in g_terms.items():
            stats[f"loss/generator/{name}"] = value.detach()
        stats["loss/generator/total"] = g_total.detach()
        stats.update({k: v.detach() for k, v in d_stats.items()})
        stats.update({k: v.detach() for k, v in g_stats.items()})
        return stats

    # -- bookkeeping -------------------------------------------------------------------------
    def _accumulate(self, step: int, stats: dict[str, Tensor]) -> None:
        if self._stat_names is None:
            self._stat_names = list(stats)
        values = torch.stack([stats[n].float() for n in self._stat_names])  # [S]
        if self._stat_sum is None:
            self._stat_sum = torch.zeros_like(values)
            self._bad_values = torch.zeros_like(values)
        self._stat_sum += values
        self._stat_count += 1
        # Remember the first step with a non-finite term without a host sync.
        newly_bad = (~torch.isfinite(values).all()) & (self._bad_step < 0)
        self._bad_step = torch.where(newly_bad, torch.full_like(self._bad_step, step), self._bad_step)
        self._bad_values = torch.where(newly_bad, values, self._bad_values)

    def _check_finite(self) -> None:
        if self.dist.enabled:  # every rank stops together
            import torch.distributed as dist

            dist.all_reduce(self._bad_step, op=dist.ReduceOp.MAX)
        bad_step = int(self._bad_step)
        if bad_step < 0:
            return
        values = self._bad_values.tolist()
        names = [n for n, v in zip(self._stat_names, values, strict=True) if not math.isfinite(v)]
        raise NonFiniteLoss(bad_step, names)

    def _flush_scalars(self, step: int, elapsed: float, images: int) -> dict[str, float]:
        if self.dist.enabled:  # log the mean over all processes
            import torch.distributed as dist

            dist.all_reduce(self._stat_sum)
            self._stat_sum /= self.dist.world_size
        means = (self._stat_sum / self._stat_count).tolist()
        scalars = dict(zip(self._stat_names, means, strict=True))
        for role, opt in self.optimizers.items():
            scalars[f"learning_rate/{role}"] = opt.param_groups[0]["lr"]
        if elapsed > 0:
            scalars["speed/images_per_second"] = images * self.dist.world_size / elapsed
        self._stat_sum.zero_()
        self._stat_count = 0
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
        save_image(grid, samples / f"step_{step:08d}.png")
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
            save_image(image, samples / f"traversal_{tag}_step_{step:08d}.png")

    def _call_hook(self, name: str, **kwargs: Any) -> None:
        if self.hooks is None:
            return
        try:
            getattr(self.hooks, name)(**kwargs)
        except Exception as exc:  # a broken logger plugin must not kill a long run
            print(f"warning: plugin hook {name} failed: {type(exc).__name__}: {exc}")

    # -- in-training evaluation (train.eval_every) ---------------------------------------------
    def _evaluate(self, step: int) -> None:
        """Log ``eval/...`` scalars from ``ganzoo.evaluation.quick_evaluate`` (main process).

        Uses its own random generator (same draws every time), never the training streams;
        the models' train/eval modes are restored by ``quick_evaluate``."""
        if not self.dist.is_main:
            return
        from ganzoo.evaluation import quick_evaluate

        if self._eval_data is None:
            try:
                self._eval_data = load_dataset(self.recipe, self.registry, "test")
            except UserError as exc:
                print(f"warning: in-training evaluation without test data: {exc}")
                self._eval_data = ImageData(torch.zeros(0, *self.system.image_shape, dtype=torch.uint8))
        data = self._eval_data
        generator = torch.Generator(device=self.device).manual_seed(self.recipe.seed + 271_828)
        scalars = quick_evaluate(
            self.system,
            data.images if len(data) else None,
            data.labels if len(data) else None,
            self.device,
            self.settings.eval_samples,
            generator,
        )
        for tag, value in scalars.items():
            self.writer.add_scalar(f"eval/{tag}", value, step)

    # -- checkpoints ---------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "models": {
                "generator": self.system.generator.state_dict(),
                "discriminator": self.system.discriminator.state_dict(),
            },
            "optimizers": {role: opt.state_dict() for role, opt in self.optimizers.items()},
            "scaler": self.scaler.state_dict(),
            "rng": ckpt.capture_rng_state(self.latent_generator),
            "latent_rng_per_rank": self._gather_latent_states(),
            "data": self.batches.state_dict(),
            "lr_factor": self.lr_factor,
            "rollbacks": self.rollbacks,
            "recipe": self.recipe.to_dict(),
            "components": self.provenance,
            "versions": {"ganzoo": str(ganzoo.__version__), "torch": str(torch.__version__)},
            "image_shape": list(self.system.image_shape),
        }

    def load_state_dict(self, payload: dict[str, Any]) -> None:
        self.system.generator.load_state_dict(payload["models"]["generator"])
        self.system.discriminator.load_state_dict(payload["models"]["discriminator"])
        for role, opt in self.optimizers.items():
            opt.load_state_dict(payload["optimizers"][role])
        if payload.get("scaler"):
            self.scaler.load_state_dict(payload["scaler"])
        self.batches.load_state_dict(payload["data"])
        self.lr_factor = float(payload.get("lr_factor", 1.0))
        self.rollbacks = int(payload.get("rollbacks", 0))
        self.step = int(payload["step"])
        ckpt.restore_rng_state(payload["rng"], self.latent_generator)
        per_rank = payload.get("latent_rng_per_rank") or []
        if len(per_rank) == self.dist.world_size:  # same launch shape: continue every stream
            self.latent_generator.set_state(per_rank[self.dist.rank].cpu())

    def _gather_latent_states(self) -> list[Tensor]:
        state = self.latent_generator.get_state()
        if not self.dist.enabled:
            return [state]
        import torch.distributed as dist

        states: list[Any] = [None] * self.dist.world_size
        dist.all_gather_object(states, state)
        return states

    def save_checkpoint(self) -> Path | None:
        payload = self.state_dict()  # every process takes part (it gathers RNG states)
        if not self.dist.is_main:
            return None
        path = ckpt.checkpoint_path(self.run_dir, self.step)
        try:
            ckpt.save_checkpoint(path, payload)
        except OSError as exc:
            raise TrainingError(
                f"could not write checkpoint {path}: {exc.strerror or exc}; "
                "earlier checkpoints are intact"
            ) from None
        ckpt.prune_checkpoints(self.run_dir, self.settings.keep_checkpoints)
        self._call_hook("ganzoo_checkpoint_saved", run_dir=self.run_dir, step=self.step, path=path)
        return path

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
                write_layout(self.writer, self.latent)

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
        self._call_hook("ganzoo_run_start", run_dir=self.run_dir, recipe=self.recipe.to_dict())
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
                self._accumulate(step, stats)
                interval_images += self.recipe.data.settings.batch_size * settings.discriminator_steps
                self.step = step
                logged = None
                boundary = (
                    step % settings.log_every == 0
                    or step == settings.steps
                    or (settings.checkpoint_every and step % settings.checkpoint_every == 0)
                )
                try:
                    if check_every_step or boundary:
                        self._check_finite()
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
        self._bad_step.fill_(-1)
        self._stat_sum = None
        self._stat_names = None
        self._stat_count = 0
        print(
            f"warning: {exc}; rolled back to {path.name} (step {self.step}) "
            f"with learning rates x{factor:g}"
        )
        if self.writer is not None:
            self.writer.close()
            self.writer = None
            self._open_writer()
        return True


class NonFiniteLoss(TrainingError):
    def __init__(self, step: int, terms: list[str]):
        self.step, self.terms = step, terms
        super().__init__(
            f"non-finite value at step {step} in {', '.join(terms) or 'a loss term'}; "
            "lower the learning rates, or set train.on_nonfinite = \"rollback\""
        )


def prepare_run_dir(run_dir: Path, *, overwrite: bool) -> None:
    """Create a fresh run directory; refuse an existing run unless ``overwrite``."""
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise UserError(f"--out {run_dir}: exists and is not a folder")
    if run_dir.is_dir() and any(run_dir.iterdir()):
        if not overwrite:
            raise UserError(
                f"--out {run_dir}: already holds a run; resume it with "
                f"'ganzoo run --resume {run_dir}', choose another --out, or pass --overwrite"
            )
        import shutil

        for child in run_dir.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        probe = run_dir / ".ganzoo-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UserError(f"--out {run_dir}: cannot write there ({exc.strerror or exc})") from None
