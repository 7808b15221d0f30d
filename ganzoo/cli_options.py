"""Options shared by several commands (kept apart so command modules need not import cli)."""

from __future__ import annotations

from typing import Any

import click


def plugin_options(func: Any) -> Any:
    """``-p/--plugin`` (repeatable) and ``--strict-plugins``."""
    func = click.option(
        "--strict-plugins",
        is_flag=True,
        help="Fail if any plugin fails to load or two plugins provide the same name.",
    )(func)
    func = click.option(
        "-p",
        "--plugin",
        "plugins",
        multiple=True,
        metavar="MODULE|FILE.py|no:NAME",
        help="Load a plugin module or .py file; 'no:NAME' blocks an installed plugin. Repeatable.",
    )(func)
    return func


def device_option(func: Any) -> Any:
    return click.option(
        "--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N."
    )(func)


def weights_option(func: Any) -> Any:
    """``--weights auto|ema|raw``: which generator weights a loaded run samples with."""
    return click.option(
        "--weights",
        type=click.Choice(["auto", "ema", "raw"]),
        default="auto",
        show_default=True,
        help="Generator weights: its moving average (train.ema_decay) when the run kept one "
        "(auto), the average (ema), or G as trained (raw).",
    )(func)


def ema_batch_norm_option(func: Any) -> Any:
    """``--ema-batch-norm averaged|recomputed``: overrides the run's train.ema_batch_norm."""
    return click.option(
        "--ema-batch-norm",
        type=click.Choice(["averaged", "recomputed"]),
        default=None,
        help="Batch-norm statistics the EMA of G samples with: the average of G's "
        "(averaged) or recomputed from 10240 of its own samples (recomputed); default: the "
        "run's train.ema_batch_norm.",
    )(func)
