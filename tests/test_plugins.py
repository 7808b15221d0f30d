"""Plugin loading and the registry: duplicates, typos, broken plugins, entry points."""

from __future__ import annotations

import importlib.metadata
import textwrap

import attrs
import pytest

from ganzoo import LatentCodeSpec, LossSpec, hookimpl, param
from ganzoo.errors import UserError
from ganzoo.plugins import UnknownComponent, load_plugins
from ganzoo.session import open_plugins

FIRST_PARTY = {
    "backbone": {"dcgan", "resnet"},
    "latent_code": {"categorical", "gaussian", "uniform"},
    "loss": {"nonsaturating", "minimax", "least_squares", "hinge", "wasserstein"},
    "optimizer": {"adam", "adamw", "rmsprop", "sgd"},
    "schedule": {"constant", "linear_decay"},
    "dataset": {"mnist", "fashion_mnist", "cifar10", "image_folder", "synthetic"},
}


def test_first_party_components_come_through_entry_points(registry):
    for kind, names in FIRST_PARTY.items():
        assert names <= set(registry.names(kind)), kind
    spec = registry.get("latent_code", "categorical")
    assert spec.provider.distribution == "torch-ganzoo"
    assert spec.provider.version


def _code_plugin(name: str, summary: str = "x"):
    class Plugin:
        @hookimpl
        def ganzoo_latent_codes(self):
            return [LatentCodeSpec(name=name, summary=summary, factory="os:getcwd")]

    return Plugin()


def test_duplicate_names_name_both_providers():
    plugins = load_plugins(autoload="none")
    plugins.register(_code_plugin("twin"), name="alpha")
    plugins.register(_code_plugin("twin"), name="beta")
    registry = plugins.registry()
    with pytest.raises(UnknownComponent) as info:
        registry.get("latent_code", "twin")
    assert "alpha" in str(info.value) and "beta" in str(info.value)
    assert [c.name for c in registry.conflicts] == ["twin"]


def test_unknown_name_suggests_the_close_one(registry):
    with pytest.raises(UnknownComponent) as info:
        registry.get("latent_code", "categorcal")
    message = str(info.value)
    assert "did you mean 'categorical'" in message
    assert "gaussian" in message  # lists what is available


def test_a_plugin_that_raises_at_import_is_recorded_and_others_work(tmp_path):
    broken = tmp_path / "broken_plugin.py"
    broken.write_text("raise RuntimeError('boom at import')\n")
    plugins = load_plugins([str(broken)], autoload="first-party")
    record = next(r for r in plugins.records if r.name == "broken_plugin")
    assert record.status == "failed" and "boom at import" in record.error
    registry = plugins.registry()
    assert registry.get("backbone", "dcgan")  # unrelated components still load
    with pytest.raises(UnknownComponent) as info:
        registry.get("latent_code", "nope")
    assert "broken_plugin" in str(info.value)  # unknown names mention failed plugins


def test_a_registration_hook_that_raises_only_fails_its_plugin():
    class Bad:
        @hookimpl
        def ganzoo_losses(self):
            raise ValueError("bad hook")

    class WrongType:
        @hookimpl
        def ganzoo_losses(self):
            return ["not a spec"]

    plugins = load_plugins(autoload="first-party")
    plugins.register(Bad(), name="bad")
    plugins.register(WrongType(), name="wrong")
    registry = plugins.registry()
    records = {r.name: r for r in plugins.records}
    assert records["bad"].status == "failed" and "bad hook" in records["bad"].error
    assert records["wrong"].status == "failed" and "LossSpec" in records["wrong"].error
    assert "hinge" in registry.names("loss")


def test_strict_plugins_turns_failures_into_errors(tmp_path, monkeypatch):
    broken = tmp_path / "fragile.py"
    broken.write_text("import no_such_module_anywhere\n")
    with pytest.raises(UserError, match="fragile"):
        open_plugins([str(broken)], strict=True)
    assert open_plugins([str(broken)], strict=False).failed


def test_blocking_a_plugin_removes_its_components():
    plugins = load_plugins(autoload="first-party", blocked=["losses"])
    assert plugins.registry().names("loss") == []
    assert any(r.name == "losses" and r.status == "blocked" for r in plugins.records)


class _FakeDist:
    def __init__(self, name):
        self.metadata = {"Name": name}
        self.version = "9.9"


class _FakeEntryPoint:
    def __init__(self, name, dist, target):
        self.name, self.dist, self._target = name, _FakeDist(dist), target

    def load(self):
        if isinstance(self._target, Exception):
            raise self._target
        return self._target


def test_entry_points_load_guarded_without_installing(monkeypatch):
    good = _code_plugin("from_entry_point")
    fakes = [
        _FakeEntryPoint("good", "third-party-good", good),
        _FakeEntryPoint("broken", "third-party-broken", ImportError("missing dependency")),
    ]
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group: fakes)
    plugins = load_plugins(autoload="all")
    records = {r.name: r for r in plugins.records}
    assert records["good"].status == "loaded" and records["good"].distribution == "third-party-good"
    assert records["broken"].status == "failed" and "missing dependency" in records["broken"].error
    spec = plugins.registry().get("latent_code", "from_entry_point")
    assert spec.provider.distribution == "third-party-good" and spec.provider.version == "9.9"


