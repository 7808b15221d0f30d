"""What a command needs before it can act: plugins, registry and the resolved recipe."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from ganzoo.errors import Problem, RecipeError, UserError
from ganzoo.plugins import PluginSet, load_plugins, parse_plugin_options
from ganzoo.recipe import Recipe, apply_overrides, read_toml, resolve

# Keys a resumed run may change: they do not alter the model or what it has learned so far.
RESUMABLE_KEYS = (
    "train.steps",
    "train.log_every",
    "train.sample_every",
    "train.checkpoint_every",
    "train.keep_checkpoints",
    "train.eval_every",
    "train.eval_samples",
    "train.on_nonfinite",
    "data.root",
    "data.download",
    "plugins",  # the installed versions of required plugins may differ from the run's
)


@attrs.define
class Session:
    plugins: PluginSet
    recipe: Recipe
    notes: list[str]
    source: str

    @property
    def registry(self) -> Any:
        return self.plugins.registry()


def open_plugins(
    plugin_options: Sequence[str] = (),
    recipe_plugins: Sequence[str] = (),
    *,
    strict: bool = False,
) -> PluginSet:
    """The plugins a command uses: installed entry points and what ``-p`` names.

    ``recipe_plugins`` are only *checked* (``require_recipe_plugins``), never imported as
    files or modules; the argument stays for callers of the older signature."""
    load, blocked = parse_plugin_options(plugin_options)
    plugins = load_plugins(load, blocked=blocked)
    plugins.registry()  # collect now so registration failures are recorded
    if recipe_plugins:
        problems, _ = require_recipe_plugins(plugins, recipe_plugins)
        if problems:
            raise RecipeError("recipe", problems)
    if strict:
        problems = [f"{r.name}: {r.error}" for r in plugins.failed]
        problems += [c.message() for c in plugins.registry().conflicts]
        if problems:
            raise UserError("--strict-plugins: " + "; ".join(problems))
    return plugins


def plugin_notes(plugins: PluginSet) -> list[str]:
    """What a command should say about its plugins: every ``-p`` plugin that failed to load,
    and every name clash (who keeps the name, how to reach the other)."""
    notes = [
        f"plugin -p {r.requested} failed to load, its components are unavailable: {r.error}"
        for r in plugins.records
        if r.requested is not None and r.status == "failed"
    ]
    notes += [f"name clash: {c.message()}" for c in plugins.registry().conflicts]
    return notes


def recipe_plugin_list(raw: dict[str, Any]) -> list[str]:
    plugins = raw.get("plugins", [])
    if isinstance(plugins, list):
        return [p for p in plugins if isinstance(p, str)]
    return []


def require_recipe_plugins(
    plugins: PluginSet, entries: Sequence[str]
) -> tuple[list[Problem], list[str]]:
    """Check the plugins a recipe requires (loading installed entry points only); returns
    the problems and notes (e.g. a different installed version)."""
    problems, notes = [], []
    for index, entry in enumerate(entries):
        problem, note = plugins.require(entry)
        if problem:
            problems.append(Problem(f"plugins[{index}]", problem))
        if note:
            notes.append(note)
    return problems, notes


def looks_like_name(text: str) -> bool:
    """``infogan_dcgan`` (a registered recipe) rather than a path such as ``mine.toml``."""
    return bool(text) and "/" not in text and "\\" not in text and not text.endswith(".toml")


def read_recipe(
    recipe: str | Path, plugin_options: Sequence[str] = (), *, strict: bool = False
) -> tuple[dict[str, Any], str]:
    """The raw recipe and its source label: a file, or a recipe a plugin registered by name
    (``ganzoo recipes``). An existing file wins over a name."""
    text = str(recipe)
    if Path(text).exists() or not looks_like_name(text):
        return read_toml(text), text
    registry = open_plugins(plugin_options, strict=strict).registry()
    spec = registry.components.get("recipe", {}).get(text)
    if spec is None:
        from ganzoo.errors import accepted, did_you_mean

        names = list(registry.components.get("recipe", {}))
        raise UserError(
            f"{text}: no such recipe file, and no recipe of that name{did_you_mean(text, names)}; "
            f"built-in and plugin recipes: {accepted(names)} (see 'ganzoo recipes')"
        )
    return read_registered(spec), f"{text} ({spec.source})"


def read_registered(spec: Any) -> dict[str, Any]:
    """Parse a registered recipe; a missing or broken file is a ``UserError`` naming it."""
    import tomllib

    try:
        text = spec.read_text()
    except OSError as exc:
        raise UserError(
            f"recipe '{spec.name}' from {spec.provider}: cannot read {spec.source} ({exc})"
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RecipeError(spec.source, [Problem("", f"not valid TOML: {exc}")]) from None


def open_recipe(
    path: str | Path,
    overrides: Sequence[str] = (),
    plugin_options: Sequence[str] = (),
    *,
    strict: bool = False,
) -> Session:
    """A recipe file or a registered recipe's name, resolved with its plugins and overrides."""
    raw, source = read_recipe(path, plugin_options, strict=strict)
    return open_raw_recipe(raw, source, overrides, plugin_options, strict=strict)


