"""Checkpoints: atomic writes, validation, and every random-number state.

A checkpoint is a ``torch.save`` of plain data (state dicts, tensors, numbers, strings): no
pickled modules or classes, so it loads with ``torch.load(weights_only=True)`` and never runs
code. It is written to a temporary file in the same folder, flushed, fsynced and renamed, so
a crash leaves either the old file or the complete new one, never a truncated one; a killed
write's temporary file is removed at the next start (``remove_stale_temporaries``).

Since format 3 a checkpoint carries a checksum (BLAKE2b) of its whole payload, every tensor's
bytes included, verified on load: a file damaged on disk (flipped bits that still unpickle)
is skipped like a truncated one, and resume falls back to the previous good checkpoint. The
checksum guards against damage, not against a crafted file; what a payload holds is checked
against the recipe before use (``ganzoo.run_state.check_payload``).
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganzoo.errors import UserError

FORMAT = "ganzoo-checkpoint/3"
# Format 2 had the same layout without the checksum: still read, unverified.
_UNCHECKED_FORMATS = ("ganzoo-checkpoint/2",)
# Format 1 (ganzoo 0.1) held exactly two models and a fixed InfoGAN objective.
_OLD_FORMATS = {"ganzoo-checkpoint/1": "0.1"}
_NAME = re.compile(r"^step_(\d{8})\.pt$")
_TEMPORARY = re.compile(r"^\..+\.tmp$")  # what _atomic_write leaves when it is killed


class CheckpointError(UserError):
    pass


def atomic_write_bytes(path: Path, data: bytes) -> None:
    _atomic_write(path, lambda f: f.write(data))


def _atomic_write(path: Path, write: Any) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


def checkpoint_path(run_dir: Path, step: int) -> Path:
    return Path(run_dir) / "checkpoints" / f"step_{step:08d}.pt"


def payload_checksum(payload: Any) -> str:
    """BLAKE2b of a payload's structure, plain values and every tensor's dtype, shape and
    bytes (dict keys in sorted order, so it does not depend on insertion order)."""
    digest = hashlib.blake2b(digest_size=32)
    _feed(digest, payload)
    return digest.hexdigest()


def _feed(digest: Any, value: Any) -> None:
    if isinstance(value, torch.Tensor):
        tensor = value.detach().cpu().contiguous()
        digest.update(f"T{tensor.dtype}{tuple(tensor.shape)};".encode())
        if tensor.numel():
            digest.update(memoryview(tensor.reshape(-1).view(torch.uint8).numpy()))
    elif isinstance(value, dict):
        digest.update(f"D{len(value)};".encode())
        for key in sorted(value, key=repr):
            _feed(digest, key)
            _feed(digest, value[key])
    elif isinstance(value, list | tuple):
        digest.update(f"{'L' if isinstance(value, list) else 'U'}{len(value)};".encode())
        for item in value:
            _feed(digest, item)
    elif isinstance(value, str):
        data = value.encode("utf-8", "surrogatepass")
        digest.update(f"S{len(data)};".encode() + data)
    else:  # int, float, bool, None (and anything else plain): its exact repr
        digest.update(f"{type(value).__name__}:{value!r};".encode())


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    payload = {k: v for k, v in payload.items() if k not in ("format", "checksum")}
    payload = {"format": FORMAT, **payload}
    payload["checksum"] = payload_checksum(payload)
    _atomic_write(path, lambda f: torch.save(payload, f))


def remove_stale_temporaries(run_dir: Path) -> list[Path]:
    """Delete the temporary files of writes that were killed (in the run directory and its
    ``checkpoints/``); returns what was removed."""
    removed = []
    for folder in (Path(run_dir), Path(run_dir) / "checkpoints"):
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            if _TEMPORARY.match(path.name) and path.is_file():
                path.unlink(missing_ok=True)
                removed.append(path)
    return removed


def load_checkpoint(path: Path, map_location: Any = "cpu") -> dict[str, Any]:
    """Load and check one checkpoint; a damaged file raises ``CheckpointError``."""
    path = Path(path)
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such checkpoint") from None
    except Exception as exc:  # truncated zip, bad pickle, foreign object, ...
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{path}: damaged or not a ganzoo checkpoint ({reason})") from None
    fmt = payload.get("format") if isinstance(payload, dict) else None
    if isinstance(fmt, str) and fmt in _OLD_FORMATS:
        versions = payload.get("versions")
        written = versions.get("ganzoo") if isinstance(versions, dict) else None
        written = written if isinstance(written, str) else _OLD_FORMATS[fmt]
        raise CheckpointError(
            f"{path}: written by ganzoo {written} (checkpoint format {payload['format']}), before "
            f"training steps became plugins; this ganzoo reads {FORMAT}. Evaluate, sample or "
            f"resume it with that version: pip install 'torch-ganzoo=={written}'"
        )
    if not isinstance(fmt, str) or fmt not in (FORMAT, *_UNCHECKED_FORMATS):
        raise CheckpointError(f"{path}: not a ganzoo checkpoint (format {FORMAT} expected)")
    if payload["format"] == FORMAT:
        stored = payload.pop("checksum", None)
        if stored != payload_checksum(payload):
            raise CheckpointError(
                f"{path}: damaged (its checksum does not match its contents: the file changed "
                "after ganzoo wrote it)"
            )
    for key, kind in (("step", int), ("recipe", dict), ("models", dict)):
        if key not in payload:
            raise CheckpointError(f"{path}: incomplete checkpoint (no '{key}')")
        if not isinstance(payload[key], kind) or isinstance(payload[key], bool):
            raise CheckpointError(
                f"{path}: not a valid checkpoint ('{key}' is a {type(payload[key]).__name__}, "
                f"expected {kind.__name__})"
            )
    return payload


def list_checkpoints(run_dir: Path) -> list[Path]:
    """Checkpoints of a run, oldest first."""
    folder = Path(run_dir) / "checkpoints"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if _NAME.match(p.name))


def newest_valid_checkpoint(
    run_dir: Path, map_location: Any = "cpu"
) -> tuple[Path, dict[str, Any], list[str]]:
    """The newest checkpoint that loads, and a warning for each damaged newer one."""
    warnings: list[str] = []
    for path in reversed(list_checkpoints(run_dir)):
        try:
            return path, load_checkpoint(path, map_location), warnings
        except CheckpointError as exc:
            warnings.append(f"skipping {exc}")
    detail = ("; " + "; ".join(warnings)) if warnings else ""
    raise CheckpointError(f"{run_dir}: no valid checkpoint to resume from{detail}")


def run_dir_of(checkpoint: Path) -> Path:
    """The run directory a checkpoint file belongs to (``RUN/checkpoints/step_*.pt``)."""
    checkpoint = Path(checkpoint)
    return checkpoint.parent.parent if checkpoint.parent.name == "checkpoints" else checkpoint.parent


def find_checkpoint(
    path: str | Path, map_location: Any = "cpu"
) -> tuple[Path, dict[str, Any], Path, list[str]]:
    """What a user names: a ``.pt`` file, a run directory or its ``checkpoints/`` folder.

    Returns (checkpoint, payload, run directory, warnings); damaged newer checkpoints are
    skipped with a warning each. Raises ``CheckpointError`` (a user error) when there is none.
    """
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path}: no such run directory or checkpoint file")
    if path.is_file():
        return path, load_checkpoint(path, map_location), run_dir_of(path), []
    run_dir = path.parent if path.name == "checkpoints" and not list_checkpoints(path) else path
    if not list_checkpoints(run_dir):
        raise CheckpointError(
            f"{path}: no checkpoint found (expected {run_dir / 'checkpoints'}/step_NNNNNNNN.pt); "
            "give a run directory written by 'ganzoo run' or a .pt checkpoint"
        )
    checkpoint, payload, warnings = newest_valid_checkpoint(run_dir, map_location)
    return checkpoint, payload, run_dir, warnings


def prune_checkpoints(run_dir: Path, keep: int) -> None:
    for path in list_checkpoints(run_dir)[:-keep]:
        path.unlink(missing_ok=True)


def capture_rng_state(latent_generator: torch.Generator | None = None) -> dict[str, Any]:
    """Every random stream, as tensors and plain values (``weights_only``-safe)."""
    np_state = np.random.get_state()
    state: dict[str, Any] = {
        "python": random.getstate(),  # (version, tuple of ints, float or None)
        "numpy": {
            "keys": torch.from_numpy(np_state[1].astype(np.int64)),
            "pos": int(np_state[2]),
            "has_gauss": int(np_state[3]),
            "cached_gaussian": float(np_state[4]),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    if latent_generator is not None:
        state["latent"] = latent_generator.get_state()
    return state


def restore_rng_state(state: dict[str, Any], latent_generator: torch.Generator | None = None) -> None:
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    np_state = state["numpy"]
    np.random.set_state(
        (
            "MT19937",
            np_state["keys"].numpy().astype(np.uint32),
            np_state["pos"],
            np_state["has_gauss"],
            np_state["cached_gaussian"],
        )
    )
    torch.set_rng_state(state["torch"].cpu())
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])
    if latent_generator is not None and "latent" in state:
        latent_generator.set_state(state["latent"].cpu())
