"""The ``ganzoo`` command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ganzoo.cli_options import device_option, plugin_options
from ganzoo.errors import TrainingError, UserError


def kind_words() -> dict[str, str]:
    """What a user may type for each component kind (from ``ganzoo.specs.KINDS``)."""
    from ganzoo.specs import KINDS

    return {word: kind.name for kind in KINDS for word in kind.words()}


class GanzooGroup(click.Group):
    """Turns user errors into one clear message and exit status 2 (training failures: 1)."""

    def invoke(self, ctx: click.Context) -> Any:
        import threading

        # A background writer (TensorBoard's event thread) failing on a full disk: one line,
        # not a thread traceback; the command itself reports the failure.
        previous, threading.excepthook = threading.excepthook, _thread_failure
        try:
            return super().invoke(ctx)
        except UserError as exc:
            click.secho(f"error: {exc}", err=True, fg="red")
            ctx.exit(exc.exit_code)
        except TrainingError as exc:
            click.secho(f"training failed: {exc}", err=True, fg="red")
            ctx.exit(exc.exit_code)
        finally:
            threading.excepthook = previous


def _thread_failure(args: Any) -> None:
    name = args.thread.name if args.thread is not None else "a background thread"
    click.secho(f"warning: {name} failed: {args.exc_type.__name__}: {args.exc_value}", err=True, fg="yellow")


def set_option(func: Any) -> Any:
    return click.option(
        "--set",
        "overrides",
        multiple=True,
        metavar="PATH=VALUE",
        help="Override a recipe key; VALUE is TOML (a bare word is a string). Repeatable.",
    )(func)


@click.group(cls=GanzooGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="torch-ganzoo", prog_name="ganzoo")
def main() -> None:
    """ganzoo: a plugin-based GAN zoo for PyTorch.

    \b
    Train:     ganzoo run infogan_dcgan   (a built-in recipe; or a file: ganzoo run mine.toml)
    Recipes:   ganzoo recipes | ganzoo show infogan_dcgan > mine.toml
    Inspect:   ganzoo check RECIPE | ganzoo show RECIPE
    Discover:  ganzoo components | ganzoo describe KIND NAME | ganzoo plugins
    Evaluate:  ganzoo eval RUN | ganzoo sample RUN --out grid.png
    """


def _print_notes(notes: list[str]) -> None:
    for note in notes:
        click.secho(f"note: {note}", err=True, fg="yellow")


@main.command()
@click.argument("recipe", metavar="RECIPE_FILE_OR_NAME")
@set_option
@plugin_options
def check(recipe: str, overrides: tuple[str, ...], plugins: tuple[str, ...], strict_plugins: bool) -> None:
    """Validate RECIPE (with overrides) without running it; exit 2 listing every problem."""
    from ganzoo.session import open_recipe
    from ganzoo.system import build_latent_space, build_step

    session = open_recipe(recipe, overrides, plugins, strict=strict_plugins)
    _print_notes(session.notes)
    # cheap (no networks): finds the mistakes only the components themselves can see
    build_step(session.recipe, session.registry, build_latent_space(session.recipe, session.registry))
    codes = ", ".join(session.recipe.regularized_codes) or "none"
    terms = ", ".join(f"{n} ({c.type})" if n != c.type else n for n, c in session.recipe.terms.items())
    click.echo(
        f"{recipe}: ok ({session.recipe.name}; step {session.recipe.step.type}; "
        f"terms: {terms or 'none'}; regularised codes: {codes})"
    )


@main.command()
@click.argument("recipe", metavar="RECIPE_FILE_OR_NAME")
@set_option
@plugin_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of TOML.")
def show(recipe: str, overrides: tuple[str, ...], plugins: tuple[str, ...], strict_plugins: bool, as_json: bool) -> None:
    """Print the fully resolved RECIPE: every default filled in."""
    from ganzoo.session import open_recipe

    session = open_recipe(recipe, overrides, plugins, strict=strict_plugins)
    _print_notes(session.notes)
    if as_json:
        click.echo(json.dumps(session.recipe.to_dict(), indent=2))
    else:
        click.echo(session.recipe.to_toml(), nl=False)


@main.command()
@click.argument("kind", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@plugin_options
def components(kind: str | None, as_json: bool, plugins: tuple[str, ...], strict_plugins: bool) -> None:
    """List components (optionally of one KIND): name, kind, provider, summary."""
    from ganzoo.session import open_plugins

    registry = open_plugins(plugins, strict=strict_plugins).registry()
    kinds = [_kind(kind)] if kind else list(registry.components)
    rows = [
        {
            "kind": spec.kind,
            "name": name,  # PLUGIN:name where a built-in keeps the bare name
            "provider": spec.provider.plugin if spec.provider else "",
            "distribution": (spec.provider.distribution or "") if spec.provider else "",
            "version": (spec.provider.version or "") if spec.provider else "",
            "summary": spec.summary,
            **_declared(spec),
        }
        for k in kinds
        for name, spec in sorted({**registry.components[k], **registry.shadowed(k)}.items())
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table("kind", "name", "provider", "summary", box=None, pad_edge=False)
    for row in rows:
        provider = row["provider"] + (f" ({row['distribution']})" if row["distribution"] else "")
        table.add_row(row["kind"], row["name"], escape(provider), escape(row["summary"]))
    Console(soft_wrap=False).print(table)
    for conflict in registry.conflicts:
        click.secho(f"conflict: {conflict.message()}", err=True, fg="yellow")
    if registry.failed:
        click.secho(
            f"{len(registry.failed)} plugin(s) failed to load; see 'ganzoo plugins'", err=True, fg="yellow"
        )


def _declared(spec: Any) -> dict[str, list[str]]:
    """What a step or term spec declares beside its parameters (roles, provides, needs)."""
    keys = ("optimizer_roles", "provides", "needs")
    return {key: list(getattr(spec, key)) for key in keys if hasattr(spec, key)}


def _kind(kind: str) -> str:
    from ganzoo.errors import accepted, did_you_mean

    words = kind_words()
    key = kind.strip().lower()
    if key not in words:
        raise UserError(
            f"unknown component kind '{kind}'{did_you_mean(key, words)}; accepted: "
            f"{accepted(set(words.values()))}"
        )
    return words[key]


@main.command()
@click.argument("kind")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@plugin_options
def describe(kind: str, name: str, as_json: bool, plugins: tuple[str, ...], strict_plugins: bool) -> None:
    """Show a component's parameters: types, defaults, bounds and help."""
    from ganzoo.schema import describe_parameters
    from ganzoo.session import open_plugins

    registry = open_plugins(plugins, strict=strict_plugins).registry()
    spec = registry.get(_kind(kind), name)
    from ganzoo.recipe import SHARED_SETTINGS

    params = describe_parameters(spec.config)
    shared = describe_parameters(SHARED_SETTINGS[spec.kind]) if spec.kind in SHARED_SETTINGS else []
    info = {
        "kind": spec.kind,
        "name": spec.name,
        "summary": spec.summary,
        "provider": str(spec.provider),
        "parameters": params,
        "shared_parameters": shared,
        **_declared(spec),
    }
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(soft_wrap=False)
    console.print(f"[bold]{spec.kind} {spec.name}[/bold] — {escape(spec.summary)}")
    console.print(f"provided by {escape(str(spec.provider))}")
    for key, values in _declared(spec).items():
        console.print(f"{key.replace('_', ' ')}: {escape(', '.join(values))}")
    table = Table("parameter", "type", "default", "bounds", "help", box=None, pad_edge=False)
    for p in params:
        bounds = ", ".join(f"{k} {v:g}" for k, v in p["bounds"].items())
        table.add_row(p["name"], escape(p["type"]), escape(json.dumps(p["default"])), bounds, escape(p["help"]))
    for p in shared:
        bounds = ", ".join(f"{k} {v:g}" for k, v in p["bounds"].items())
        table.add_row(f"{p['name']} (any {spec.kind.replace('_', ' ')})", escape(p["type"]),
                      escape(json.dumps(p["default"])), bounds, escape(p["help"]))
    console.print(table if params or shared else "no parameters")


