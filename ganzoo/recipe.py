"""TOML recipes: loading, ``--set`` overrides, strict validation and the resolved form.

A recipe names components by ``type`` in fixed places (the component tables below) and
gives their parameters beside it. Validation is strict: unknown keys, unknown component
names, wrong types and out-of-range values are all reported together, each with its
dotted path and a suggestion. The resolved recipe (every default filled in) is what a run
writes next to its checkpoints, so a run can always be reproduced and resumed.
"""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import attrs
import tomli_w

from ganzoo.errors import Problem, RecipeError, UserError, accepted, did_you_mean
from ganzoo.schema import is_missing, join, structure, to_plain, unknown_key
from ganzoo.specs import KIND_BY_NAME, SEED_MAX, NoConfig, param


@attrs.frozen
class DataSettings:
    """Keys every dataset table accepts, beside its own parameters."""

    root: str = param("", "data folder; empty: $GANZOO_DATA_ROOT, else ./data")
    batch_size: int = param(64, "images per training batch", ge=1, le=65536)
    download: bool = param(True, "download missing files when a network is reachable")


@attrs.frozen
class LatentSettings:
    """Keys every latent-code table accepts: whether the step must recover the code, and λ."""

    regularized: bool = param(
        False, "the step must recover this code from generated images (InfoGAN's Q, ...)"
    )
    weight: float = param(1.0, "λ: weight of this code in the terms that recover it", ge=0, le=1e6)


@attrs.frozen
class TermSettings:
    """Keys every loss-term table accepts."""

    weight: float = param(1.0, "multiplies every loss this term adds; 0 turns the term off", ge=0, le=1e6)


@attrs.frozen
class TrainSettings:
    steps: int = param(5000, "training steps (generator updates) to train for", ge=1, le=10**9)
    log_every: int = param(50, "steps between scalar logs", ge=1, le=10**9)
    sample_every: int = param(500, "steps between image grids; 0 turns them off", ge=0, le=10**9)
    checkpoint_every: int = param(1000, "steps between checkpoints; 0: only at the end", ge=0, le=10**9)
    keep_checkpoints: int = param(3, "newest checkpoints to keep", ge=1, le=10_000)
    eval_every: int = param(0, "steps between cheap in-training evaluations; 0: off", ge=0, le=10**9)
    eval_samples: int = param(2000, "generated samples for the in-training evaluation", ge=64, le=1_000_000)
    sample_count: int = param(64, "images in the fixed-noise sample grid", ge=1, le=1024)
    traversal_rows: int = param(8, "rows (noise draws) in each traversal grid", ge=1, le=64)
    traversal_steps: int = param(10, "columns of a continuous-code traversal", ge=2, le=64)
    traversal_range: tuple[float, float] = param(
        (-2.0, 2.0), "values a continuous code sweeps in its traversal grid", ge=-1e6, le=1e6
    )
    precision: Literal["fp32", "bf16", "fp16"] = param(
        "fp32", "compute precision: bf16 autocast where supported, fp16 with a grad scaler"
    )
    channels_last: bool = param(False, "use the channels-last memory format for convolutions")
    compile: bool = param(False, "torch.compile every network")
    compile_mode: Literal["default", "reduce-overhead", "max-autotune"] = param(
        "default",
        "torch.compile mode with train.compile: 'reduce-overhead' replays CUDA graphs "
        "(static shapes: launch-bound small models on a GPU)",
    )
    on_nonfinite: Literal["stop", "rollback"] = param(
        "stop", "on a NaN/inf loss: stop, or roll back to the last checkpoint with lower lr"
    )
    rollback_lr_factor: float = param(0.5, "learning-rate factor after a rollback", gt=0, le=1)
    sync_batchnorm: bool = param(False, "multi-process runs: synchronise batch-norm statistics")
    ema_decay: float = param(
        0.0,
        "exponential moving average of G's weights (and batch-norm buffers), e.g. 0.999, "
        "warmed up as min(decay, (1+n)/(10+n)) after n updates; grids, in-training "
        "evaluation, eval and sample use it; 0: off",
        ge=0,
        lt=1,
    )
    ema_start: int = param(0, "step from which G's weights are averaged (copied at that step)", ge=0, le=10**9)
    ema_batch_norm: Literal["averaged", "recomputed"] = param(
        "averaged",
        "batch-norm statistics the EMA of G samples with: the average of G's running "
        "statistics, or recomputed from 10240 of the EMA's own samples before it draws "
        "(BigGAN's standing statistics; training is unchanged)",
    )


