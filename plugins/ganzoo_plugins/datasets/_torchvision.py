"""Shared loader for the torchvision datasets (MNIST, Fashion-MNIST, CIFAR-10).

The files are read once into memory; ``.data`` / ``.targets`` are used directly, with no
per-sample PIL work. Missing files are downloaded only when the recipe allows it, and every
failure becomes one :class:`ganzoo.data.DataUnavailable` that says where the files were
expected and how to provide them.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

DOWNLOAD_TIMEOUT_S = 60.0
"""Socket timeout while downloading, so a machine without a network fails instead of hanging."""


@contextlib.contextmanager
def _socket_timeout(seconds: float) -> Iterator[None]:
    previous = socket.getdefaulttimeout()
    if previous is None:
        socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        if previous is None:
            socket.setdefaulttimeout(None)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def check_split(split: str) -> bool:
    """``True`` for the training split; a ``UserError`` for anything but train/test."""
    from ganzoo.errors import UserError

    if split not in ("train", "test"):
        raise UserError(f"dataset split must be 'train' or 'test', got {split!r}")
    return split == "train"


def load_torchvision(
    make: Callable[..., Any],
    *,
    title: str,
    root: Path,
    subfolder: str,
    files: Sequence[str],
    split: str,
    download: bool,
) -> Any:
    """``make(root=str, train=bool, download=bool)`` with clear errors.

    ``subfolder`` and ``files`` describe torchvision's layout under ``root`` (used only in the
    error message and to tell "missing" from "unreadable").
    """
    from ganzoo.data import DATA_ROOT_ENV, DataUnavailable

    train = check_split(split)
    root = Path(root).expanduser()
    folder = root.absolute() / subfolder
    try:
        return make(root=str(root), train=train, download=False)
    except Exception as exc:  # torchvision raises RuntimeError for missing files
        first_error = exc

    missing = [name for name in files if not (folder / name).is_file()]
    if not missing:
        raise DataUnavailable(
            f"{title} ({split}): the files in {folder} are present but could not be read "
            f"({_one_line(first_error)}); delete them and download again"
        ) from None

    attempt = ""
    if download:
        try:
            with _socket_timeout(DOWNLOAD_TIMEOUT_S):
                return make(root=str(root), train=train, download=True)
        except Exception as exc:  # no network, read-only folder, bad mirror, ...
            attempt = f"Downloading failed ({_one_line(exc)}). "
    else:
        attempt = "Downloading is off (data.download = false). "

    if len(missing) == len(files):
        missing_text = "none of them is there"
    else:
        missing_text = f"missing: {', '.join(missing)}"
    raise DataUnavailable(
        f"{title} ({split}) not found: looked in {folder} for {', '.join(files)}; "
        f"{missing_text}. {attempt}"
        f"To fix: put those files there, or set data.root in the recipe (or the "
        f"{DATA_ROOT_ENV} environment variable) to the folder that holds "
        f"{Path(subfolder).parts[0]}/, or "
        + ("run where a network is reachable." if download
           else "allow data.download = true on a machine with a network.")
    )


def apply_limit(n: int, limit: int) -> int:
    """How many of ``n`` items to keep: all when ``limit`` is 0."""
    return n if limit <= 0 else min(n, limit)
