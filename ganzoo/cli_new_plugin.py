"""``ganzoo new-plugin``: write a plugin package skeleton (registered on the main group)."""

from __future__ import annotations

from pathlib import Path

import click


def register(group: click.Group) -> None:
    """Add the ``new-plugin`` command to ``group``."""
    group.add_command(new_plugin)


@click.command("new-plugin", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("name")
@click.option("--kind", required=True, help="latent_code, loss or dataset.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write (default: ./ganzoo-NAME).",
)
def new_plugin(name: str, kind: str, out: Path | None) -> None:
    """Write a plugin package for a component NAME of KIND: pyproject (with the entry
    point), the component and its config, a conformance test and a README.

    \b
    ganzoo new-plugin my_code --kind latent_code
    cd ganzoo-my-code && pip install -e ".[test]" && pytest
    """
    from ganzoo.skeleton import write_plugin

    folder = out if out is not None else Path(f"ganzoo-{name.replace('_', '-')}")
    written = write_plugin(name, kind, folder)
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(f'next: cd {folder} && pip install -e ".[test]" && pytest && ganzoo plugins')