@attrs.frozen
class Component:
    """A component table: its ``type``, the keys shared by its kind, and its own config."""

    type: str
    settings: Any
    config: Any

    def to_plain(self) -> dict[str, Any]:
        return {"type": self.type, **to_plain(self.settings), **to_plain(self.config)}


@attrs.frozen
class Recipe:
    name: str
    seed: int
    plugins: tuple[str, ...]
    data: Component
    backbone: Component
    latent: dict[str, Component]
    loss: Component
    train: TrainSettings
    step: Component
    terms: dict[str, Component]
    optimizers: dict[str, Component]
    lr_schedule: Component
    augmentation: Component | None = None  # [model.augmentation]; None: D sees images as they are

    @property
    def regularized_codes(self) -> list[str]:
        return [name for name, c in self.latent.items() if c.settings.regularized]

    def to_dict(self) -> dict[str, Any]:
        """The resolved recipe as TOML-ready data; ``resolve(to_dict())`` gives it back."""
        train = to_plain(self.train)
        train["step"] = self.step.to_plain()
        train["terms"] = {name: c.to_plain() for name, c in self.terms.items()}
        train["optimizer"] = {role: c.to_plain() for role, c in self.optimizers.items()}
        train["lr_schedule"] = self.lr_schedule.to_plain()
        model = {
            "backbone": self.backbone.to_plain(),
            "latent": {name: c.to_plain() for name, c in self.latent.items()},
        }
        if self.augmentation is not None:
            model["augmentation"] = self.augmentation.to_plain()
        return {
            "name": self.name,
            "seed": self.seed,
            "plugins": list(self.plugins),
            "data": self.data.to_plain(),
            "model": model,
            "loss": self.loss.to_plain(),
            "train": train,
        }

    def to_toml(self) -> str:
        return tomli_w.dumps(self.to_dict())

    def components(self) -> list[tuple[str, str, str]]:
        """(dotted path, kind, name) of every component the recipe uses."""
        out = [("data", "dataset", self.data.type), ("model.backbone", "backbone", self.backbone.type)]
        out += [(f"model.latent.{n}", "latent_code", c.type) for n, c in self.latent.items()]
        if self.augmentation is not None:
            out.append(("model.augmentation", "augmentation", self.augmentation.type))
        out += [("loss", "loss", self.loss.type), ("train.step", "step", self.step.type)]
        out += [(f"train.terms.{n}", "term", c.type) for n, c in self.terms.items()]
        out += [(f"train.optimizer.{r}", "optimizer", c.type) for r, c in self.optimizers.items()]
        out += [("train.lr_schedule", "schedule", self.lr_schedule.type)]
        return out


# Keys every table of a kind accepts beside the component's own parameters.
SHARED_SETTINGS: dict[str, type] = {
    "dataset": DataSettings,
    "latent_code": LatentSettings,
    "term": TermSettings,
}

