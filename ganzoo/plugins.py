"""Building the plugin manager and the component registry from it.

Nothing here is global: ``load_plugins()`` builds a fresh ``pluggy.PluginManager`` every time,
so tests and commands each get their own, and a broken plugin is recorded instead of raised.
Order: ganzoo's own first-party plugins (entry points of the ``torch-ganzoo`` distribution),
then every other entry point in group ``ganzoo`` (unless autoloading is off), then plugins
the user names with ``-p`` (module names or ``.py`` files).

Trust: only the user's command line imports a file or module path. A recipe (or the recipe
saved in a run directory) may only *require* plugins by entry-point name, and those load from
installed distributions (``PluginSet.require``); a recipe that names a file is refused with a
message saying how to load it deliberately.

Names: a first-party (built-in) component keeps its bare name even when a third-party plugin
registers the same one; the other is reachable as ``PLUGIN:name`` and the clash is reported.
Two third-party plugins with one name make the bare name ambiguous (an error naming both);
each stays reachable by its qualified name.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import re
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
# Installed plugins that stay off until a recipe requires them by name (``plugins =
# ["mlflow"]``): trusted like any installed entry point, but never autoloaded.
OPTIONAL_ENTRY_POINT_GROUP = "ganzoo.optional"
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
    requested: str | None = None  # what the user typed after -p, for plugins loaded that way

    @property
    def provider(self) -> Provider:
        return Provider(self.name, self.distribution, self.version)

    def as_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.define
class Conflict:
    """Several plugins register one name. With a built-in among them, the built-in keeps the
    bare name (``kept``); otherwise the bare name is ambiguous."""

    kind: str
    name: str
    providers: list[Provider]
    kept: Provider | None = None

    def qualified(self) -> list[str]:
        return [f"{p.plugin}:{self.name}" for p in self.providers if p != self.kept]

    def message(self) -> str:
        label = self.kind.replace("_", " ")
        who = " and ".join(str(p) for p in self.providers)
        others = ", ".join(f"'{q}'" for q in self.qualified())
        if self.kept is not None:
            return (
                f"{label} '{self.name}' is provided by both {who}; the built-in from "
                f"{self.kept.plugin} keeps the name, use {others} for the other"
            )
        return (
            f"{label} '{self.name}' is provided by both {who}; name one of them: {others} "
            "(or block one with -p no:PLUGIN)"
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
        """Import and register a plugin named by a module path or a ``.py`` file: only for
        what the user names on the command line (``-p``), never for a recipe's list."""
        name, source = plugin_name(spec), "file" if is_file_spec(spec) else "module"
        try:
            if source == "file":
                path = Path(spec).expanduser().resolve()
                if not path.is_file():
                    raise FileNotFoundError(f"no plugin file at {path}")
                module = _import_file(path)
            else:
                module = importlib.import_module(spec)
        except (Exception, SystemExit) as exc:  # sys.exit() at import must not end ganzoo
            record = PluginRecord(name, source, status="failed", error=_describe(exc))
            record.requested = spec
            return self._record(record)
        record = self.register(module, name=name, source=source)
        record.requested = spec
        return record

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
        except (Exception, SystemExit) as exc:  # one broken plugin must not break the others
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

    def require(self, entry: str) -> tuple[str | None, str | None]:
        """Make sure the plugin a recipe requires is loaded, importing nothing but an
        installed entry point. Returns (problem, note); both None when all is well."""
        for record in self.records:  # a file or module the user loaded with -p
            if record.requested is not None and (
                entry == record.requested or plugin_name(entry) == record.name
            ):
                return self._requirement_status(record, Requirement(record.name))
        wanted = parse_requirement(entry)
        if wanted is None:
            kind = "file" if is_file_spec(entry) else "module path"
            return (
                f"'{entry}' is a {kind}; a recipe never loads code by itself. If you trust it, "
                f"load it deliberately on the command line with -p {entry} (as pytest's -p), "
                "or install it as a package with a 'ganzoo' entry point and name that",
                None,
            )
        for record in self.records:
            if wanted.name in (record.name, record.requested, record.distribution):
                return self._requirement_status(record, wanted)
        candidates = [
            ep
            for group in (ENTRY_POINT_GROUP, OPTIONAL_ENTRY_POINT_GROUP)
            for ep in importlib.metadata.entry_points(group=group)
            if wanted.name in (ep.name, _distribution_name(ep))
        ]
        if candidates:  # installed, so trusted; not loaded because autoloading is off
            return self._requirement_status(self._load_entry_point(candidates[0]), wanted)
        made_with = (
            f" (the run was made with {wanted.distribution} {wanted.version or ''})".replace(" )", ")")
            if wanted.distribution else ""
        )
        install = (
            f"pip install '{wanted.distribution}=={wanted.version}'" if wanted.version
            else f"pip install {wanted.distribution}" if wanted.distribution
            else "install the package that provides it"
        )
        return (
            f"needs plugin '{wanted.name}'{made_with}, which is not installed (no entry point "
            f"'{wanted.name}' in group '{ENTRY_POINT_GROUP}'): {install}, or load it "
            "deliberately with -p MODULE_OR_FILE",
            None,
        )

    def _requirement_status(
        self, record: PluginRecord, wanted: Requirement
    ) -> tuple[str | None, str | None]:
        if record.status == "blocked":
            return f"needs plugin '{wanted.name}', which is blocked (-p no:{record.name})", None
        if record.status == "failed":
            return f"needs plugin '{wanted.name}', which failed to load: {record.error}", None
        if wanted.version and record.version and wanted.version != record.version:
            return None, (
                f"plugin {wanted.name}: {record.distribution} {record.version} is installed; "
                f"the recipe was written with {wanted.version}"
            )
        return None, None

    @property
    def failed(self) -> list[PluginRecord]:
        return [r for r in self.records if r.status == "failed"]

    def registry(self) -> Registry:
        if self._registry is None:
            self._registry = Registry.collect(self)
        return self._registry


