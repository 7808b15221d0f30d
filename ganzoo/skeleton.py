"""``ganzoo new-plugin NAME --kind KIND``: a ready-to-install plugin package.

The package has a ``pyproject.toml`` with ``[build-system]`` and the ``ganzoo`` entry point,
one working component of the kind (its attrs config beside it), a test that runs
``ganzoo.testing``'s conformance check on it and a README. Templates are plain strings with
``{placeholders}``: what a user gets is exactly what is written here.
"""

from __future__ import annotations

import keyword
import re
from pathlib import Path

from ganzoo.errors import UserError, accepted

PYPROJECT = """\
[build-system]
requires = ["hatchling>=1.18"]
build-backend = "hatchling.build"

[project]
name = "{dist}"
version = "0.1.0"
description = "A ganzoo plugin: the {kind_label} '{name}'."
requires-python = ">=3.11"
dependencies = ["torch-ganzoo"]

[project.optional-dependencies]
test = ["pytest>=7.4"]

# All ganzoo needs to find the plugin: an entry point in group "ganzoo".
[project.entry-points.ganzoo]
{name} = "{package}"

[tool.hatch.build.targets.wheel]
packages = ["src/{package}"]
"""

README = """\
# {dist}

A [ganzoo](https://pypi.org/project/torch-ganzoo/) plugin that adds the {kind_label} `{name}`.

```bash
pip install -e ".[test]"         # install it next to ganzoo
ganzoo plugins                   # {package} is listed, with its version
ganzoo describe {kind} {name}    # its parameters
pytest                           # ganzoo's conformance checks on it
```

Use it in a recipe:

```toml
{recipe}
```

Edit `src/{package}/{module}.py` (the component and its config) and
`src/{package}/__init__.py` (the hook that registers it).
"""

INIT = '''\
"""ganzoo plugin: registers the {kind_label} '{name}' (only its config is imported here, so
listing components stays fast; the factory is imported when a recipe uses it)."""

from ganzoo import {spec}, hookimpl
from {package}.{module} import {config}


@hookimpl
def {hook}():
    return [
        {spec}(
            name="{name}",
            summary="{summary}",
            config={config},
            factory="{package}.{module}:{factory}",
        )
    ]
'''

TEST = '''\
"""ganzoo's conformance checks on the plugin: what the core relies on."""

from ganzoo.plugins import load_plugins
{test_imports}


def test_the_entry_point_registers_it():
    registry = load_plugins().registry()
    spec = registry.get("{kind}", "{name}")
    assert spec.provider.distribution == "{dist}"


def test_it_conforms():
{test_body}
'''

LATENT_CODE = '''\
"""A latent code: {summary}."""

import attrs
import torch
from torch import Tensor

from ganzoo import param
from ganzoo.latent import LatentCode, gaussian_log_likelihood


@attrs.frozen
class {config}:
    dim: int = param(1, "number of dimensions", ge=1, le=1024)
    scale: float = param(1.0, "half-width of the interval the values are drawn from", gt=0)


class {factory}(LatentCode):
    """Values uniform on [-scale, scale]; Q outputs a mean per dimension (fixed-std Gaussian)."""

    def __init__(self, config: {config}):
        self.width = config.dim  # G's input columns
        self.posterior_size = config.dim  # Q's outputs for this code
        self.scale = config.scale

    def sample(self, batch: int, generator: torch.Generator, device: torch.device) -> Tensor:
        u = torch.rand(batch, self.width, generator=generator, device=device)  # [B, dim]
        return (2 * u - 1) * self.scale

    def log_likelihood(self, value: Tensor, posterior: Tensor) -> Tensor:
        return gaussian_log_likelihood(value, posterior.float(), None)  # [B]

    def traversals(self, steps: int, span: tuple[float, float]) -> list[tuple[str, Tensor]]:
        values = torch.linspace(span[0], span[1], steps) * self.scale  # [S]
        sweeps = []
        for d in range(self.width):
            sweep = torch.zeros(steps, self.width)
            sweep[:, d] = values
            sweeps.append((str(d) if self.width > 1 else "", sweep))
        return sweeps

    def confident_posterior(self, value: Tensor) -> Tensor:
        return value.clone()  # the mean on the value
'''

LOSS = '''\
"""An adversarial loss: {summary}."""

import attrs
import torch
import torch.nn.functional as F
from torch import Tensor

from ganzoo import param
from ganzoo.step import AdversarialLoss


@attrs.frozen
class {config}:
    smoothing: float = param(0.0, "one-sided label smoothing of D's real targets", ge=0, lt=0.5)


class {factory}(AdversarialLoss):
    """Non-saturating GAN loss with optional one-sided label smoothing."""

    def __init__(self, config: {config}):
        self.smoothing = config.smoothing

    def discriminator_loss(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        targets = torch.full_like(real_logits, 1 - self.smoothing)  # [B]
        real = F.binary_cross_entropy_with_logits(real_logits, targets)
        fake = F.softplus(fake_logits).mean()  # -log(1 - sigmoid(x))
        return real + fake

    def generator_loss(self, fake_logits: Tensor, real_logits: Tensor | None = None) -> Tensor:
        return F.softplus(-fake_logits).mean()  # -log sigmoid(x)
'''