# Where component tables live: path pattern -> (kind, default type). A default of "*" means
# the table's own name: [train.terms.r1] is an "r1" term unless it says otherwise.
_TABLES: list[tuple[str, str, str | None]] = [
    ("data", "dataset", None),
    ("model.backbone", "backbone", "dcgan"),
    ("model.latent.*", "latent_code", None),
    ("model.augmentation", "augmentation", None),
    ("loss", "loss", "nonsaturating"),
    ("train.step", "step", "adversarial"),
    ("train.terms.*", "term", "*"),
    ("train.optimizer.*", "optimizer", "adam"),
    ("train.lr_schedule", "schedule", "constant"),
]
_TOP_KEYS = ["name", "seed", "plugins", "data", "model", "loss", "train"]
_MODEL_KEYS = ["backbone", "latent", "augmentation"]
_TRAIN_TABLES = ["step", "terms", "optimizer", "lr_schedule"]
_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# Keys of ganzoo 0.1 recipes that moved when steps and loss terms became plugins: an old
# recipe gets told where each went instead of only "unknown key".
MOVED_KEYS: dict[str, str] = {
    "model.q_head": "moved to [train.step.q_head], with train.step.type = 'infogan'",
    "model.latent.*.real_data_weight": "moved to [train.terms.real_data_information] "
    "(weight = ..., codes = [...])",
    "model.latent.*.invariance_weight": "moved to [train.terms.invariant_information] "
    "(weight = ..., codes = [...])",
    "loss.gradient_penalty": "moved to [train.terms.gradient_penalty] (weight = ...)",
    "train.discriminator_steps": "moved to train.step.discriminator_steps",
}


def _moved(path: str) -> str | None:
    return next((hint for pattern, hint in MOVED_KEYS.items() if _matches(pattern, path)), None)


def with_moved_hints(problems: list[Problem]) -> list[Problem]:
    return [
        Problem(p.path, _moved(p.path) or p.message) if p.message.startswith("unknown key") else p
        for p in problems
    ]


def table_at(path: str) -> tuple[str, type, str | None] | None:
    """The component kind, shared-settings class and default type of the table at ``path``."""
    for pattern, kind, default in _TABLES:
        if _matches(pattern, path):
            name = path.split(".")[-1]
            return kind, SHARED_SETTINGS.get(kind, NoConfig), name if default == "*" else default
    return None


def _matches(pattern: str, path: str) -> bool:
    """``model.latent.*`` matches ``model.latent.digit``: ``*`` is any one part."""
    wanted, parts = pattern.split("."), path.split(".")
    return len(wanted) == len(parts) and all(
        want in ("*", part) for want, part in zip(wanted, parts, strict=True)
    )


def _component(
    registry: Any, raw: Any, path: str, problems: list[Problem]
) -> Component | None:
    kind, settings_cls, default_type = table_at(path)  # type: ignore[misc]
    label = KIND_BY_NAME[kind].label
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        problems.append(Problem(path, f"expected a table with a 'type' key, got {raw!r}"))
        return None
    type_name = raw.get("type", default_type)
    if type_name is None:
        names = registry.names(kind)
        problems.append(
            Problem(join(path, "type"), f"required: {'an' if label[0] in 'aeiou' else 'a'} {label} ({accepted(names)})")
        )
        return None
    if not isinstance(type_name, str):
        problems.append(Problem(join(path, "type"), f"expected a component name, got {type_name!r}"))
        return None
    spec = registry.find(kind, type_name)
    if spec is None:
        problems.append(Problem(join(path, "type"), registry.describe_unknown(kind, type_name)))
        return None
    from ganzoo.schema import fields_of

    settings_keys = [f.name for f in fields_of(settings_cls)]
    config_keys = [f.name for f in fields_of(spec.config)]
    allowed = ["type", *settings_keys, *config_keys]
    before = len(problems)
    for key in raw:
        if key not in allowed:
            problems.append(unknown_key(path, key, allowed))
    settings = structure(
        settings_cls, {k: v for k, v in raw.items() if k in settings_keys}, path, problems
    )
    config = structure(spec.config, {k: v for k, v in raw.items() if k in config_keys}, path, problems)
    if len(problems) > before or is_missing(settings) or is_missing(config):
        return None
    return Component(type_name, settings, config)


