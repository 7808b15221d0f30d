"""Building the plugin manager and the component registry from it.

Nothing here is global: ``load_plugins()`` builds a fresh ``pluggy.PluginManager`` every time,
so tests and commands each get their own, and a broken plugin is recorded instead of raised.
Order: ganzoo's own first-party plugins (entry points of the ``torch-ganzoo`` distribution),
then every other entry point in group ``ganzoo`` (unless autoloading is off), then plugins
named by ``-p`` or a recipe's ``plugins`` list (module names or ``.py`` files).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import sys
import traceback
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

import attrs
import pluggy

from ganzoo import hookspecs
from ganzoo.errors import UserError, accepted, did_you_mean
from ganzoo.specs import KIND_HOOKS, SPEC_TYPES, ComponentSpec, Provider

ENTRY_POINT_GROUP = "ganzoo"
FIRST_PARTY_DISTRIBUTION = "torch-ganzoo"
AUTOLOAD_ENV = "GANZOO_DISABLE_PLUGIN_AUTOLOAD"

Autoload = Literal["all", "first-party", "none"]


@attrs.define
class PluginRecord:
    """What happened to one plugin: where it came from, and whether it loaded."""

    name: str
    source: str  # "entry point", "module", "file" or "object"
    distribution: str | None = None
    version: str | None = None
    status: str = "loaded"  # "loaded", "failed" or "blocked"
    error: str | None = None
    components: list[str] = attrs.field(factory=list)

    @property
    def provider(self) -> Provider:
        return Provider(self.name, self.distribution, self.version)

    def as_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.define
class Conflict:
    kind: str
    name: str
    providers: list[Provider]

    def message(self) -> str:
        who = " and ".join(str(p) for p in self.providers)
        return (
            f"{self.kind.replace('_', ' ')} '{self.name}' is provided by both {who}; "
            "block one of them with -p no:PLUGIN"
        )


class PluginSet:
    """A plugin manager plus the record of every plugin it tried to load."""

    def __init__(self) -> None:
        self.manager = pluggy.PluginManager("ganzoo")
        self.manager.add_hookspecs(hookspecs)
        self.records: list[PluginRecord] = []
        self._registry: Registry | None = None

    @property
    def hook(self) -> Any:
        return self.manager.hook

    def _record(self, record: PluginRecord) -> PluginRecord:
        self.records.append(record)
        self._registry = None
        return record

    def register(
        self,
        plugin: object,
        name: str | None = None,
        *,
        source: str = "object",
        distribution: str | None = None,
        version: str | None = None,
    ) -> PluginRecord:
        """Register an already imported plugin object (module, class or instance)."""
        name = name or getattr(plugin, "__name__", None) or type(plugin).__name__
        record = PluginRecord(name, source, distribution, version)
        try:
            if self.manager.is_blocked(name):
                record.status = "blocked"
            else:
                self.manager.register(plugin, name=name)
        except Exception as exc:  # a bad hook signature, a name clash, ...
            record.status, record.error = "failed", _describe(exc)
        return self._record(record)

    def load_module(self, spec: str) -> PluginRecord:
        """Import and register a plugin named by a module path or a ``.py`` file."""
        name, source = spec, "module"
        try:
            if spec.endswith(".py") or os.sep in spec or "/" in spec:
                source = "file"
                path = Path(spec).expanduser().resolve()
                name = path.stem
                if not path.is_file():
                    raise FileNotFoundError(f"no plugin file at {path}")
                module = _import_file(path)
            else:
                module = importlib.import_module(spec)
        except Exception as exc:
            return self._record(PluginRecord(name, source, status="failed", error=_describe(exc)))
        return self.register(module, name=name, source=source)

    def load_entry_points(self, which: Autoload) -> None:
        if which == "none":
            return
        first_party, others = [], []
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            dist = getattr(ep, "dist", None)
            dist_name = dist.metadata["Name"] if dist is not None else None
            (first_party if dist_name == FIRST_PARTY_DISTRIBUTION else others).append(ep)
        chosen = first_party if which == "first-party" else first_party + others
        for ep in sorted(chosen, key=lambda e: e not in first_party):
            self._load_entry_point(ep)

    def _load_entry_point(self, ep: importlib.metadata.EntryPoint) -> PluginRecord:
        dist = getattr(ep, "dist", None)
        dist_name = dist.metadata["Name"] if dist is not None else None
        dist_version = dist.version if dist is not None else None
        name = ep.name
        if any(r.name == name for r in self.records) and dist_name:
            name = f"{dist_name}:{ep.name}"
        if self.manager.is_blocked(name) or (dist_name and self.manager.is_blocked(dist_name)):
            return self._record(
                PluginRecord(name, "entry point", dist_name, dist_version, status="blocked")
            )
        try:
            plugin = ep.load()
        except Exception as exc:  # one broken plugin must not break unrelated commands
            return self._record(
                PluginRecord(
                    name, "entry point", dist_name, dist_version, "failed", _describe(exc)
                )
            )
        return self.register(
            plugin,
            name=name,
            source="entry point",
            distribution=dist_name,
            version=dist_version,
        )

    def block(self, name: str) -> None:
        self.manager.set_blocked(name)

    @property
    def failed(self) -> list[PluginRecord]:
        return [r for r in self.records if r.status == "failed"]

    def registry(self) -> Registry:
        if self._registry is None:
            self._registry = Registry.collect(self)
        return self._registry


def load_plugins(
    extra: Sequence[str | object] = (),
    *,
    autoload: Autoload | None = None,
    blocked: Iterable[str] = (),
) -> PluginSet:
    """Build a plugin set: first-party plugins, entry points, then ``extra``.

    ``autoload`` defaults to ``"all"``, or ``"first-party"`` when the environment variable
    ``GANZOO_DISABLE_PLUGIN_AUTOLOAD`` is set (as pytest's ``PYTEST_DISABLE_PLUGIN_AUTOLOAD``).
    """
    plugins = PluginSet()
    for name in blocked:
        plugins.block(name)
    if autoload is None:
        autoload = "first-party" if os.environ.get(AUTOLOAD_ENV) else "all"
    plugins.load_entry_points(autoload)
    for item in extra:
        if isinstance(item, str):
            plugins.load_module(item)
        else:
            plugins.register(item)
    return plugins


def parse_plugin_options(options: Sequence[str]) -> tuple[list[str], list[str]]:
    """Split ``-p`` values into plugins to load and names blocked with ``no:NAME``."""
    load, blocked = [], []
    for option in options:
        (blocked.append(option[3:]) if option.startswith("no:") else load.append(option))
    return load, blocked


class UnknownComponent(UserError):
    pass


class Registry:
    """Every component the loaded plugins provide, by kind and name. A plain value."""

    def __init__(
        self,
        components: dict[str, dict[str, ComponentSpec]],
        conflicts: list[Conflict],
        failed: list[PluginRecord],
    ):
        self.components = components
        self.conflicts = conflicts
        self.failed = failed

    @classmethod
    def collect(cls, plugins: PluginSet) -> Registry:
        components: dict[str, dict[str, ComponentSpec]] = {k: {} for k in SPEC_TYPES}
        conflicts: dict[tuple[str, str], Conflict] = {}
        records = {r.name: r for r in plugins.records}
        for kind, hook_name in KIND_HOOKS.items():
            spec_type = SPEC_TYPES[kind]
            hook = getattr(plugins.hook, hook_name)
            # Call each implementation on its own so one failure is pinned on its plugin.
            for impl in hook.get_hookimpls():  # registration order
                record = records.get(impl.plugin_name) or PluginRecord(impl.plugin_name, "object")
                try:
                    specs = list(impl.function() or ())
                    for spec in specs:
                        if not isinstance(spec, spec_type):
                            raise TypeError(
                                f"{hook_name}() returned {type(spec).__name__}, "
                                f"expected {spec_type.__name__}"
                            )
                except Exception as exc:
                    record.status, record.error = "failed", _describe(exc)
                    continue
                for spec in specs:
                    spec = attrs.evolve(spec, provider=record.provider)
                    table = components[kind]
                    key = (kind, spec.name)
                    if key in conflicts:
                        conflicts[key].providers.append(spec.provider)
                    elif spec.name in table:
                        first = table.pop(spec.name)
                        conflicts[key] = Conflict(kind, spec.name, [first.provider, spec.provider])
                    else:
                        table[spec.name] = spec
                        record.components.append(f"{kind}:{spec.name}")
        failed = [r for r in plugins.records if r.status == "failed"]
        return cls(components, list(conflicts.values()), failed)

    def names(self, kind: str) -> list[str]:
        return sorted(self.components[kind])

    def all_specs(self) -> list[ComponentSpec]:
        return [spec for kind in self.components for spec in self.components[kind].values()]

    def find(self, kind: str, name: str) -> ComponentSpec | None:
        return self.components.get(kind, {}).get(name)

    def describe_unknown(self, kind: str, name: str) -> str:
        """Why ``name`` cannot be used: a conflict, or unknown with suggestions."""
        if kind not in self.components:
            return f"unknown component kind '{kind}'{did_you_mean(kind, self.components)}; " \
                f"available: {accepted(self.components)}"
        for conflict in self.conflicts:
            if conflict.kind == kind and conflict.name == name:
                return conflict.message()
        label = kind.replace("_", " ")
        names = self.names(kind) + [c.name for c in self.conflicts if c.kind == kind]
        message = (
            f"unknown {label} '{name}'{did_you_mean(name, names)}; available: {accepted(names)}"
        )
        if self.failed:
            message += "; plugins that failed to load: " + ", ".join(
                r.name for r in self.failed
            ) + " (see 'ganzoo plugins')"
        return message

    def get(self, kind: str, name: str) -> ComponentSpec:
        spec = self.find(kind, name)
        if spec is None:
            raise UnknownComponent(self.describe_unknown(kind, name))
        return spec


def _import_file(path: Path) -> ModuleType:
    module_name = f"ganzoo_local_plugin_{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    return module


def _describe(exc: BaseException) -> str:
    """One line naming the exception and where in the plugin it was raised."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"
