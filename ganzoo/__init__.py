"""ganzoo: a plugin-based, modular GAN zoo for PyTorch.

Components (backbones, latent codes, losses, optimisers, schedules, training steps, loss
terms, datasets, metrics) come from plugins; recipes (TOML) combine them; the core trains,
logs and checkpoints. The spec records are exported from here (``ganzoo.BackboneSpec``, ...,
one per row of ``ganzoo.specs.KINDS``) with ``hookimpl`` and ``param``.
"""

from importlib.metadata import PackageNotFoundError, version

import pluggy

try:
    __version__ = version("torch-ganzoo")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

hookimpl = pluggy.HookimplMarker("ganzoo")
"""Marker for plugin hook implementations: ``@hookimpl def ganzoo_latent_codes(): ...``."""

from ganzoo.specs import KINDS as _KINDS  # noqa: E402  (hookimpl must exist before plugins import us)
from ganzoo.specs import param  # noqa: E402

globals().update({kind.spec.__name__: kind.spec for kind in _KINDS})

__all__ = sorted(kind.spec.__name__ for kind in _KINDS) + ["__version__", "api", "hookimpl", "param"]


def __getattr__(name: str):  # ``ganzoo.api`` on first use: importing ganzoo stays cheap
    if name == "api":
        import importlib

        return importlib.import_module("ganzoo.api")
    raise AttributeError(f"module 'ganzoo' has no attribute {name!r}")