def resolve(raw: dict[str, Any], registry: Any, source: str = "recipe") -> Recipe:
    """Validate a raw recipe against the registry; raise ``RecipeError`` with every problem."""
    problems: list[Problem] = []

    def table(data: Any, path: str) -> dict[str, Any]:
        if data is None:
            return {}
        if not isinstance(data, dict):
            problems.append(Problem(path, f"expected a table, got {data!r}"))
            return {}
        return data

    for key in raw:
        if key not in _TOP_KEYS:
            problems.append(unknown_key("", key, _TOP_KEYS))
    name = raw.get("name", Path(source).stem if source.endswith(".toml") else "run")
    if not isinstance(name, str) or not name.strip():
        problems.append(Problem("name", f"expected a non-empty string, got {name!r}"))
    seed = raw.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed <= SEED_MAX:
        problems.append(
            Problem("seed", f"expected an integer from 0 to {SEED_MAX} (2**32-1), got {seed!r}")
        )
    plugins = raw.get("plugins", [])
    if not isinstance(plugins, list) or not all(isinstance(p, str) for p in plugins):
        problems.append(
            Problem(
                "plugins",
                "expected a list of installed plugins by entry-point name, e.g. "
                "[\"bernoulli\"] or [\"bernoulli (ganzoo-bernoulli 0.1.0)\"]",
            )
        )
        plugins = []

    if "data" not in raw:
        problems.append(Problem("data", "required: a [data] table with a 'type'"))
    data = _component(registry, table(raw.get("data"), "data"), "data", problems) if "data" in raw else None

    model = table(raw.get("model"), "model")
    for key in model:
        if key not in _MODEL_KEYS:
            problems.append(unknown_key("model", key, _MODEL_KEYS))
    backbone = _component(registry, model.get("backbone"), "model.backbone", problems)
    latent_raw = table(model.get("latent"), "model.latent")
    if not latent_raw:
        problems.append(
            Problem("model.latent", "required: at least one latent table, e.g. [model.latent.noise]")
        )
    latent = _named_components(registry, latent_raw, "model.latent", problems)
    augmentation = None
    if "augmentation" in model:  # optional: without the table D sees images unchanged
        augmentation = _component(
            registry, table(model["augmentation"], "model.augmentation"), "model.augmentation", problems
        )
    loss = _component(registry, table(raw.get("loss"), "loss"), "loss", problems)

    train_raw = dict(table(raw.get("train"), "train"))
    tables = {key: train_raw.pop(key, None) for key in _TRAIN_TABLES}
    step = _component(registry, table(tables["step"], "train.step"), "train.step", problems)
    terms = _named_components(registry, table(tables["terms"], "train.terms"), "train.terms", problems)
    optimizers = _optimizers(registry, table(tables["optimizer"], "train.optimizer"), step, problems)
    lr_schedule = _component(registry, tables["lr_schedule"], "train.lr_schedule", problems)
    train = structure(TrainSettings, train_raw, "train", problems, extra_allowed=tuple(_TRAIN_TABLES))
    if problems:
        raise RecipeError(source, with_moved_hints(problems))
    recipe = Recipe(
        name=name,
        seed=seed,
        plugins=tuple(plugins),
        data=data,  # type: ignore[arg-type]
        backbone=backbone,  # type: ignore[arg-type]
        latent=latent,
        loss=loss,  # type: ignore[arg-type]
        train=train,
        step=step,  # type: ignore[arg-type]
        terms=terms,
        optimizers=optimizers,
        lr_schedule=lr_schedule,  # type: ignore[arg-type]
        augmentation=augmentation,
    )
    problems += _combination_problems(recipe, registry)
    if problems:
        raise RecipeError(source, problems)
    return attrs.evolve(recipe, plugins=required_plugins(recipe, registry))


def required_plugins(recipe: Recipe, registry: Any) -> tuple[str, ...]:
    """The recipe's ``plugins`` with every installed third-party plugin its components come
    from, as ``"NAME (DISTRIBUTION VERSION)"``: the saved recipe of a run says what it needs."""
    from ganzoo.plugins import FIRST_PARTY_DISTRIBUTION, parse_requirement

    providers = {}
    for _, kind, name in recipe.components():
        spec = registry.find(kind, name)
        provider = spec.provider if spec is not None else None
        if provider is not None and provider.distribution not in (None, FIRST_PARTY_DISTRIBUTION):
            providers.setdefault(provider.plugin, provider)
    out = []
    for entry in recipe.plugins:
        wanted = parse_requirement(entry)
        provider = providers.pop(wanted.name, None) if wanted is not None else None
        out.append(str(provider) if provider is not None else entry)
    out += [str(provider) for provider in providers.values()]
    return tuple(dict.fromkeys(out))


