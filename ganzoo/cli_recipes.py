"""``ganzoo recipes``: the recipes ganzoo and installed plugins ship, runnable by name."""

from __future__ import annotations

import json

import click

from ganzoo.cli_options import plugin_options


def register(group: click.Group) -> None:
    """Add the ``recipes`` command to ``group``."""
    group.add_command(recipes)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@plugin_options
def recipes(as_json: bool, plugins: tuple[str, ...], strict_plugins: bool) -> None:
    """List ready-made recipes: name, what it trains, which data, how long, who provides it.

    \b
    ganzoo run infogan_dcgan                    # train one by name, from any directory
    ganzoo show infogan_dcgan > mine.toml       # a starting point of your own
    """
    from ganzoo.session import open_plugins

    registry = open_plugins(plugins, strict=strict_plugins).registry()
    specs = sorted(registry.components.get("recipe", {}).values(), key=lambda s: s.name)
    rows = [
        {
            "name": spec.name,
            "summary": spec.summary,
            "data": spec.data,
            "minutes": spec.minutes,
            "source": spec.source,
            "provider": spec.provider.plugin if spec.provider else "",
            "distribution": (spec.provider.distribution or "") if spec.provider else "",
        }
        for spec in specs
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table("recipe", "trains", "data", "time here", "provider", box=None, pad_edge=False)
    for row in rows:
        provider = row["provider"] + (f" ({row['distribution']})" if row["distribution"] else "")
        table.add_row(
            row["name"],
            escape(row["summary"]),
            escape(row["data"]),
            _minutes(row["minutes"]),
            escape(provider),
        )
    console = Console(soft_wrap=False)
    console.print(table)
    console.print(
        "time here: a full run on a 2-core CPU. Missing datasets are downloaded. Run one: ganzoo run NAME"
    )


def _minutes(minutes: float | None) -> str:
    if minutes is None:
        return "not measured"
    if minutes < 1:
        return f"{minutes * 60:.0f} s"
    if minutes >= 90:
        return f"{minutes / 60:.1f} h"
    return f"{minutes:.0f} min"