def test_spec_names_are_validated():
    with pytest.raises(ValueError):
        LossSpec(name="Bad Name", summary="x", factory="os:getcwd")
    with pytest.raises(TypeError):
        LossSpec(name="ok", summary="x", factory="os:getcwd", config=dict)


def test_string_factories_are_imported_only_when_used():
    @attrs.frozen
    class Config:
        size: int = param(3, "a size")

    spec = LossSpec(name="lazy", summary="x", factory="no_such_module_xyz:build", config=Config)
    with pytest.raises(ModuleNotFoundError):
        spec.load_factory()


def test_registries_do_not_leak_between_plugin_sets():
    first = load_plugins(autoload="none")
    first.register(_code_plugin("only_here"), name="local")
    second = load_plugins(autoload="none")
    assert "only_here" in first.registry().names("latent_code")
    assert "only_here" not in second.registry().names("latent_code")


def test_plugin_file_with_hooks(tmp_path):
    source = tmp_path / "my_codes.py"
    source.write_text(
        textwrap.dedent(
            """
            from ganzoo import LatentCodeSpec, hookimpl

            @hookimpl
            def ganzoo_latent_codes():
                return [LatentCodeSpec(name="from_file", summary="x",
                                       factory="ganzoo_plugins.latent_codes.categorical:Categorical")]
            """
        )
    )
    plugins = load_plugins([str(source)], autoload="first-party")
    assert plugins.registry().get("latent_code", "from_file").provider.plugin == "my_codes"


def test_a_built_in_keeps_its_name_when_a_third_party_plugin_reuses_it(monkeypatch):
    fakes = [
        _FakeEntryPoint("codes", "torch-ganzoo", _code_plugin("shared", "built-in")),
        _FakeEntryPoint("intruder", "third-party", _code_plugin("shared", "third party")),
        _FakeEntryPoint("rival", "another-party", _code_plugin("contested", "one")),
        _FakeEntryPoint("rival2", "yet-another", _code_plugin("contested", "two")),
    ]
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group: fakes)
    registry = load_plugins(autoload="all").registry()
    assert registry.get("latent_code", "shared").summary == "built-in"
    assert registry.get("latent_code", "intruder:shared").summary == "third party"
    # two third-party plugins: the bare name is ambiguous, each qualified name works
    with pytest.raises(UnknownComponent, match="'rival:contested', 'rival2:contested'"):
        registry.get("latent_code", "contested")
    assert registry.get("latent_code", "rival2:contested").summary == "two"
    assert {c.name: c.kept is not None for c in registry.conflicts} == {"shared": True, "contested": False}


def test_listing_components_imports_neither_torch_nor_component_modules():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from ganzoo.cli import main\n"
        "for args in (['components'], ['plugins'], ['describe', 'backbone', 'dcgan'],"
        " ['describe', 'optimizer', 'adam'], ['components', 'steps', '--json']):\n"
        "    result = CliRunner().invoke(main, args)\n"
        "    assert result.exit_code == 0, result.output\n"
        "heavy = sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.'))\n"
        "print(len(heavy))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
        env={**__import__("os").environ, "GANZOO_DISABLE_PLUGIN_AUTOLOAD": "1"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0", "listing imported torch"


def _numeric_fields(registry, with_tuples=False):
    from ganzoo.recipe import SHARED_SETTINGS, TrainSettings
    from ganzoo.schema import fields_of

    classes = {f"{s.kind}:{s.name}": s.config for s in registry.all_specs()}
    classes |= {f"shared:{k}": v for k, v in SHARED_SETTINGS.items()} | {"train": TrainSettings}
    numeric = (int, float, tuple[float, float]) if with_tuples else (int, float)
    for label, cls in classes.items():
        for field in fields_of(cls):
            if field.type in numeric:
                yield label, cls, field


def test_every_numeric_parameter_of_every_component_has_a_range_that_fits_its_dtype(registry):
    """1e300 for a float (it becomes float32) and 2**63 for an int are recipe problems for
    every registered component, without the component declaring anything."""
    from ganzoo.schema import structure

    fields = list(_numeric_fields(registry))
    assert len(fields) > 40
    for label, cls, field in fields:
        for value in ((1e300, -1e300, 3.5e38) if field.type is float else (2**63, -(2**63) - 1)):
            problems = []
            structure(cls, {field.name: value}, label, problems)
            assert any(p.path == f"{label}.{field.name}" for p in problems), (label, field.name, value)


def test_every_first_party_numeric_parameter_declares_a_finite_range(registry):
    missing = []
    for label, _, field in _numeric_fields(registry, with_tuples=True):
        meta = field.metadata
        low = meta.get("ge") if meta.get("ge") is not None else meta.get("gt")
        high = meta.get("le") if meta.get("le") is not None else meta.get("lt")
        if low is None or high is None:
            missing.append(f"{label}.{field.name}")
    assert not missing, f"numeric parameters without declared bounds: {missing}"