def _named_components(
    registry: Any, raw: dict[str, Any], path: str, problems: list[Problem]
) -> dict[str, Component]:
    """Tables keyed by a name the user chooses (latent codes, loss terms), in recipe order."""
    out: dict[str, Component] = {}
    for name, item in raw.items():
        where = f"{path}.{name}"
        if not _TABLE_NAME.match(name):
            problems.append(Problem(where, "table names are letters, digits and '_'"))
            continue
        component = _component(registry, item, where, problems)
        if component is not None:
            out[name] = component
    return out


def _optimizers(
    registry: Any, raw: dict[str, Any], step: Component | None, problems: list[Problem]
) -> dict[str, Component]:
    """One optimiser table per role of the step (each defaults to Adam)."""
    spec = registry.find("step", step.type) if step is not None else None
    roles = list(spec.optimizer_roles) if spec is not None else list(raw)
    for key in raw:
        if key not in roles:
            problems.append(
                Problem(
                    f"train.optimizer.{key}",
                    f"step '{step.type}' has no optimiser role '{key}'"  # type: ignore[union-attr]
                    f"{did_you_mean(key, roles)}; its roles: {accepted(roles)}",
                )
                if spec is not None
                else unknown_key("train.optimizer", key, roles)
            )
    out = {}
    for role in roles:
        component = _component(registry, raw.get(role), f"train.optimizer.{role}", problems)
        if component is not None:
            out[role] = component
    return out


def _combination_problems(recipe: Recipe, registry: Any) -> list[Problem]:
    """Mistakes that involve several tables: a term the step cannot serve, and whatever the
    step's and terms' own ``check`` functions find."""
    problems: list[Problem] = []
    step_spec = registry.get("step", recipe.step.type)
    checks = [("train.step", step_spec, recipe.step)]
    for name, term in recipe.terms.items():
        spec = registry.get("term", term.type)
        missing = [need for need in spec.needs if need not in step_spec.provides]
        if missing:
            providers = sorted(
                s.name for s in registry.components["step"].values()
                if all(n in s.provides for n in spec.needs)
            )
            problems.append(
                Problem(
                    f"train.terms.{name}",
                    f"term '{term.type}' needs a step that provides {', '.join(missing)}; "
                    f"step '{recipe.step.type}' provides {accepted(step_spec.provides)} "
                    f"(steps that serve it: {accepted(providers)})",
                )
            )
        checks.append((f"train.terms.{name}", spec, term))
    for path, spec, component in checks:
        if spec.check is None:
            continue
        try:
            found = [(str(key), str(message)) for key, message in spec.check(component.config, recipe) or ()]
        except (Exception, SystemExit) as exc:  # a broken check is the plugin's fault: say so
            from ganzoo.plugins import _describe

            problems.append(
                Problem(path, f"the recipe check of {spec.kind} '{spec.name}' from plugin "
                        f"{spec.provider} failed ({_describe(exc)})")
            )
            continue
        for key, message in found:
            problems.append(Problem(key if "." in key else join(path, key), message))
    return problems


