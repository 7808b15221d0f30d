"""``ganzoo eval`` and ``ganzoo sample`` (registered on the main command group)."""

from __future__ import annotations

import click


def register(group: click.Group) -> None:
    """Add the evaluation commands to ``group``."""
