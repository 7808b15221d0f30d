"""``ganzoo new-plugin``: the package it writes installs, registers and passes its own tests."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import tomllib

import pytest
from click.testing import CliRunner

from ganzoo.cli import main


def _new(tmp_path, name, kind):
    out = tmp_path / name
    result = CliRunner().invoke(main, ["new-plugin", name, "--kind", kind, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_the_skeleton_pip_installs_and_its_own_tests_pass(tmp_path):
    out = _new(tmp_path, "zz_skeleton_code", "latent_code")
    pyproject = tomllib.loads((out / "pyproject.toml").read_text())
    assert pyproject["build-system"]["build-backend"] == "hatchling.build"
    assert pyproject["project"]["entry-points"]["ganzoo"] == {
        "zz_skeleton_code": "ganzoo_zz_skeleton_code"
    }
    pip = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-deps",
        "--no-build-isolation",
        str(out),
    ]
    subprocess.run(pip, check=True, capture_output=True)
    try:
        env = {k: v for k, v in os.environ.items() if k != "GANZOO_DISABLE_PLUGIN_AUTOLOAD"}
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
            cwd=out,
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stdout[-3000:]
        assert "2 passed" in done.stdout
    finally:
        subprocess.run(
            [sys.executable, "-m", "pip", "uninstall", "-y", "-q", "ganzoo-zz-skeleton-code"],
            capture_output=True,
        )


@pytest.mark.parametrize("kind", ["loss", "dataset", "latent_code"])
def test_every_skeleton_kind_passes_its_conformance_check(tmp_path, kind, monkeypatch):
    name = f"zz_{kind}"
    out = _new(tmp_path, name, kind)
    monkeypatch.syspath_prepend(str(out / "src"))
    monkeypatch.syspath_prepend(str(out / "tests"))
    test_module = importlib.import_module(f"test_{name}")
    test_module.test_it_conforms()
    plugin = importlib.import_module(f"ganzoo_{name}")
    (spec,) = getattr(
        plugin,
        f"ganzoo_{ {'latent_code': 'latent_codes', 'loss': 'losses', 'dataset': 'datasets'}[kind] }",
    )()
    assert spec.name == name and callable(spec.load_factory())
    assert "```toml" in (out / "README.md").read_text()


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["x", "--kind", "optimiser"],
            "no skeleton for this kind; accepted: dataset, latent_code, loss",
        ),
        (["Bad-Name", "--kind", "loss"], "a component name is lower-case letters"),
    ],
)
def test_bad_names_and_kinds_exit_2(tmp_path, args, message):
    result = CliRunner().invoke(main, ["new-plugin", *args, "--out", str(tmp_path / "p")])
    assert result.exit_code == 2 and message in result.output


def test_a_non_empty_folder_is_never_overwritten(tmp_path):
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "keep.txt").write_text("mine")
    result = CliRunner().invoke(
        main, ["new-plugin", "x", "--kind", "loss", "--out", str(tmp_path / "p")]
    )
    assert result.exit_code == 2 and "not empty" in result.output
    assert (tmp_path / "p" / "keep.txt").read_text() == "mine"
