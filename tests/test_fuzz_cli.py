"""Property-based fuzzing of ``ganzoo check`` and ``ganzoo run --dry-run``.

Malformed TOML, wrong types, unknown keys, huge and negative numbers, empty tables, odd
component names and odd ``--set`` expressions must each end with exit status 2 and a line
``error: ...`` naming the problem (or exit 0 where the mutation happens to be valid), never an
uncaught exception or a traceback. The strategies live here so they keep running with the
suite; every test also carries explicit examples for the nastiest known cases.
"""

from __future__ import annotations

import copy
import functools
import math
import os
import tomllib
import traceback
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from click.testing import CliRunner
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from conftest import SMOKE_RECIPE
from ganzoo.cli import main

SMOKE_TEXT = SMOKE_RECIPE.read_text(encoding="utf-8")
SMOKE: dict[str, Any] = tomllib.loads(SMOKE_TEXT)

FUZZ = settings(
    max_examples=35,
    deadline=None,
    # CI explores a fixed set of examples (reproducible failures); locally each run explores anew.
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
FEW = settings(FUZZ, max_examples=20)

# Keys and tables every recipe may hold, beside the parameters of the components.
STRUCTURAL_KEYS = {
    "name",
    "seed",
    "plugins",
    "data",
    "model",
    "loss",
    "train",
    "backbone",
    "latent",
    "q_head",
    "step",
    "terms",
    "mutual_information",
    "type",
    "optimizer",
    "lr_schedule",
    "generator",
    "discriminator",
}
# Where component tables live, with their kind (as ganzoo.recipe.table_at says).
COMPONENT_TABLES: list[tuple[tuple[str, ...], str]] = [
    (("data",), "dataset"),
    (("model", "backbone"), "backbone"),
    (("model", "latent", "noise"), "latent_code"),
    (("model", "latent", "digit"), "latent_code"),
    (("loss",), "loss"),
    (("train", "optimizer", "generator"), "optimizer"),
    (("train", "lr_schedule"), "schedule"),
]
# Numeric parameters beside those the smoke recipe sets (their tables exist or are created).
EXTRA_NUMERIC_PATHS: list[tuple[str, ...]] = [
    ("train", "step", "discriminator_steps"),
    ("train", "eval_every"),
    ("train", "eval_samples"),
    ("train", "keep_checkpoints"),
    ("train", "rollback_lr_factor"),
    ("model", "backbone", "leaky_slope"),
    ("model", "backbone", "init_std"),
    ("model", "latent", "style", "low"),
    ("model", "latent", "style", "high"),
    ("model", "latent", "digit", "weight"),
    ("train", "optimizer", "generator", "eps"),
    ("train", "optimizer", "discriminator", "weight_decay"),
    ("train", "optimizer", "generator", "lr"),
    ("train", "optimizer", "generator", "weight_decay"),
    ("train", "terms", "gradient_penalty", "weight"),
    ("data", "seed"),
]


# ----------------------------------------------------------------------------- helpers


def leaf_paths(data: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for key, value in data.items():
        if isinstance(value, dict):
            out += leaf_paths(value, (*prefix, key))
        else:
            out.append((*prefix, key))
    return out


def table_paths(data: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = [prefix]
    for key, value in data.items():
        if isinstance(value, dict):
            out += table_paths(value, (*prefix, key))
    return out


def get_path(data: dict[str, Any], path: Sequence[str]) -> Any:
    for key in path:
        data = data[key]
    return data


def set_path(data: dict[str, Any], path: Sequence[str], value: Any) -> None:
    for key in path[:-1]:
        data = data.setdefault(key, {})
    data[path[-1]] = value


def dotted(path: Sequence[str]) -> str:
    return ".".join(path)


LEAF_PATHS = leaf_paths(SMOKE)
TABLE_PATHS = table_paths(SMOKE)
NUMERIC_PATHS = [
    p
    for p in LEAF_PATHS
    if isinstance(get_path(SMOKE, p), int | float) and not isinstance(get_path(SMOKE, p), bool)
] + EXTRA_NUMERIC_PATHS
# Leaves that never accept a string: a bare-word --set value there is always an error.
NON_STRING_PATHS = [p for p in LEAF_PATHS if not isinstance(get_path(SMOKE, p), str)]


@functools.cache
def registry() -> Any:
    from ganzoo.plugins import load_plugins

    return load_plugins(autoload="first-party").registry()


@functools.cache
def known_keys() -> frozenset[str]:
    """Every key accepted anywhere in a recipe, so 'unknown' keys are really unknown."""
    from ganzoo import recipe
    from ganzoo.schema import fields_of

    names = set(STRUCTURAL_KEYS) | set(SMOKE["model"]["latent"])
    import attrs

    classes = [
        recipe.DataSettings,
        recipe.LatentSettings,
        recipe.TermSettings,
        recipe.TrainSettings,
    ] + [spec.config for spec in registry().all_specs()]
    while classes:  # nested tables (an attrs field of an attrs config) too
        fields = fields_of(classes.pop())
        names |= {f.name for f in fields}
        classes += [f.type for f in fields if isinstance(f.type, type) and attrs.has(f.type)]
    return frozenset(names)


def toml_literal(value: Any) -> str:
    """``value`` as a TOML value literal (for ``--set PATH=VALUE``)."""
    return tomli_w.dumps({"v": value}).split("=", 1)[1].strip()


def toml_value_of(text: str) -> Any:
    """What ``--set`` makes of VALUE: TOML, else the bare word (the documented rule)."""
    text = text.strip()
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except Exception:
        return text


_RUNNER = CliRunner()


def invoke(args: Iterable[Any]) -> Any:
    return _RUNNER.invoke(main, [str(a) for a in args], catch_exceptions=True)


def assert_clean(result: Any, allowed: Iterable[int], needles: Sequence[str] = ()) -> None:
    """No uncaught exception, an allowed exit status, and on 2 an 'error:' line and needles."""
    crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
    detail = ""
    if crashed and result.exc_info is not None:
        detail = "".join(traceback.format_exception(*result.exc_info))
    assert not crashed, f"uncaught {result.exception!r}\n{detail}\noutput:\n{result.output}"
    assert "Traceback" not in result.output, result.output
    allowed = set(allowed)
    assert result.exit_code in allowed, (
        f"exit {result.exit_code}, wanted {allowed}:\n{result.output}"
    )
    if result.exit_code == 2:
        lines = result.output.splitlines()
        assert any(line.startswith("error:") for line in lines), result.output
        for needle in needles:
            assert needle in result.output, f"{needle!r} not in:\n{result.output}"


def check_both(
    workdir: Path,
    recipe: Path,
    overrides: Sequence[str] = (),
    allowed: Iterable[int] = (0, 2),
    needles: Sequence[str] = (),
) -> tuple[Any, Any]:
    """``ganzoo check`` then ``ganzoo run --dry-run`` on the same recipe and overrides.

    A recipe ``check`` rejects must be rejected the same way by the dry run (which fails
    before it loads any data); one ``check`` accepts may still fail the dry run with exit 2
    (data or model that cannot be built), never with an uncaught exception.
    """
    sets = [f"--set={o}" for o in overrides]
    checked = invoke(["check", recipe, *sets])
    assert_clean(checked, set(allowed), needles)
    dry = invoke(["run", recipe, "--dry-run", "--device", "cpu", "--out", workdir / "out", *sets])
    if currently_in_test_context():  # outcome counts for --hypothesis-show-statistics
        event(f"check exit {checked.exit_code}, dry run exit {dry.exit_code}")
    if checked.exit_code == 2:
        assert_clean(dry, {2}, needles)
    else:
        assert "ok" in checked.output
        assert_clean(dry, {0, 2})
        if dry.exit_code == 0:
            assert "dry run ok" in dry.output
    return checked, dry


def write_recipe(workdir: Path, data: dict[str, Any]) -> Path:
    path = workdir / "recipe.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def write_bytes(workdir: Path, data: bytes) -> Path:
    path = workdir / "recipe.toml"
    path.write_bytes(data)
    return path


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz_cli")


# ----------------------------------------------------------------------------- strategies

# Printable text of every script (no control characters, which a terminal would mangle).
printable = st.characters(blacklist_categories=("Cc", "Cs"))
nasty_words = st.sampled_from(
    [
        "",
        " ",
        "stéps",
        "Stéps",
        "🔥",
        "👩‍💻",
        "שלום",
        "مفتاح",
        "\u202esteps",
        "ste\u200bps",
        "k" * 5000,
        "a.b",
        "[x]",
        '"',
        "'",
        "\\",
        "=",
        "null",
        "None",
        "ıı",
        "ß",
        "ﬀ",
        "\u0301",
        "e\u0301",
        "\u2028",
        "\ufeff",
        "日本語のキー",
    ]
)
long_words = st.builds(
    lambda s, n: s * n, st.text(printable, min_size=1, max_size=3), st.integers(50, 1500)
)
odd_keys = st.one_of(nasty_words, st.text(printable, max_size=30), long_words)
identifiers = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True)

NONFINITE = [math.inf, -math.inf, math.nan]
scalars = st.one_of(
    st.text(printable, max_size=20),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(NONFINITE),
    st.datetimes(),
    st.datetimes(timezones=st.just(timezone(timedelta(hours=5, minutes=30)))),
    st.dates(),
    st.times(),
)
any_values = st.one_of(
    scalars,
    st.lists(scalars, max_size=3),
    st.dictionaries(st.text(printable, max_size=8), scalars, max_size=3),
)


def same_kind(value: Any, old: Any) -> bool:
    """Whether ``value`` would be accepted where ``old`` (a smoke-recipe value) stands."""
    if isinstance(old, dict):
        return isinstance(value, dict)
    if isinstance(old, bool):
        return isinstance(value, bool)
    if isinstance(old, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(old, float):
        return (
            isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        )
    if isinstance(old, str):
        return isinstance(value, str)
    return type(value) is type(old)


@st.composite
def wrong_types(draw: st.DrawFn) -> tuple[tuple[str, ...], Any]:
    """(path, value): an existing leaf or table replaced by a value of another type."""
    path = draw(st.sampled_from(LEAF_PATHS + [p for p in TABLE_PATHS if p]))
    old = get_path(SMOKE, path)
    value = draw(any_values.filter(lambda v: not same_kind(v, old)))
    return path, value


@st.composite
def unknown_keys(draw: st.DrawFn) -> tuple[tuple[str, ...], str, Any]:
    """(table, key, value): a key no recipe accepts, inserted into an existing table."""
    table = draw(st.sampled_from(TABLE_PATHS))
    key = draw(odd_keys.filter(lambda k: k not in known_keys()))
    value = draw(st.one_of(scalars, st.lists(scalars, max_size=2), st.just({})))
    return table, key, value


# Float parameters among the numeric paths: they take any finite number within TOML's range.
FLOAT_KEYS = {
    "lr",
    "eps",
    "weight_decay",
    "weight",
    "low",
    "high",
    "leaky_slope",
    "init_std",
    "rollback_lr_factor",
    "gradient_penalty",
}
HUGE = [
    2**63 - 1,
    -(2**63 - 1),
    -(2**63),
    -1,
    0,
    1,
    1e308,
    -1e308,
    1e300,
    3.5e38,  # just beyond float32
    -3.4e38,  # just within
    2**32,  # just beyond a seed
    5e-324,
    -0.0,
    2**63,
    2**64,
    10**40,
    -(10**40),
    10**400,
]


@st.composite
def huge_numbers(draw: st.DrawFn) -> list[tuple[tuple[str, ...], Any]]:
    """One or two numeric parameters set to extreme values."""
    paths = draw(st.lists(st.sampled_from(NUMERIC_PATHS), min_size=1, max_size=2, unique=True))
    return [(p, draw(st.sampled_from(HUGE))) for p in paths]


EMPTY_VALID = {
    ("model", "backbone"),
    ("train", "step", "q_head"),
    ("train", "optimizer"),
    ("train", "optimizer", "generator"),
    ("train", "optimizer", "discriminator"),
}
EMPTY_INVALID = {
    (),
    ("data",),
    ("model",),
    ("model", "latent"),
    ("model", "latent", "noise"),
    ("model", "latent", "digit"),
    ("model", "latent", "style"),
    # no [train.step]: the default adversarial step cannot recover the regularised codes
    ("train",),
    ("train", "step"),
}
STEPLESS = {("train",), ("train", "step")}


def empty_needle(path: tuple[str, ...]) -> str:
    if path in ((), ("data",)):
        return "data"
    if path in (("model",), ("model", "latent")):
        return "model.latent: required"
    if path in STEPLESS:
        return "step 'adversarial' has no network that recovers codes"
    return f"{dotted(path)}.type: required"


@st.composite
def component_names(draw: st.DrawFn) -> tuple[tuple[str, ...], str, str, bool]:
    """(table, kind, name, near_miss): a ``type`` naming no component of that kind."""
    table, kind = draw(st.sampled_from(COMPONENT_TABLES))
    names = registry().names(kind)
    near_miss = draw(st.booleans())
    if near_miss:
        base = draw(st.sampled_from([n for n in names if len(n) >= 3]))
        i = draw(st.integers(1, len(base) - 1))
        ch = draw(st.sampled_from("xqzé0_"))
        edit = draw(st.sampled_from(["delete", "replace", "insert"]))
        name = {
            "delete": base[:i] + base[i + 1 :],
            "replace": base[:i] + ch + base[i + 1 :],
            "insert": base[:i] + ch + base[i:],
        }[edit]
    else:
        name = draw(
            st.one_of(
                nasty_words,
                st.text(printable, max_size=25),
                long_words,
                st.sampled_from([n for k in registry().components for n in registry().names(k)]),
            )
        )
    if name in names:
        near_miss = False
        name = name + "é"
    return table, kind, name, near_miss


VALID_SETS = ["train.steps=2", "seed=3", "data.batch_size=8", "name=fuzz"]
BROKEN_TOML_VALUES = [
    "[1,",
    "{a=",
    "'unterminated",
    '"unterminated',
    "[[[",
    "1e",
    "0x",
    "tru",
    "1__0",
    "--1",
    "'''",
    "{",
    "]",
    "1,2",
    "{a=1,}",
    "[1,,2]",
    '"\\q"',
    "1979-05-27T",
    "0b2",
    "+nan0",
]


@st.composite
def odd_overrides(draw: st.DrawFn) -> tuple[str, bool, list[str]]:
    """(override, always_invalid, needles): one odd ``--set`` expression."""
    kind = draw(
        st.sampled_from(
            [
                "no_eq",
                "empty_path",
                "empty_segment",
                "into_value",
                "unicode_path",
                "broken_value",
                "long_value",
                "equals_only",
                "type_reset",
                "smuggled",
            ]
        )
    )
    if kind == "no_eq":
        text = draw(st.text(printable, max_size=40).filter(lambda t: "=" not in t))
        return text, True, ["expected PATH=VALUE"]
    if kind == "empty_path":
        return (
            draw(st.sampled_from(["", " ", "\t"])) + "=" + draw(st.text(printable, max_size=10)),
            True,
            ["expected PATH=VALUE"],
        )
    if kind == "equals_only":
        return (
            draw(st.sampled_from(["=", "==", "= =", "=1=2", " = "])),
            True,
            ["expected PATH=VALUE"],
        )
    if kind == "empty_segment":
        parts = draw(st.lists(identifiers, min_size=1, max_size=4))
        at = draw(st.integers(0, len(parts)))
        parts.insert(at, draw(st.sampled_from(["", " ", "\t"])))
        return ".".join(parts) + "=1", True, ["is not a dotted key path"]
    if kind == "into_value":
        leaf = draw(st.sampled_from(LEAF_PATHS))
        more = draw(st.lists(identifiers, min_size=1, max_size=3))
        value = draw(st.sampled_from(["1", "x", "[1]", "{a=1}"]))
        return (
            f"{dotted(leaf)}.{'.'.join(more)}={value}",
            True,
            [f"'{dotted(leaf)}' is a value, not a table"],
        )
    if kind == "unicode_path":
        prefix = draw(
            st.sampled_from(["", "train.", "data.", "model.backbone.", "train.step.q_head.", "loss."])
        )
        segment = st.one_of(nasty_words, st.text(printable, min_size=1, max_size=12)).filter(
            lambda s: (
                s and s == s.strip() and "=" not in s and "." not in s and s not in known_keys()
            )
        )
        segments = draw(st.lists(segment, min_size=1, max_size=3))
        value = draw(st.sampled_from(["1", "x", "true", "[1,"]))
        return f"{prefix}{'.'.join(segments)}={value}", True, [prefix + segments[0]]
    if kind == "broken_value":
        leaf = dotted(draw(st.sampled_from(NON_STRING_PATHS)))
        return f"{leaf}={draw(st.sampled_from(BROKEN_TOML_VALUES))}", True, [leaf]
    if kind == "long_value":
        n = draw(st.sampled_from([20, 400, 5000, 20000]))
        choice = draw(st.sampled_from(["digits", "brackets", "braces", "name", "root"]))
        if choice == "digits":
            return "train.steps=" + "9" * n, True, ["train.steps"]
        if choice == "brackets":
            return "model.backbone.hidden=" + "[" * n, True, ["model.backbone.hidden"]
        if choice == "braces":
            return "data.size=" + "{a=" * n, True, ["data.size"]
        return ("name=" if choice == "name" else "data.root=") + "x" * n, False, []
    if kind == "type_reset":
        table, kind_name = draw(st.sampled_from(COMPONENT_TABLES))
        raw = draw(st.one_of(nasty_words, st.text(printable, max_size=15), st.just("nope")))
        value = toml_value_of(raw)
        if isinstance(value, str) and value in registry().names(kind_name):
            raw, value = "nope", "nope"
        if isinstance(value, str):
            needle = f"unknown {kind_name.replace('_', ' ')} '{value}'"
        else:
            needle = f"{dotted(table)}.type: expected a component name"
        return f"{dotted(table)}.type={raw}", True, [needle]
    # smuggled: a newline in VALUE must not slip further keys into the recipe
    leaf = dotted(draw(st.sampled_from(NON_STRING_PATHS)))
    extra = draw(st.sampled_from(["data.count = 16", "[x]", "v2 = 3", "name = 'x'"]))
    return f"{leaf}=3\n{extra}", True, [leaf]


@st.composite
def malformed_toml(draw: st.DrawFn) -> tuple[bytes, bool]:
    """(file bytes, always_invalid): broken TOML, broken UTF-8 or a truncated recipe."""
    kind = draw(
        st.sampled_from(
            [
                "random",
                "truncated",
                "brackets",
                "deep",
                "duplicate",
                "escape",
                "bytes",
                "huge_int",
            ]
        )
    )
    raw = SMOKE_TEXT.encode()
    if kind == "random":
        return draw(st.text(max_size=200)).encode("utf-8", "surrogatepass"), True
    if kind == "truncated":
        return raw[: draw(st.integers(0, len(raw) - 1))], False
    if kind == "brackets":
        at = draw(st.integers(0, len(raw)))
        junk = draw(
            st.sampled_from(["[", "]", "{", "}", "[[", "]]", "[data", "{a=1", "[]", '"', "'"])
        )
        return raw[:at] + junk.encode() + raw[at:], False
    if kind == "deep":
        n = draw(st.sampled_from([100, 600, 3000, 20000]))
        tail = draw(
            st.sampled_from(
                [
                    "deep = " + "[" * n,
                    "deep = " + "[" * n + "1" + "]" * n,
                    "deep = " + "{a=" * n,
                    "deep." * n + "x = 1",
                ]
            )
        )
        return (tail + "\n").encode() + raw, True
    if kind == "duplicate":
        lines = SMOKE_TEXT.splitlines(keepends=True)
        candidates = [i for i, line in enumerate(lines) if "=" in line and not line.startswith("#")]
        if draw(st.booleans()):
            i = draw(st.sampled_from(candidates))
            lines.insert(i + 1, lines[i])
        else:
            header = draw(st.sampled_from([l for l in lines if l.startswith("[")]))
            lines.append("\n" + header + "batch = 1\n")
        return "".join(lines).encode(), True
    if kind == "escape":
        bad = draw(
            st.sampled_from(
                ["\\q", "\\u12", "\\UFFFFFFFF", "\\x41", "\\uD800", "\\", "\\ ", "\\U0011FFFF"]
            )
        )
        text = SMOKE_TEXT.replace('name = "smoke-infogan"', f'name = "smoke{bad}infogan"')
        return text.encode(), True
    if kind == "bytes":
        at = draw(st.integers(0, len(raw)))
        junk = draw(
            st.sampled_from(
                [
                    b"\xff",
                    b"\xfe",
                    b"\xc3\x28",
                    b"\xed\xa0\x80",
                    b"\xf4\x90\x80\x80",
                    b"\xc0\xaf",
                    b"\x80",
                ]
            )
        )
        return raw[:at] + junk + raw[at:], True
    digits = draw(st.sampled_from([30, 400, 4301, 10000]))
    return SMOKE_TEXT.replace("seed = 0", "seed = " + "9" * digits).encode(), True


def toml_status(data: bytes) -> str:
    """The oracle: 'utf8' (not UTF-8), 'toml' (not TOML), 'deep' (too deep to parse) or 'ok'."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "utf8"
    try:
        tomllib.loads(text)
    except RecursionError:  # nested too deeply for the parser (here or in the command)
        return "deep"
    except Exception:  # TOMLDecodeError, but also ValueError (integers of > 4300 digits)
        return "toml"
    return "ok"


# ----------------------------------------------------------------------------- tests


@FUZZ
@given(case=malformed_toml())
@example(case=(b"\xff\xfe" + SMOKE_TEXT.encode(), True))
@example(case=(b"deep = " + b"[" * 5000 + b"\n" + SMOKE_TEXT.encode(), True))
@example(case=(b"deep." * 5000 + b"x = 1\n" + SMOKE_TEXT.encode(), True))
@example(case=(SMOKE_TEXT.replace("seed = 0", "seed = " + "1" * 5000).encode(), True))
@example(case=(SMOKE_TEXT.encode() + b"\n[data]\nsize = 1\n", True))
@example(case=(SMOKE_TEXT.encode().replace(b"[data]", b"[data"), True))
def test_malformed_toml(workdir: Path, case: tuple[bytes, bool]) -> None:
    data, always_invalid = case
    status = toml_status(data)
    needles = {"utf8": ["not UTF-8"], "toml": ["not valid TOML"], "deep": [], "ok": []}[status]
    allowed = {2} if always_invalid or status != "ok" else {0, 2}
    check_both(workdir, write_bytes(workdir, data), allowed=allowed, needles=needles)


@FUZZ
@given(case=wrong_types())
@example(case=(("data", "size"), math.nan))
@example(case=(("model", "backbone", "base_channels"), math.inf))
@example(case=(("train", "optimizer", "generator", "lr"), -math.inf))
@example(case=(("model", "latent", "digit", "regularized"), 1))
@example(case=(("data", "type"), datetime(1979, 5, 27, 7, 32)))
@example(case=(("model", "latent", "noise"), [1, 2]))
@example(case=(("name",), {"a": date(2020, 1, 1), "b": time(1, 2, 3)}))
def test_wrong_types(workdir: Path, case: tuple[tuple[str, ...], Any]) -> None:
    path, value = case
    recipe = copy.deepcopy(SMOKE)
    set_path(recipe, path, value)
    check_both(workdir, write_recipe(workdir, recipe), allowed={2}, needles=[dotted(path)])


@FUZZ
@given(case=unknown_keys())
@example(case=(("train",), "stéps", 5))
@example(case=(("model", "backbone"), "🔥", "hot"))
@example(case=(("data",), "\u202ebatch_size", 1))
@example(case=((), "k" * 10000, {}))
@example(case=(("model", "latent"), "style2", 3))
@example(case=(("train", "optimizer"), "mapping", {}))
def test_unknown_keys(workdir: Path, case: tuple[tuple[str, ...], str, Any]) -> None:
    table, key, value = case
    recipe = copy.deepcopy(SMOKE)
    get_path(recipe, table)[key] = value
    check_both(workdir, write_recipe(workdir, recipe), allowed={2}, needles=[dotted((*table, key))])


@FUZZ
@given(case=huge_numbers())
@example(case=[(("data", "count"), 2**63 - 1)])
@example(case=[(("model", "backbone", "base_channels"), 2**63 - 1)])
@example(
    case=[(("model", "backbone", "hidden"), 2**63 - 1), (("train", "step", "q_head", "hidden"), 2**63 - 1)]
)
@example(case=[(("train", "steps"), 10**400)])
@example(case=[(("train", "optimizer", "generator", "lr"), 10**400)])
@example(case=[(("data", "batch_size"), 10**400)])
@example(
    case=[
        (("model", "latent", "style", "low"), -1e308),
        (("model", "latent", "style", "high"), 1e308),
    ]
)
@example(case=[(("seed",), 2**63)])
@example(case=[(("seed",), 2**63 - 1)])
@example(case=[(("model", "backbone", "leaky_slope"), 1e300)])
@example(case=[(("train", "optimizer", "generator", "lr"), 1e300)])
@example(case=[(("train", "optimizer", "generator", "weight_decay"), 1e300)])
@example(case=[(("train", "traversal_range"), [1e308, -1e308])])
def test_huge_and_negative_numbers(workdir: Path, case: list[tuple[tuple[str, ...], Any]]) -> None:
    recipe = copy.deepcopy(SMOKE)
    for path, value in case:
        set_path(recipe, path, value)
    checked, dry = check_both(workdir, write_recipe(workdir, recipe))
    # A rejected number is named by its dotted path (or, for a cross-field check such as
    # low < high, by its table and key); a dry run that cannot build names the table.
    if checked.exit_code == 2:
        assert any(
            dotted(p) in checked.output
            or (dotted(p[:-1]) in checked.output and p[-1] in checked.output)
            for p, _ in case
        ), checked.output
    elif dry.exit_code == 2:
        assert any(dotted(p[:-1]) in dry.output for p, _ in case), dry.output
    # Integers outside TOML's 64-bit range are never accepted silently, nor floats beyond
    # float32 (they become tensors), nor seeds beyond 2**32-1 (NumPy's seeding).
    if any(
        isinstance(v, int) and not -(2**63) <= v < 2**63 and p[-1] not in FLOAT_KEYS
        for p, v in case
    ):
        assert checked.exit_code == 2
    if any(_beyond_float32(v) and p[-1] in FLOAT_KEYS | {"traversal_range"} for p, v in case):
        assert checked.exit_code == 2, checked.output
    if any(p == ("seed",) and isinstance(v, int) and not 0 <= v < 2**32 for p, v in case):
        assert checked.exit_code == 2 and "seed" in checked.output


def _beyond_float32(value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    return any(isinstance(v, int | float) and abs(v) > 3.4028234663852886e38 for v in values)


@FEW
@given(tables=st.sets(st.sampled_from(sorted(EMPTY_VALID | EMPTY_INVALID)), min_size=1, max_size=3))
@example(tables={("data",)})
@example(tables={("model", "latent")})
@example(tables={("model", "backbone")})
@example(tables={("train",)})
@example(tables={("model", "backbone"), ("train",), ("train", "step", "q_head")})
def test_empty_tables(workdir: Path, tables: set[tuple[str, ...]]) -> None:
    recipe = copy.deepcopy(SMOKE)
    for path in sorted(tables, key=len, reverse=True):  # deepest first
        if not path:
            recipe = {}
            continue
        try:
            parent = get_path(recipe, path[:-1])
        except KeyError:
            continue
        if path[-1] in parent:
            parent[path[-1]] = {}
    invalid = tables & EMPTY_INVALID
    if invalid:
        # a structural mistake is reported before the step-versus-codes check runs
        needles = [empty_needle(min(invalid - STEPLESS or invalid, key=len))]
        check_both(workdir, write_recipe(workdir, recipe), allowed={2}, needles=needles)
    else:
        checked, dry = check_both(workdir, write_recipe(workdir, recipe), allowed={0})
        assert dry.exit_code == 0, dry.output


def test_empty_tables_as_written_by_hand(workdir: Path) -> None:
    path = write_bytes(workdir, b"[data]\n[model.latent]\n")
    check_both(
        workdir, path, allowed={2}, needles=["data.type: required", "model.latent: required"]
    )
    text = SMOKE_TEXT.replace('type = "dcgan"\nbase_channels = 8\nhidden = 64\n', "")
    checked, dry = check_both(workdir, write_bytes(workdir, text.encode()), allowed={0})
    assert dry.exit_code == 0, dry.output


@FUZZ
@given(case=component_names())
@example(case=(("model", "backbone"), "backbone", "dcgna", True))
@example(case=(("model", "backbone"), "backbone", "DCGAN", False))
@example(case=(("data",), "dataset", "sÿnthetic", True))
@example(case=(("model", "latent", "noise"), "latent_code", "🔥", False))
@example(case=(("train", "optimizer", "generator"), "optimizer", "\u202emada", False))
@example(case=(("loss",), "loss", "", False))
@example(case=(("train", "lr_schedule"), "schedule", "x" * 5000, False))
def test_odd_component_names(workdir: Path, case: tuple[tuple[str, ...], str, str, bool]) -> None:
    table, kind, name, near_miss = case
    label = kind.replace("_", " ")
    needles = [f"unknown {label} '{name}'", f"{dotted(table)}.type"]
    if near_miss:
        needles.append("(did you mean '")
    recipe = copy.deepcopy(SMOKE)
    set_path(recipe, (*table, "type"), name)
    check_both(workdir, write_recipe(workdir, recipe), allowed={2}, needles=needles)
    # the same name through --set, which also resets the table to the new component
    override = f"{dotted(table)}.type={toml_literal(name)}"
    check_both(workdir, SMOKE_RECIPE, [override], allowed={2}, needles=needles)


@FUZZ
@given(
    case=odd_overrides(),
    before=st.lists(st.sampled_from(VALID_SETS), max_size=1),
    after=st.lists(st.sampled_from(VALID_SETS), max_size=1),
)
@example(case=("train.steps", True, ["expected PATH=VALUE"]), before=[], after=[])
@example(case=("a..b=1", True, ["is not a dotted key path"]), before=[], after=[])
@example(
    case=("train.steps.x=1", True, ["'train.steps' is a value, not a table"]), before=[], after=[]
)
@example(case=("=", True, ["expected PATH=VALUE"]), before=["seed=3"], after=[])
@example(case=("model.backbone.type=nope", True, ["unknown backbone 'nope'"]), before=[], after=[])
@example(case=("train.steps=" + "9" * 5000, True, ["train.steps"]), before=[], after=[])
@example(case=("train.steps=" + "[" * 5000, True, ["train.steps"]), before=[], after=[])
@example(case=("data.count={a=", True, ["data.count"]), before=[], after=[])
@example(case=("train.stéps=1", True, ["train.stéps"]), before=[], after=["train.steps=2"])
@example(case=("train.steps=[1,", True, ["train.steps"]), before=[], after=["train.steps=2"])
@example(case=("train.steps=3\ndata.count = 16", True, ["train.steps"]), before=[], after=[])
def test_odd_set_expressions(
    workdir: Path, case: tuple[str, bool, list[str]], before: list[str], after: list[str]
) -> None:
    override, always_invalid, needles = case
    path = override.partition("=")[0].strip()
    # A later valid --set of the same key would legitimately replace the odd value.
    after = [a for a in after if not path or a.partition("=")[0] != path]
    allowed = {2} if always_invalid else {0, 2}
    check_both(workdir, SMOKE_RECIPE, [*before, override, *after], allowed=allowed, needles=needles)


# ----------------------------------------------------------------------------- sample options


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fuzz-sample") / "run"
    result = invoke(["run", SMOKE_RECIPE, "--out", out, "--set", "train.steps=1"])
    assert result.exit_code == 0, result.output
    return out


SAMPLE_INTS = [-1, 0, 1, 2, 64, 65, 1024, 1025, 2**32 - 1, 2**32, 2**63, 10**8]
SAMPLE_FLOATS = [math.nan, math.inf, -math.inf, 0.0, -2.0, 2.0, 1e6, 1e7, 1e308, -1e308]


@FEW
@given(
    n=st.sampled_from(SAMPLE_INTS),
    seed=st.sampled_from(SAMPLE_INTS),
    steps=st.sampled_from(SAMPLE_INTS),
    span=st.tuples(st.sampled_from(SAMPLE_FLOATS), st.sampled_from(SAMPLE_FLOATS)),
    traverse=st.booleans(),
)
@example(n=10**8, seed=0, steps=10, span=(-2.0, 2.0), traverse=False)
@example(n=8, seed=0, steps=100_000, span=(-2.0, 2.0), traverse=True)
@example(n=8, seed=0, steps=10, span=(math.nan, 1.0), traverse=True)
@example(n=8, seed=2**63, steps=10, span=(-2.0, 2.0), traverse=False)
def test_sample_options_are_bounded(
    trained_run: Path, tmp_path_factory: pytest.TempPathFactory, n: int, seed: int, steps: int,
    span: tuple[float, float], traverse: bool,
) -> None:
    out = tmp_path_factory.mktemp("sample") / "grid.png"
    args = ["sample", trained_run, "--out", out, "--n", n, "--seed", seed, "--device", "cpu"]
    if traverse:
        args += ["--traverse", "style", "--steps", steps, "--range", *span]
    result = invoke(args)
    # click answers an option outside its IntRange itself ("Error: Invalid value ..."), ganzoo
    # the rest ("error: --range ..."): either way exit 2 and no traceback
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    assert result.exit_code == 0 or "error" in result.output.lower()
    valid = (
        1 <= n <= (64 if traverse else 1024)
        and 0 <= seed < 2**32
        and (not traverse or (2 <= steps <= 64 and all(math.isfinite(v) and abs(v) <= 1e6 for v in span)))
    )
    assert result.exit_code == (0 if valid else 2), result.output
    assert out.exists() == valid
