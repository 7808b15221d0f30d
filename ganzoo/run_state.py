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
from ganzoo.errors import TrainingError, brief

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


def check_payload(trainer: Trainer, payload: dict[str, Any]) -> list[str]:
    """What in a (loadable, checksum-valid, possibly crafted) payload does not fit this
    trainer: missing or mistyped entries, weights, optimiser state and random-number states
    of the wrong size. Empty when it can be restored."""
    problems: list[str] = []

    def entry(key: str, types: Any, what: str) -> Any:
        value = payload.get(key)
        if not isinstance(value, types) or isinstance(value, bool) and bool not in _tuple(types):
            got = "missing" if key not in payload else f"a {type(value).__name__}"
            problems.append(f"'{key}' is {got}, expected {what}")
            return None
        return value

    step = entry("step", int, "a step number")
    if step is not None and not 0 <= step < 2**62:
        problems.append(f"'step' is {step}, expected 0 or more")
    models = entry("models", dict, "a table of network weights")
    if models is not None:
        from ganzoo.system import state_dict_problems

        problems += state_dict_problems(trainer.system.named_modules(), models)
    optimizers = entry("optimizers", dict, "a table of optimiser states by role")
    if optimizers is not None:
        for role, optimizer in trainer.optimizers.items():
            problems += _optimizer_problems(role, optimizer, optimizers.get(role))
    data = entry("data", dict, "the data position")
    if data is not None and not all(
        isinstance(data.get(k), int) and data[k] >= 0 for k in ("epoch", "position")
    ):
        problems.append("'data' needs non-negative integers 'epoch' and 'position'")
    elif data is not None and (
        data["epoch"] > 2**40 or data["position"] > trainer.batches.batches_per_epoch
    ):
        problems.append(
            f"'data' position {data['position']} of epoch {data['epoch']} is beyond the data "
            f"({trainer.batches.batches_per_epoch} batches an epoch)"
        )
    factor = entry("lr_factor", (int, float), "a learning-rate factor")
    if factor is not None and not 0 < factor <= 1:
        problems.append(f"'lr_factor' is {factor!r}, expected a number in (0, 1]")
    rollbacks = payload.get("rollbacks", 0)
    if not isinstance(rollbacks, int) or rollbacks < 0:
        problems.append(f"'rollbacks' is {rollbacks!r}, expected a count")
    rng = entry("rng", dict, "the random-number states")
    if rng is not None:
        problems += _rng_problems(rng, trainer)
    scaler = payload.get("scaler")
    if scaler is not None and not isinstance(scaler, dict):
        problems.append(f"'scaler' is a {type(scaler).__name__}, expected the AMP scaler state")
    per_rank = payload.get("latent_rng_per_rank") or []
    latent_size = trainer.latent_generator.get_state().numel()
    if not isinstance(per_rank, list) or not all(
        isinstance(t, Tensor) and t.dtype == torch.uint8 and t.numel() == latent_size
        for t in per_rank
    ):
        problems.append(f"'latent_rng_per_rank' must be generator states of {latent_size} bytes")
    return problems


def _tuple(types: Any) -> tuple:
    return types if isinstance(types, tuple) else (types,)