def read_toml(path: str | Path) -> dict[str, Any]:
    """Parse a recipe file; every failure is a ``UserError`` naming the file."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: recipe file not found") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a folder, not a recipe file") from None
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RecipeError(str(path), [Problem("", f"not valid TOML: {exc}")]) from None
    except ValueError as exc:  # an integer of more than 4300 digits (Python's int limit)
        reason = str(exc).split(";")[0]  # without the advice to call sys.set_int_max_str_digits
        raise RecipeError(str(path), [Problem("", f"not valid TOML: {reason}")]) from None
    except RecursionError:
        raise RecipeError(str(path), [Problem("", "not valid TOML: nested too deeply")]) from None
    too_deep, count = _shape(data, _MAX_DEPTH)
    if too_deep:  # deeper than any recipe; would exhaust the stack later
        raise RecipeError(
            str(path), [Problem("", f"tables or arrays nested more than {_MAX_DEPTH} levels deep")]
        )
    if count > _MAX_VALUES:  # far more than any recipe; checking each would take minutes
        raise RecipeError(
            str(path), [Problem("", f"{count} keys and values; a recipe has at most {_MAX_VALUES}")]
        )
    return data


_MAX_DEPTH = 32
_MAX_VALUES = 10_000


def _shape(data: Any, limit: int) -> tuple[bool, int]:
    """(nested deeper than ``limit``, number of keys and values)."""
    stack, count = [(data, 0)], 0
    while stack:
        value, depth = stack.pop()
        count += 1
        if depth > limit:
            return True, count
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return False, count


def parse_override(text: str) -> tuple[str, Any]:
    """``a.b=VALUE``: VALUE is read as TOML (``3``, ``1e-3``, ``true``, ``[1, 2]``) and a bare
    word is a string."""
    path, sep, value = text.partition("=")
    path = path.strip()
    if not sep or not path:
        raise UserError(f"--set {text!r}: expected PATH=VALUE, e.g. --set train.steps=200")
    if any(not part.strip() for part in path.split(".")):
        raise UserError(f"--set {text!r}: '{path}' is not a dotted key path")
    value = value.strip()
    try:
        doc = tomllib.loads(f"v = {value}")
    except (ValueError, RecursionError):  # not TOML (or too long / too deep for the parser)
        doc = {}
    # a bare word such as resnet; also VALUE that smuggles in more keys after a newline
    parsed = doc["v"] if list(doc) == ["v"] else value
    return path, parsed


def apply_overrides(
    raw: dict[str, Any], overrides: Sequence[str], registry: Any
) -> tuple[dict[str, Any], list[str]]:
    """Apply ``--set`` overrides in order to a copy of ``raw``; returns it and notes for the user.

    Setting a component table's ``type`` to another component resets that table to the new
    component's defaults (keeping the keys shared by its kind) and says what it dropped, so
    stale parameters never leak from one component into another.
    """
    raw = copy.deepcopy(raw)
    notes: list[str] = []
    for text in overrides:
        path, value = parse_override(text)
        parts = path.split(".")
        node = raw
        for depth, part in enumerate(parts[:-1]):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                where = ".".join(parts[: depth + 1])
                raise UserError(f"--set {text!r}: '{where}' is a value, not a table")
            node = child
        key = parts[-1]
        located = table_at(".".join(parts[:-1])) if len(parts) > 1 else None
        if key == "type" and located is not None:
            kind, settings_cls, default = located
            old = node.get("type", default)
            if old is not None and old != value:  # None: an optional table being created
                from ganzoo.schema import fields_of

                keep = {"type", *(f.name for f in fields_of(settings_cls))}
                dropped = {k: v for k, v in node.items() if k not in keep}
                for k in dropped:
                    del node[k]
                message = f"{'.'.join(parts[:-1])}: type {old} -> {value}; reset to {value}'s defaults"
                if dropped:
                    message += " (dropped " + ", ".join(f"{k}={v!r}" for k, v in dropped.items()) + ")"
                notes.append(message)
        node[key] = value
    return raw, notes


def write_recipe(recipe: Recipe, path: Path) -> None:
    from ganzoo.checkpoint import atomic_write_bytes

    atomic_write_bytes(path, recipe.to_toml().encode())


__all__ = [
    "Component",
    "DataSettings",
    "LatentSettings",
    "Recipe",
    "TermSettings",
    "TrainSettings",
    "apply_overrides",
    "did_you_mean",
    "parse_override",
    "read_toml",
    "resolve",
    "table_at",
]