def open_raw_recipe(
    raw: dict[str, Any],
    source: str,
    overrides: Sequence[str] = (),
    plugin_options: Sequence[str] = (),
    *,
    strict: bool = False,
) -> Session:
    plugins = open_plugins(plugin_options, strict=strict)
    raw, notes = apply_overrides(raw, overrides, plugins.registry())
    problems, requirement_notes = require_recipe_plugins(plugins, recipe_plugin_list(raw))
    if problems:  # before resolving: its unknown components would only repeat the cause
        raise RecipeError(source, problems)
    recipe = resolve(raw, plugins.registry(), source=source)
    return Session(plugins, recipe, plugin_notes(plugins) + requirement_notes + notes, source)


def open_saved_recipe(
    payload: dict[str, Any],
    source: str,
    overrides: Sequence[str] = (),
    plugin_options: Sequence[str] = (),
    *,
    strict: bool = False,
) -> Session:
    """The recipe saved in a checkpoint. When a component is missing, the error also names
    the plugin distribution and version that provided each third-party component."""
    try:
        return open_raw_recipe(payload["recipe"], source, overrides, plugin_options, strict=strict)
    except UserError as exc:
        lines = [str(exc)]
        components = payload.get("components")
        for where, info in (components if isinstance(components, dict) else {}).items():
            if not isinstance(info, dict) or info.get("distribution") == "torch-ganzoo":
                continue
            if info.get("distribution"):
                lines.append(
                    f"  {where} = {info.get('kind')} '{info.get('name')}' came from plugin "
                    f"{info.get('plugin')} ({info.get('distribution')} {info.get('version')}); "
                    "install it, or load it deliberately with -p"
                )
            elif info.get("plugin"):
                lines.append(
                    f"  {where} = {info.get('kind')} '{info.get('name')}' came from plugin "
                    f"{info.get('plugin')}, loaded with -p when the run was made; if you trust "
                    "it, load it deliberately again with -p"
                )
        raise UserError("\n".join(lines)) from None


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else key))
        return out
    return {prefix: data}


def check_resume_overrides(saved: dict[str, Any], new: dict[str, Any], source: str) -> None:
    """Refuse overrides that would change the model or the training it resumes."""
    old_flat, new_flat = flatten(saved), flatten(new)
    changed = sorted(
        k for k in old_flat.keys() | new_flat.keys() if old_flat.get(k) != new_flat.get(k)
    )
    refused = [k for k in changed if k not in RESUMABLE_KEYS]
    if refused:
        raise RecipeError(
            source,
            [
                Problem(
                    k,
                    f"cannot change on resume ({old_flat.get(k)!r} -> {new_flat.get(k)!r}); "
                    f"start a new run instead. Changeable on resume: {', '.join(RESUMABLE_KEYS)}",
                )
                for k in refused
            ],
        )
