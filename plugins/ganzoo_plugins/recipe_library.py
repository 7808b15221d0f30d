"""ganzoo's built-in recipes: the TOML files under ``ganzoo_plugins/recipes/``, shipped in the
wheel as package data and runnable by name (``ganzoo run infogan_dcgan``).

Adding a recipe is one line in ``RECIPES``. A ``.toml`` file in the folder that the table
does not list is still registered (name from its path, summary from its first comment line,
data from its ``[data] type``), so a new file is never invisible; the table adds how long it
takes. Registration reads only these small text files: no component is imported.
"""

from __future__ import annotations

import tomllib
from importlib.resources import files

from ganzoo import RecipeSpec, hookimpl

PACKAGE = "ganzoo_plugins"
FOLDER = "recipes"

# One line per recipe: name, file under recipes/, what it trains, which data, minutes of a
# full run on this project's 2-core CPU (None: not measured), at the speed the machine had when
# the 3000-step InfoGAN recipe took 18-19 min. Sources: infogan_dcgan's 1200 steps are 0.40 of
# that same step (bitwise the same losses), about 7.5 min (measured 18.9 min on a day the
# machine ran 2.5x slower, docs/results.md "Speed, round two"); infogan_resnet 1200 steps at
# its measured 40.5 images/s, about 63 min (benchmarks/throughput.py); smoke recipes ~13 s
# (`time ganzoo run smoke_infogan`, loaded machine).
# fmt: off
RECIPES: tuple[tuple[str, str, str, str, float | None], ...] = (
    ("infogan_dcgan", "infogan_dcgan.toml", "InfoGAN with the paper's DCGAN networks: a 10-way digit code and three style codes", "MNIST", 8.0),
    ("infogan_resnet", "infogan_resnet.toml", "the same InfoGAN with an SNGAN-style residual trunk", "MNIST", 63.0),
    ("dcgan_mnist", "dcgan_mnist.toml", "a plain DCGAN, same networks, no codes (the sample-quality baseline)", "MNIST", None),
    ("wgan_gp_cifar10", "wgan_gp_cifar10.toml", "WGAN-GP: 5 critic steps and the gradient-penalty term", "CIFAR-10", None),
    ("wgan_gp_mnist", "wgan_gp_mnist.toml", "WGAN-GP on MNIST: a Wasserstein critic, 5 critic steps, gradient penalty", "MNIST", None),
    ("lsgan_mnist", "lsgan_mnist.toml", "LSGAN: the least-squares loss", "MNIST", None),
    ("sngan_mnist", "sngan_mnist.toml", "SNGAN: hinge loss, spectral norm on D (a standard-CNN-sized trunk)", "MNIST", None),
    ("ragan_mnist", "ragan_mnist.toml", "RaGAN: the relativistic average loss (G sees real logits)", "MNIST", None),
    ("ralsgan_mnist", "ralsgan_mnist.toml", "RaLSGAN: the relativistic average least-squares loss", "MNIST", None),
    ("acgan_mnist", "acgan_mnist.toml", "AC-GAN: class-conditional G, D with an auxiliary classifier", "MNIST", None),
    ("cgan_projection_mnist", "cgan_projection_mnist.toml", "cGAN: conditional batch norm in G, projection D, hinge loss", "MNIST", None),
    ("infogan_shapes2d", "infogan_shapes2d.toml", "InfoGAN in the InfoGAN-CR paper's dSprites setting: 5 uniform codes, 5 noise dims", "shapes2d", None),
    ("infogan_cr_shapes2d", "infogan_cr_shapes2d.toml", "InfoGAN-CR: the same plus the contrastive regulariser on its progressive schedule", "shapes2d", None),
    ("smoke_infogan", "smoke/infogan_synthetic.toml", "a tiny InfoGAN (seconds): categorical and uniform codes", "none (synthetic)", 0.22),
    ("smoke_cgan", "smoke/cgan_synthetic.toml", "a tiny class-conditional GAN (seconds)", "none (synthetic)", 0.22),
    ("smoke_acgan", "smoke/acgan_synthetic.toml", "a tiny AC-GAN (seconds)", "none (synthetic)", None),
)
# fmt: on


def _discovered(listed: set[str]) -> list[RecipeSpec]:
    """Recipes in the folder that ``RECIPES`` does not list."""
    specs = []
    root = files(PACKAGE).joinpath(FOLDER)
    pending = [(root, "")]
    while pending:
        folder, prefix = pending.pop()
        for item in sorted(folder.iterdir(), key=lambda t: t.name):
            relative = f"{prefix}{item.name}"
            if item.is_dir() and not item.name.startswith(("_", ".")):
                pending.append((item, f"{relative}/"))
            elif item.name.endswith(".toml") and relative not in listed:
                text = item.read_text(encoding="utf-8")
                comments = [
                    line.lstrip("# ").strip() for line in text.splitlines() if line.startswith("#")
                ]
                try:
                    data = str(tomllib.loads(text).get("data", {}).get("type", ""))
                except tomllib.TOMLDecodeError:
                    data = ""  # reported with the file name when someone runs it
                name = relative.removesuffix(".toml").replace("/", "_").replace("-", "_").lower()
                specs.append(
                    RecipeSpec(
                        name=name,
                        summary=comments[0] if comments else "",
                        source=f"{PACKAGE}:{FOLDER}/{relative}",
                        data=data,
                    )
                )
    return specs


@hookimpl
def ganzoo_recipes() -> list[RecipeSpec]:
    listed = [
        RecipeSpec(
            name=name,
            summary=summary,
            source=f"{PACKAGE}:{FOLDER}/{file}",
            data=data,
            minutes=minutes,
        )
        for name, file, summary, data, minutes in RECIPES
    ]
    return listed + _discovered({file for _, file, *_ in RECIPES})
