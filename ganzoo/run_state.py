"""What a checkpoint holds of a training run, and putting it back: every named network, every
optimiser, the AMP scaler, every random stream (per process), the data position, the step,
rollback state, the resolved recipe and who provided each component."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

import ganzoo
from ganzoo import checkpoint as ckpt
from ganzoo.errors import TrainingError

if TYPE_CHECKING:
    from ganzoo.training import Trainer


def capture(trainer: Trainer) -> dict[str, Any]:
    """The payload of a checkpoint (plain data: loads with ``weights_only=True``)."""
    return {
        "step": trainer.step,
        "models": trainer.system.state_dicts(),
        "optimizers": {role: opt.state_dict() for role, opt in trainer.optimizers.items()},
        "scaler": trainer.scaler.state_dict(),
        "rng": ckpt.capture_rng_state(trainer.latent_generator),
        "latent_rng_per_rank": _gather_latent_states(trainer),
        "data": trainer.batches.state_dict(),
        "lr_factor": trainer.lr_factor,
        "rollbacks": trainer.rollbacks,
        "recipe": trainer.recipe.to_dict(),
        "components": trainer.provenance,
        "versions": {"ganzoo": str(ganzoo.__version__), "torch": str(torch.__version__)},
        "image_shape": list(trainer.system.image_shape),
        "num_classes": int(trainer.system.num_classes),
    }


def restore(trainer: Trainer, payload: dict[str, Any]) -> None:
    """Continue exactly where ``payload`` was captured."""
    trainer.system.load_state_dicts(payload["models"], "checkpoint")
    for role, opt in trainer.optimizers.items():
        opt.load_state_dict(payload["optimizers"][role])
    if payload.get("scaler"):
        trainer.scaler.load_state_dict(payload["scaler"])
    trainer.batches.load_state_dict(payload["data"])
    trainer.lr_factor = float(payload.get("lr_factor", 1.0))
    trainer.rollbacks = int(payload.get("rollbacks", 0))
    trainer.step = int(payload["step"])
    ckpt.restore_rng_state(payload["rng"], trainer.latent_generator)
    per_rank = payload.get("latent_rng_per_rank") or []
    if len(per_rank) == trainer.dist.world_size:  # same launch shape: continue every stream
        trainer.latent_generator.set_state(per_rank[trainer.dist.rank].cpu())


def save(trainer: Trainer) -> Path | None:
    """Write a checkpoint atomically (main process), keep the newest few, tell the hooks."""
    payload = capture(trainer)  # every process takes part (it gathers RNG states)
    if not trainer.dist.is_main:
        return None
    path = ckpt.checkpoint_path(trainer.run_dir, trainer.step)
    try:
        ckpt.save_checkpoint(path, payload)
    except OSError as exc:
        raise TrainingError(
            f"could not write checkpoint {path}: {exc.strerror or exc}; "
            "earlier checkpoints are intact"
        ) from None
    ckpt.prune_checkpoints(trainer.run_dir, trainer.settings.keep_checkpoints)
    trainer._call_hook("ganzoo_checkpoint_saved", run_dir=trainer.run_dir, step=trainer.step, path=path)
    return path


def _gather_latent_states(trainer: Trainer) -> list[Tensor]:
    state = trainer.latent_generator.get_state()
    if not trainer.dist.enabled:
        return [state]
    import torch.distributed as dist

    states: list[Any] = [None] * trainer.dist.world_size
    dist.all_gather_object(states, state)
    return states