@main.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@plugin_options
def plugins_command(as_json: bool, plugins: tuple[str, ...], strict_plugins: bool) -> None:
    """List every plugin with version, source and status (failures with their reason)."""
    from ganzoo.session import open_plugins

    plugin_set = open_plugins(plugins, strict=strict_plugins)
    rows = [r.as_dict() for r in plugin_set.records]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table("plugin", "source", "distribution", "status", "components / error", box=None, pad_edge=False)
    for r in rows:
        detail = r["error"] if r["status"] == "failed" else ", ".join(r["components"])
        dist = f"{r['distribution'] or ''} {r['version'] or ''}".strip()
        style = {"failed": "red", "blocked": "yellow"}.get(r["status"], "")
        status = f"[{style}]{r['status']}[/]" if style else r["status"]
        table.add_row(escape(r["name"]), r["source"], escape(dist), status, escape(detail or ""))
    Console(soft_wrap=False).print(table)


@main.command()
@click.argument("recipe", required=False, metavar="RECIPE_FILE_OR_NAME")
@set_option
@plugin_options
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), help="Run directory (default: runs/NAME-TIMESTAMP).")
@device_option
@click.option("--resume", type=click.Path(file_okay=False, path_type=Path), help="Continue the run in this directory from its newest valid checkpoint.")
@click.option("--overwrite", is_flag=True, help="Replace an existing run in --out.")
@click.option("--dry-run", is_flag=True, help="Check the recipe, load the data and build the model, then stop.")
def run(
    recipe: str | None,
    overrides: tuple[str, ...],
    plugins: tuple[str, ...],
    strict_plugins: bool,
    out: Path | None,
    device: str,
    resume: Path | None,
    overwrite: bool,
    dry_run: bool,
) -> None:
    """Train RECIPE, or continue a run with --resume RUN_DIR.

    Writes the resolved recipe, TensorBoard events, sample grids and checkpoints into the
    run directory; watch it with 'tensorboard --logdir runs'.
    """
    from ganzoo import api
    from ganzoo.training import Interrupted

    if recipe is None and resume is None:
        raise click.UsageError("give a RECIPE to train, or --resume RUN_DIR")
    if recipe is not None and resume is not None:
        raise click.UsageError("give either a RECIPE or --resume RUN_DIR, not both")
    if resume is not None and (out is not None or overwrite):
        raise click.UsageError("--resume continues in RUN_DIR itself; drop --out/--overwrite")
    try:
        api.train(
            recipe,
            overrides=list(overrides),
            out=out,
            device=device,
            plugins=plugins,
            strict_plugins=strict_plugins,
            resume=resume,
            overwrite=overwrite,
            dry_run=dry_run,
        )
    except Interrupted as exc:  # the checkpoint is saved and the way to resume printed
        raise SystemExit(128 + int(exc.signum)) from None


def _register_evaluation_commands() -> None:
    # eval and sample live beside the evaluation code; importing the module is cheap.
    from ganzoo import cli_eval, cli_new_plugin, cli_recipes, cli_sample

    cli_eval.register(main)
    cli_sample.register(main)
    cli_recipes.register(main)
    cli_new_plugin.register(main)


_register_evaluation_commands()


if __name__ == "__main__":  # pragma: no cover
    main()
