"""The wheel check that .ci/run applies to the built wheel: no tests, data or caches; recipes in."""

from __future__ import annotations

import zipfile

import pytest

from conftest import REPO


def _check_wheel():
    import importlib.util

    spec = importlib.util.spec_from_file_location("check_wheel", REPO / ".ci" / "check_wheel.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _wheel(tmp_path, names):
    path = tmp_path / "x-0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for name in names:
            archive.writestr(name, "")
    return str(path)


GOOD = [
    "ganzoo/api.py",
    "ganzoo_plugins/recipes/infogan_dcgan.toml",
    "ganzoo_plugins/recipes/smoke/infogan_synthetic.toml",
]


def test_a_clean_wheel_passes(tmp_path):
    assert _check_wheel().problems(_wheel(tmp_path, GOOD)) == []


@pytest.mark.parametrize(
    "extra",
    [
        "tests/test_cli.py",
        "ganzoo/__pycache__/cli.cpython-311.pyc",
        "data/MNIST/raw/train-images-idx3-ubyte",
        "runs/x/checkpoints/step_1.pt",
    ],
)
def test_tests_data_and_caches_are_refused(tmp_path, extra):
    assert _check_wheel().problems(_wheel(tmp_path, [*GOOD, extra])) == [f"must not ship: {extra}"]


def test_missing_recipes_are_refused(tmp_path):
    assert _check_wheel().problems(_wheel(tmp_path, GOOD[:1])) == [
        "missing: ganzoo_plugins/recipes/infogan_dcgan.toml",
        "missing: ganzoo_plugins/recipes/smoke/infogan_synthetic.toml",
    ]


def test_every_recipe_file_is_package_data_of_ganzoo_plugins():
    # what hatchling packs: every file under the package folder (recipes is a symlink to it)
    assert (REPO / "recipes").resolve() == (
        REPO / "plugins" / "ganzoo_plugins" / "recipes"
    ).resolve()
    assert (REPO / "recipes").is_symlink()


@pytest.mark.slow
def test_the_built_wheel_passes_the_check(tmp_path):
    import subprocess
    import sys

    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path), str(REPO)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("*.whl")
    assert _check_wheel().problems(str(wheel)) == []
    names = zipfile.ZipFile(wheel).namelist()
    assert sum(
        n.startswith("ganzoo_plugins/recipes/") and n.endswith(".toml") for n in names
    ) == len(list((REPO / "recipes").rglob("*.toml")))