@attrs.frozen
class Requirement:
    """A plugin a recipe requires: ``"NAME"`` or ``"NAME (DISTRIBUTION VERSION)"``, as the
    resolved recipe records it (NAME: an entry point in group ``ganzoo``)."""

    name: str
    distribution: str | None = None
    version: str | None = None

    def __str__(self) -> str:
        return str(Provider(self.name, self.distribution, self.version))


_REQUIREMENT = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9_:-]*)"
    r"(?:\s*\((?P<dist>[A-Za-z0-9][A-Za-z0-9_.-]*)(?:\s+(?P<version>[^\s()]+))?\))?$"
)


def parse_requirement(entry: str) -> Requirement | None:
    """The requirement a recipe's ``plugins`` entry states; None for a file or module path."""
    match = _REQUIREMENT.match(entry.strip()) if isinstance(entry, str) else None
    if match is None:
        return None
    return Requirement(match["name"], match["dist"], match["version"])


def is_file_spec(spec: str) -> bool:
    return spec.endswith(".py") or os.sep in spec or "/" in spec


def plugin_name(spec: str) -> str:
    """The name a ``-p`` plugin is registered under: a file's stem, or the module path."""
    return Path(spec).stem if is_file_spec(spec) else spec


def _distribution_name(ep: importlib.metadata.EntryPoint) -> str | None:
    dist = getattr(ep, "dist", None)
    return dist.metadata["Name"] if dist is not None else None


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
    """Every component the loaded plugins provide, by kind and name. A plain value.

    ``components[kind]`` maps bare names to specs; ``qualified[kind]`` maps ``PLUGIN:name``
    to every spec, so a component whose bare name is taken stays reachable."""

    def __init__(
        self,
        components: dict[str, dict[str, ComponentSpec]],
        conflicts: list[Conflict],
        failed: list[PluginRecord],
        qualified: dict[str, dict[str, ComponentSpec]] | None = None,
    ):
        self.components = components
        self.conflicts = conflicts
        self.failed = failed
        self.qualified = qualified if qualified is not None else {
            kind: {f"{s.provider.plugin if s.provider else ''}:{n}": s for n, s in table.items()}
            for kind, table in components.items()
        }

    @classmethod
    def collect(cls, plugins: PluginSet) -> Registry:
        by_name: dict[str, dict[str, list[ComponentSpec]]] = {k: {} for k in SPEC_TYPES}
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
                except (Exception, SystemExit) as exc:
                    record.status, record.error = "failed", _describe(exc)
                    continue
                for spec in specs:
                    spec = attrs.evolve(spec, provider=record.provider)
                    by_name[kind].setdefault(spec.name, []).append(spec)
                    record.components.append(f"{kind}:{spec.name}")
        components: dict[str, dict[str, ComponentSpec]] = {k: {} for k in SPEC_TYPES}
        qualified: dict[str, dict[str, ComponentSpec]] = {k: {} for k in SPEC_TYPES}
        conflicts: list[Conflict] = []
        for kind, names in by_name.items():
            for name, specs in names.items():
                for spec in specs:
                    qualified[kind][f"{spec.provider.plugin}:{name}"] = spec  # type: ignore[union-attr]
                if len(specs) == 1:
                    components[kind][name] = specs[0]
                    continue
                built_in = [s for s in specs if _is_first_party(s.provider)]
                kept = built_in[0] if len(built_in) == 1 else None
                if kept is not None:
                    components[kind][name] = kept
                conflicts.append(
                    Conflict(kind, name, [s.provider for s in specs], kept.provider if kept else None)  # type: ignore[misc]
                )
        failed = [r for r in plugins.records if r.status == "failed"]
        return cls(components, conflicts, failed, qualified)

    def names(self, kind: str) -> list[str]:
        return sorted(self.components[kind])

    def all_specs(self) -> list[ComponentSpec]:
        return [spec for kind in self.components for spec in self.components[kind].values()]

    def shadowed(self, kind: str) -> dict[str, ComponentSpec]:
        """Components reachable only by their qualified name ``PLUGIN:name``."""
        bare = {id(s) for s in self.components.get(kind, {}).values()}
        return {q: s for q, s in self.qualified.get(kind, {}).items() if id(s) not in bare}

    def find(self, kind: str, name: str) -> ComponentSpec | None:
        if ":" in name:
            return self.qualified.get(kind, {}).get(name)
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
        names += list(self.shadowed(kind))
        message = (
            f"unknown {label} '{name}'{did_you_mean(name, names)}; available: {accepted(set(names))}"
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


def _is_first_party(provider: Provider | None) -> bool:
    return provider is not None and provider.distribution == FIRST_PARTY_DISTRIBUTION


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
