"""A recipe or a run directory is data: it never runs code by itself. And the rest of
"trust, round two": broken plugins and factories, bounded options, damaged and crafted
checkpoints, --overwrite on folders that are not runs, failures while writing."""

from __future__ import annotations

import errno
import json
import shutil
import zipfile
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from conftest import SMOKE_RECIPE
from ganzoo import checkpoint as ckpt
from ganzoo.cli import main

SMOKE_TEXT = SMOKE_RECIPE.read_text()


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def clean(result, code):
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A smoke run with checkpoints at steps 3 and 6 (copied by tests that change it)."""
    out = tmp_path_factory.mktemp("trust") / "run"
    clean(invoke("run", SMOKE_RECIPE, "--out", out), 0)
    return out


@pytest.fixture
def run_copy(trained, tmp_path):
    target = tmp_path / "run"
    shutil.copytree(trained, target)
    return target


def rewrite(path: Path, change) -> None:
    """Load a checkpoint, change its payload, save it with a fresh (valid) checksum."""
    payload = torch.load(path, weights_only=True)
    change(payload)
    ckpt.save_checkpoint(path, payload)


# -- recipes and run directories never import what they name -----------------------------------
@pytest.fixture
def marker_plugin(tmp_path):
    """A plugin file whose import leaves a marker file: proof that it ran."""
    marker = tmp_path / "MARKER"
    plugin = tmp_path / "evil_plugin.py"
    plugin.write_text(
        f"from pathlib import Path\nPath({str(marker)!r}).write_text('ran')\n"
        "from ganzoo import hookimpl\n\n@hookimpl\ndef ganzoo_losses():\n    return []\n"
    )
    return plugin, marker


def hostile_recipe(tmp_path: Path, entry: str) -> Path:
    recipe = tmp_path / "hostile.toml"
    recipe.write_text(f"plugins = [{json.dumps(entry)}]\n" + SMOKE_TEXT)
    return recipe


@pytest.mark.parametrize(
    "command",
    [["check"], ["show"], ["run", "--dry-run"], ["run", "--out", "{tmp}/out"]],
    ids=["check", "show", "dry-run", "run"],
)
def test_a_recipe_naming_a_plugin_file_runs_no_code(tmp_path, marker_plugin, command):
    plugin, marker = marker_plugin
    recipe = hostile_recipe(tmp_path, str(plugin))
    args = [a.replace("{tmp}", str(tmp_path)) for a in command]
    result = invoke(args[0], recipe, *args[1:])
    clean(result, 2)
    assert not marker.exists()
    assert "never loads code by itself" in result.output
    assert f"-p {plugin}" in result.output  # how to load it deliberately
    assert not (tmp_path / "out").exists()


def test_a_recipe_naming_a_module_path_imports_nothing(tmp_path):
    recipe = hostile_recipe(tmp_path, "ganzoo_plugins.no_such.module")
    result = invoke("check", recipe)
    clean(result, 2)
    assert "is a module path" in result.output and "-p ganzoo_plugins.no_such.module" in result.output


@pytest.fixture
def hostile_run(run_copy, marker_plugin):
    """A shared run directory whose saved recipe (in every checkpoint) names the plugin file."""
    plugin, marker = marker_plugin

    def name_the_file(payload):
        payload["recipe"]["plugins"] = [str(plugin)]

    for path in ckpt.list_checkpoints(run_copy):
        rewrite(path, name_the_file)
    text = (run_copy / "recipe.toml").read_text()
    assert "plugins = []" in text
    (run_copy / "recipe.toml").write_text(text.replace("plugins = []", f"plugins = [{json.dumps(str(plugin))}]"))
    return run_copy, plugin, marker


@pytest.mark.parametrize(
    "command",
    [
        ["eval", "{run}", "--json", "--samples", "64"],
        ["sample", "{run}", "--out", "{run}/grid.png"],
        ["run", "--resume", "{run}", "--set", "train.steps=8"],
        ["check", "{run}/recipe.toml"],
    ],
    ids=["eval", "sample", "resume", "check-saved-recipe"],
)
def test_a_run_directory_naming_a_plugin_file_runs_no_code(hostile_run, command):
    run, plugin, marker = hostile_run
    result = invoke(*[a.replace("{run}", str(run)) for a in command])
    clean(result, 2)
    assert not marker.exists()
    assert f"-p {plugin}" in result.output
    assert not (run / "grid.png").exists()
    assert not (run / "checkpoints" / "step_00000008.pt").exists()


def test_the_user_may_load_the_file_deliberately_with_p(hostile_run, tmp_path):
    run, plugin, marker = hostile_run
    result = invoke("sample", run, "--out", tmp_path / "grid.png", "-p", plugin)
    clean(result, 0)
    assert marker.exists() and (tmp_path / "grid.png").exists()


def test_a_required_plugin_that_is_not_installed_says_what_to_install(tmp_path):
    recipe = hostile_recipe(tmp_path, "no_such_plugin (ganzoo-no-such 1.2.3)")
    result = invoke("check", recipe)
    clean(result, 2)
    assert "needs plugin 'no_such_plugin'" in result.output
    assert "the run was made with ganzoo-no-such 1.2.3" in result.output
    assert "pip install 'ganzoo-no-such==1.2.3'" in result.output


# -- plugins and factories that fail -------------------------------------------------------------
BROKEN_FACTORIES = {
    "unimportable": ('"no_such_module_xyz:build"', "cannot be loaded", "ModuleNotFoundError"),
    "raising": ("_raise", "failed to build", "ZeroDivisionError"),
    "exiting": ("_exit", "failed to build", "SystemExit"),
    "wrong_type": ("_wrong", "returned str, expected a ganzoo.latent.LatentCode", None),
}


@pytest.fixture
def broken_codes(tmp_path):
    plugin = tmp_path / "broken_codes.py"
    specs = ",\n        ".join(
        f'LatentCodeSpec(name="{name}", summary="x", factory={factory})'
        for name, (factory, _, _) in BROKEN_FACTORIES.items()
    )
    plugin.write_text(
        "import sys\nfrom ganzoo import LatentCodeSpec, hookimpl\n\n"
        "def _raise(config):\n    return 1 / 0\n\n"
        "def _exit(config):\n    sys.exit(3)\n\n"
        "def _wrong(config):\n    return 'not a code'\n\n"
        f"@hookimpl\ndef ganzoo_latent_codes():\n    return [\n        {specs},\n    ]\n"
    )
    return plugin


@pytest.mark.parametrize("name", list(BROKEN_FACTORIES))
@pytest.mark.parametrize("command", ["check", "run"])
def test_a_failing_factory_is_reported_with_component_and_provider(tmp_path, broken_codes, name, command):
    _, says, error = BROKEN_FACTORIES[name]
    extra = ["--out", tmp_path / "out"] if command == "run" else []
    result = invoke(command, SMOKE_RECIPE, "-p", broken_codes,
                    "--set", f"model.latent.noise.type={name}", *extra)
    clean(result, 2)
    assert f"model.latent.noise: latent code '{name}' from plugin broken_codes" in result.output
    assert says in result.output
    if error:
        assert error in result.output


def test_sys_exit_at_plugin_import_is_caught_and_reported(tmp_path):
    plugin = tmp_path / "exits_at_import.py"
    plugin.write_text("import sys\nsys.exit(7)\n")
    listed = invoke("plugins", "--json", "-p", plugin)
    clean(listed, 0)
    record = next(r for r in json.loads(listed.stdout) if r["name"] == "exits_at_import")
    assert record["status"] == "failed" and "SystemExit: 7" in record["error"]
    for command in (["check", SMOKE_RECIPE], ["run", SMOKE_RECIPE, "--dry-run"]):
        result = invoke(*command, "-p", plugin)
        clean(result, 0)  # the recipe does not need it; the failure is said, not hidden
        assert f"plugin -p {plugin} failed to load" in result.output and "SystemExit" in result.output


def test_an_unknown_home_directory_in_data_root_is_a_user_error(tmp_path):
    result = invoke("run", SMOKE_RECIPE, "--dry-run", "--set", "data.root=~no_such_user_xyz/data")
    clean(result, 2)
    assert "data.root = '~no_such_user_xyz/data': cannot expand '~'" in result.output


def test_thousands_of_unknown_keys_are_listed_briefly_and_huge_recipes_refused(tmp_path):
    many = tmp_path / "many.toml"
    many.write_text(SMOKE_TEXT + "".join(f"k{i} = 1\n" for i in range(400)))
    result = invoke("check", many)
    clean(result, 2)
    assert "400 problems" in result.output and "... and 350 more" in result.output
    assert "... and" in result.output and len(result.output.splitlines()) < 60
    huge = tmp_path / "huge.toml"
    huge.write_text(SMOKE_TEXT + "\n[extra]\n" + "".join(f"k{i} = 1\n" for i in range(20_000)))
    result = invoke("check", huge)
    clean(result, 2)
    assert "a recipe has at most 10000" in result.output


# -- checkpoints ------------------------------------------------------------------------------------
def flip_tensor_bytes(path: Path, count: int = 64) -> None:
    """Flip ``count`` bytes in the middle of the largest tensor record: the file still
    unpickles, only numbers change (what a failing disk does)."""
    with zipfile.ZipFile(path) as archive:
        info = max(archive.infolist(), key=lambda i: i.file_size)
    data = bytearray(path.read_bytes())
    with path.open("rb") as f:  # the local header: 30 bytes, then name and extra field
        f.seek(info.header_offset)
        header = f.read(30)
    start = info.header_offset + 30 + int.from_bytes(header[26:28], "little") + int.from_bytes(header[28:30], "little")
    middle = start + info.file_size // 2
    for i in range(middle, middle + count):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def test_flipped_bits_are_detected_and_the_previous_checkpoint_used(run_copy, tmp_path):
    newest = run_copy / "checkpoints" / "step_00000006.pt"
    flip_tensor_bytes(newest)
    torch.load(newest, weights_only=True)  # still loads: only the checksum can tell
    with pytest.raises(ckpt.CheckpointError, match="checksum"):
        ckpt.load_checkpoint(newest)
    sampled = invoke("sample", run_copy, "--out", tmp_path / "grid.png")
    clean(sampled, 0)
    assert "skipping" in sampled.output and "checksum" in sampled.output
    assert "step_00000003.pt (step 3)" in sampled.output
    resumed = invoke("run", "--resume", run_copy, "--set", "train.steps=7")
    clean(resumed, 0)
    assert "from step_00000003.pt (step 3)" in resumed.output


def _drop(*keys):
    def change(payload):
        node = payload
        for key in keys[:-1]:
            node = node[key]
        del node[keys[-1]]

    return change


def _set(value, *keys):
    def change(payload):
        node = payload
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value

    return change


def _grow_first_weight(payload):
    name = next(iter(payload["models"]["generator"]))
    payload["models"]["generator"][name] = torch.zeros(3, 3, 3)


def _grow_adam_moment(payload):
    state = payload["optimizers"]["generator"]["state"]
    state[next(iter(state))]["exp_avg"] = torch.zeros(7)


CRAFTED = {
    "no generator": (_drop("models", "generator"), "no weights for network 'generator'"),
    "no optimizers": (_drop("optimizers"), "'optimizers' is missing"),
    "no epoch": (_drop("data", "epoch"), "'data' needs non-negative integers"),
    "short rng": (_set(torch.zeros(5, dtype=torch.uint8), "rng", "torch"), "'rng.torch' is not a generator state"),
    "weight shape": (_grow_first_weight, "wrong shape"),
    "moment shape": (_grow_adam_moment, "optimizer 'generator': exp_avg"),
    "step text": (_set("six", "step"), "'step' is a str"),
    "models list": (_set([], "models"), "'models' is a list"),
}


@pytest.mark.parametrize("case", list(CRAFTED))
def test_crafted_checkpoints_are_refused_naming_what_is_wrong(run_copy, case):
    change, says = CRAFTED[case]
    for path in ckpt.list_checkpoints(run_copy):
        rewrite(path, change)
    result = invoke("run", "--resume", run_copy, "--set", "train.steps=8")
    clean(result, 2)
    assert says in result.output


def test_crafted_image_shape_and_weights_are_refused_by_eval_and_sample(run_copy, tmp_path):
    rewrite(run_copy / "checkpoints" / "step_00000006.pt", _set([1, -4, 10**9], "image_shape"))
    result = invoke("sample", run_copy / "checkpoints" / "step_00000006.pt", "--out", tmp_path / "a.png")
    clean(result, 2)
    assert "'image_shape' is [1, -4, 1000000000]" in result.output
    rewrite(run_copy / "checkpoints" / "step_00000003.pt", _grow_first_weight)
    result = invoke("eval", run_copy / "checkpoints" / "step_00000003.pt", "--json")
    clean(result, 2)
    assert "network 'generator': wrong shape" in result.output


def test_checkpoints_of_format_2_still_load_unverified(tmp_path):
    path = tmp_path / "step_00000001.pt"
    torch.save({"format": "ganzoo-checkpoint/2", "step": 1, "recipe": {}, "models": {}}, path)
    assert ckpt.load_checkpoint(path)["step"] == 1


# -- run directories: --overwrite and failures while writing -----------------------------------------
def test_overwrite_refuses_a_folder_that_is_not_a_run(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "thesis.tex").write_text("years of work")
    shutil.copy(SMOKE_RECIPE, folder / "recipe.toml")  # even with a recipe in it
    for extra in ([], ["--overwrite"]):
        result = invoke("run", folder / "recipe.toml", "--out", folder, *extra)
        clean(result, 2)
        assert "is not a ganzoo run" in result.output and "already holds a run" not in result.output
    assert (folder / "thesis.tex").read_text() == "years of work"
    assert (folder / "recipe.toml").read_text() == SMOKE_TEXT


def test_overwrite_removes_only_what_ganzoo_wrote(run_copy):
    (run_copy / "notes.txt").write_text("keep me")
    (run_copy / "samples" / "keep.txt").write_text("keep me too")
    assert clean(invoke("run", SMOKE_RECIPE, "--out", run_copy), 2) is None
    result = invoke("run", SMOKE_RECIPE, "--out", run_copy, "--overwrite", "--set", "train.steps=1")
    clean(result, 0)
    assert (run_copy / "notes.txt").read_text() == "keep me"
    assert (run_copy / "samples" / "keep.txt").exists()
    assert [p.name for p in ckpt.list_checkpoints(run_copy)] == ["step_00000001.pt"]
    assert not list(run_copy.glob("samples/step_00000003.png"))


def test_a_failure_inside_torch_save_is_a_clear_exit_1(tmp_path, monkeypatch):
    out = tmp_path / "run"
    real_save = torch.save
    calls = []

    def save_then_fail(obj, f, *args, **kwargs):
        calls.append(1)
        if len(calls) > 1:  # as after ENOSPC: torch's zip writer, not an OSError
            f.write(b"partial")
            raise RuntimeError("[enforce fail at inline_container.cc:603] . unexpected pos 64 vs 0")
        return real_save(obj, f, *args, **kwargs)

    monkeypatch.setattr(torch, "save", save_then_fail)
    result = invoke("run", SMOKE_RECIPE, "--out", out)
    clean(result, 1)
    assert "could not write checkpoint" in result.output and "inline_container" in result.output
    assert "earlier checkpoints are intact" in result.output
    assert [p.name for p in (out / "checkpoints").iterdir()] == ["step_00000003.pt"]
    assert ckpt.load_checkpoint(out / "checkpoints" / "step_00000003.pt")["step"] == 3


def test_stale_temporary_files_are_removed_at_resume(run_copy):
    stale = [run_copy / "checkpoints" / ".step_00000009.pt.abc123.tmp", run_copy / ".recipe.toml.x.tmp"]
    for path in stale:
        path.write_bytes(b"half a checkpoint")
    clean(invoke("run", "--resume", run_copy, "--set", "train.steps=7"), 0)
    assert not any(path.exists() for path in stale)


def test_a_full_disk_error_names_the_reason(tmp_path, monkeypatch):
    out = tmp_path / "run"
    real_save = ckpt.save_checkpoint

    def full(path, payload):
        if payload["step"] > 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_save(path, payload)

    monkeypatch.setattr(ckpt, "save_checkpoint", full)
    result = invoke("run", SMOKE_RECIPE, "--out", out)
    clean(result, 1)
    assert "No space left on device" in result.output


def test_a_plugin_whose_config_or_check_fails_is_reported(tmp_path):
    plugin = tmp_path / "odd_parts.py"
    plugin.write_text(
        "import attrs\nfrom ganzoo import LatentCodeSpec, StepSpec, hookimpl, param\n\n"
        "@attrs.frozen\nclass Fussy:\n    dim: int = param(1, 'd')\n"
        "    def __attrs_post_init__(self):\n        raise ZeroDivisionError('fussy')\n\n"
        "def broken_check(config, recipe):\n    raise KeyError('oops')\n\n"
        "@hookimpl\ndef ganzoo_latent_codes():\n"
        "    return [LatentCodeSpec(name='fussy', summary='x', config=Fussy, factory='os:getcwd')]\n\n"
        "@hookimpl\ndef ganzoo_steps():\n"
        "    return [StepSpec(name='checked', summary='x', factory='os:getcwd', check=broken_check)]\n"
    )
    result = invoke("check", SMOKE_RECIPE, "-p", plugin, "--set", "model.latent.noise.type=fussy")
    clean(result, 2)
    assert "Fussy rejected these values (ZeroDivisionError: fussy)" in result.output
    result = invoke("check", SMOKE_RECIPE, "-p", plugin, "--set", "train.step.type=checked",
                    "--set", "model.latent.digit.regularized=false",
                    "--set", "model.latent.style.regularized=false", "--set", "train.terms={}")
    clean(result, 2)
    assert "the recipe check of step 'checked' from plugin odd_parts failed (KeyError" in result.output


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (_set(2**62, "data", "epoch"), "is beyond the data"),
        (lambda p: p["optimizers"]["generator"]["param_groups"][0].update(betas="fast"), "'betas' is 'fast'"),
        (_set(True, "lr_factor"), "'lr_factor' is a bool"),
    ],
    ids=["epoch", "betas", "lr_factor"],
)
def test_crafted_training_state_is_refused_before_it_is_used(run_copy, change, says):
    for path in ckpt.list_checkpoints(run_copy):
        rewrite(path, change)
    result = invoke("run", "--resume", run_copy, "--set", "train.steps=8")
    clean(result, 2)
    assert says in result.output