DATASET = '''\
"""A dataset: {summary}."""

import attrs
import torch

from ganzoo import param
from ganzoo.data import ImageData


@attrs.frozen
class {config}:
    size: int = param(28, "side of the square images", ge=8, le=256)
    count: int = param(1024, "images per split", ge=16, le=1_000_000)


def {factory}(config: {config}, *, root, split: str, download: bool) -> ImageData:
    """Vertical bars at random positions, as uint8 images [N, 1, size, size] with labels."""
    generator = torch.Generator().manual_seed(0 if split == "train" else 1)
    positions = torch.randint(0, config.size, (config.count,), generator=generator)  # [N]
    images = torch.zeros(config.count, 1, config.size, config.size, dtype=torch.uint8)
    images[torch.arange(config.count), 0, :, positions] = 255
    labels = positions * 10 // config.size  # [N] in 0..9: where the bar is
    return ImageData(images, labels, [str(i) for i in range(10)])
'''

KINDS = {
    # kind: (module, spec, hook, template, summary, test imports, test body, recipe)
    "latent_code": (
        "code",
        "LatentCodeSpec",
        "ganzoo_latent_codes",
        LATENT_CODE,
        "uniform values on [-scale, scale], recovered as a Gaussian mean",
        "from ganzoo.testing import check_latent_code\nfrom {package}.code import {config}, {factory}",
        "    check_latent_code({factory}({config}(dim=3)))",
        '[model.latent.{name}]\ntype = "{name}"\ndim = 2\nregularized = true   # InfoGAN\'s Q recovers it',
    ),
    "loss": (
        "loss",
        "LossSpec",
        "ganzoo_losses",
        LOSS,
        "non-saturating loss with one-sided label smoothing",
        "from ganzoo.testing import check_adversarial_loss\nfrom {package}.loss import {config}, {factory}",
        "    check_adversarial_loss({factory}({config}(smoothing=0.1)))",
        '[loss]\ntype = "{name}"\nsmoothing = 0.1',
    ),
    "dataset": (
        "dataset",
        "DatasetSpec",
        "ganzoo_datasets",
        DATASET,
        "vertical bars, labelled by position (no files needed)",
        "from ganzoo.testing import check_image_data\nfrom {package}.dataset import {config}, {factory}",
        '    check_image_data({factory}({config}(count=32), root=".", split="train", download=False))',
        '[data]\ntype = "{name}"\nsize = 28\nbatch_size = 16',
    ),
}
KIND_WORDS = {
    "latent_code": "latent_code",
    "code": "latent_code",
    "latent-code": "latent_code",
    "loss": "loss",
    "dataset": "dataset",
}


def write_plugin(name: str, kind: str, out: Path) -> list[Path]:
    """Write the package for component ``name`` of ``kind`` into ``out`` (must not exist)."""
    key = KIND_WORDS.get(kind.strip().lower())
    if key is None:
        raise UserError(f"--kind {kind}: no skeleton for this kind; accepted: {accepted(KINDS)}")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name) or keyword.iskeyword(name):
        raise UserError(
            f"NAME {name!r}: a component name is lower-case letters, digits and '_', starting "
            "with a letter (e.g. my_code)"
        )
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise UserError(f"--out {out}: exists and is not empty; choose another folder")
    module, spec, hook, template, summary, imports, body, recipe = KINDS[key]
    camel = "".join(part.capitalize() for part in name.split("_"))
    values = {
        "name": name,
        "kind": key,
        "kind_label": key.replace("_", " "),
        "dist": f"ganzoo-{name.replace('_', '-')}",
        "package": f"ganzoo_{name}",
        "module": module,
        "spec": spec,
        "hook": hook,
        "summary": summary,
        "config": f"{camel}Config",
        "factory": camel if key != "dataset" else "build",
    }
    values["test_imports"] = imports.format(**values)
    values["test_body"] = body.format(**values)
    values["recipe"] = recipe.format(**values)
    files = {
        out / "pyproject.toml": PYPROJECT,
        out / "README.md": README,
        out / "src" / values["package"] / "__init__.py": INIT,
        out / "src" / values["package"] / f"{module}.py": template,
        out / "tests" / f"test_{name}.py": TEST,
    }
    written = []
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text.format(**values))
            written.append(path)
    except OSError as exc:
        raise UserError(f"--out {out}: cannot write ({exc.strerror or exc})") from None
    return written