def _optimizer_problems(role: str, optimizer: torch.optim.Optimizer, saved: Any) -> list[str]:
    where = f"optimizer '{role}'"
    if not isinstance(saved, dict):
        return [f"{where}: no state" if saved is None else f"{where}: a {type(saved).__name__}"]
    groups, state = saved.get("param_groups"), saved.get("state")
    if not isinstance(groups, list) or not isinstance(state, dict):
        return [f"{where}: needs 'param_groups' (a list) and 'state' (a table)"]
    ours = optimizer.param_groups
    sizes = [len(g.get("params", ())) if isinstance(g, dict) else -1 for g in groups]
    if sizes != [len(g["params"]) for g in ours]:
        return [f"{where}: parameter groups of sizes {sizes}, expected {[len(g['params']) for g in ours]}"]
    for number, (g_saved, g) in enumerate(zip(groups, ours, strict=True)):
        for key, value in g.items():  # hyperparameters: numbers stay numbers, flags flags
            if key != "params" and key in g_saved and _kind_of(g_saved[key]) != _kind_of(value):
                return [f"{where}: group {number} '{key}' is {g_saved[key]!r}, expected like {value!r}"]
    index = {i: p for g_saved, g in zip(groups, ours, strict=True)
             for i, p in zip(g_saved["params"], g["params"], strict=True)}
    problems = []
    for key, values in state.items():
        param = index.get(key)
        if param is None or not isinstance(values, dict):
            problems.append(f"{where}: state for unknown parameter {key!r}")
            continue
        for name, value in values.items():
            if name in _PER_PARAMETER_STATE and not (
                (value is None and name == "momentum_buffer")
                or (isinstance(value, Tensor) and value.shape == param.shape)
            ):
                got = list(value.shape) if isinstance(value, Tensor) else type(value).__name__
                problems.append(
                    f"{where}: {name} of parameter {key} is {got}, expected a tensor of shape "
                    f"{list(param.shape)}"
                )
            elif not (value is None or isinstance(value, Tensor | int | float)):
                problems.append(f"{where}: {name} of parameter {key} is a {type(value).__name__}")
            elif isinstance(value, Tensor) and value.dim() > 0 and value.shape != param.shape:
                problems.append(
                    f"{where}: {name} of parameter {key} has shape {list(value.shape)}, "
                    f"expected {list(param.shape)}"
                )
            elif isinstance(value, Tensor | float) and not torch.isfinite(torch.as_tensor(value)).all():
                problems.append(f"{where}: {name} of parameter {key} is not finite")
    return problems[:5] + ([f"{where}: and {len(problems) - 5} more"] if len(problems) > 5 else [])


# State torch's optimisers keep per parameter, in the parameter's shape.
_PER_PARAMETER_STATE = {
    "exp_avg", "exp_avg_sq", "max_exp_avg_sq", "square_avg", "momentum_buffer", "grad_avg",
}


def _kind_of(value: Any) -> str:
    """What sort of optimiser hyperparameter ``value`` is (numbers of either type alike)."""
    if isinstance(value, bool) or value is None:
        return type(value).__name__
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list | tuple):
        return "sequence of " + ",".join(_kind_of(v) for v in value)
    return type(value).__name__


def _rng_problems(rng: dict[str, Any], trainer: Trainer) -> list[str]:
    problems = []
    python = rng.get("python")
    if not (
        isinstance(python, tuple | list) and len(python) == 3
        and isinstance(python[1], tuple | list) and len(python[1]) == 625
    ):
        problems.append("'rng.python' is not a Python random state")
    numpy = rng.get("numpy")
    if not (
        isinstance(numpy, dict) and isinstance(numpy.get("keys"), Tensor)
        and numpy["keys"].shape == (624,) and isinstance(numpy.get("pos"), int)
    ):
        problems.append("'rng.numpy' is not a NumPy MT19937 state")
    for key, size in (("torch", torch.get_rng_state().numel()),
                      ("latent", trainer.latent_generator.get_state().numel())):
        value = rng.get(key)
        if not (isinstance(value, Tensor) and value.dtype == torch.uint8 and value.numel() == size):
            problems.append(f"'rng.{key}' is not a generator state of {size} bytes")
    return problems


def restore(trainer: Trainer, payload: dict[str, Any], source: str = "checkpoint") -> None:
    """Continue exactly where ``payload`` was captured; a payload that does not fit (a
    crafted or foreign one) is a ``CheckpointError`` naming what is wrong, before any use."""
    problems = check_payload(trainer, payload)
    if problems:
        raise ckpt.CheckpointError(
            f"{source}: cannot resume from it, it does not fit its recipe: " + "; ".join(problems)
        )
    try:
        _restore(trainer, payload)
    except (KeyError, IndexError, TypeError, ValueError, RuntimeError, OverflowError) as exc:
        raise ckpt.CheckpointError(
            f"{source}: cannot resume from it ({type(exc).__name__}: {exc})"
        ) from None


def _restore(trainer: Trainer, payload: dict[str, Any]) -> None:
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
    except Exception as exc:  # a full disk surfaces as OSError, or inside torch.save as
        # RuntimeError ("[enforce fail at inline_container.cc] ... unexpected pos")
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else brief(exc)
        earlier = (
            "earlier checkpoints are intact" if ckpt.list_checkpoints(trainer.run_dir)
            else "no earlier checkpoint exists"
        )
        raise TrainingError(f"could not write checkpoint {path}: {reason}; {earlier}") from None
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
