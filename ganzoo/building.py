"""Running plugin factories: every way a factory can fail becomes one user error that names
the recipe table, the component and the plugin that provided it (exit 2, no traceback).

A lazy ``"module:attr"`` factory that does not import, a factory that raises (even
``SystemExit``) and one that returns the wrong type are all the plugin's fault, reported as
a failed plugin is; a ``ValueError`` is the factory rejecting a parameter value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ganzoo.errors import UserError, brief


class ComponentError(UserError):
    """A component's factory could not be loaded, failed, or returned the wrong type."""


def component_label(spec: Any) -> str:
    from ganzoo.specs import KIND_BY_NAME

    kind = KIND_BY_NAME[spec.kind].label if spec.kind in KIND_BY_NAME else spec.kind
    return f"{kind} '{spec.name}' from plugin {spec.provider}"


def guarded(
    path: str, what: str, call: Callable[[], Any], passthrough: tuple[type[BaseException], ...] = ()
) -> Any:
    """``call()``, with its failures as user errors about ``what`` at recipe key ``path``
    (exceptions in ``passthrough`` are left to the caller)."""
    from ganzoo.plugins import _describe

    try:
        return call()
    except UserError:
        raise
    except passthrough:
        raise
    except ValueError as exc:  # the factory rejects a parameter value
        raise UserError(f"{path}: {exc}") from None
    except (TypeError, RuntimeError, OverflowError, MemoryError) as exc:  # e.g. sizes too large
        raise ComponentError(
            f"{path}: cannot build the {what} with these parameters ({brief(exc)})"
        ) from None
    except (Exception, SystemExit) as exc:  # a broken plugin: report it, never a traceback
        raise ComponentError(f"{path}: {what} failed to build ({_describe(exc)})") from None


def build_component(
    spec: Any,
    path: str,
    *args: Any,
    expected: type | tuple[type, ...] | None = None,
    expected_name: str | None = None,
    passthrough: tuple[type[BaseException], ...] = (),
    **kwargs: Any,
) -> Any:
    """``spec.build(*args, **kwargs)``, guarded, its result checked against ``expected``."""
    from ganzoo.plugins import _describe

    label = component_label(spec)
    try:
        factory = spec.load_factory()
    except (Exception, SystemExit) as exc:
        raise ComponentError(
            f"{path}: {label}: its factory {spec.factory!r} cannot be loaded ({_describe(exc)}); "
            "the plugin is broken or incompletely installed (see 'ganzoo plugins')"
        ) from None
    if not callable(factory):
        raise ComponentError(
            f"{path}: {label}: its factory {spec.factory!r} is a {type(factory).__name__}, "
            "not a callable"
        )
    result = guarded(path, label, lambda: factory(*args, **kwargs), passthrough)
    if expected is not None and not isinstance(result, expected):
        wanted = expected_name or getattr(expected, "__qualname__", str(expected))
        raise ComponentError(
            f"{path}: {label} returned {type(result).__name__}, expected {wanted}"
        )
    return result
