"""Choosing an adapter: by name (``"chat"``, ``"json"``...), or the default for an LM."""

from __future__ import annotations

from collections.abc import Callable

from lmbench.adapters.base import Adapter
from lmbench.adapters.chat import ChatAdapter
from lmbench.adapters.fallback import FallbackAdapter
from lmbench.adapters.json_adapter import JSONAdapter
from lmbench.adapters.two_step import TwoStepAdapter
from lmbench.adapters.xml_adapter import XMLAdapter
from lmbench.errors import ConfigError
from lmbench.lm.base import LM

__all__ = ["ADAPTER_NAMES", "default_adapter", "resolve_adapter", "shared_default_adapter"]

_BY_NAME: dict[str, Callable[[], Adapter]] = {
    "chat": ChatAdapter,
    "json": JSONAdapter,
    "xml": XMLAdapter,
    "twostep": TwoStepAdapter,
    "fallback": FallbackAdapter,
}

#: The names ``resolve_adapter`` knows (``%%predict --adapter`` offers them).
ADAPTER_NAMES: tuple[str, ...] = tuple(_BY_NAME)


def default_adapter(lm: LM) -> Adapter:
    """``JSONAdapter()`` for LMs that prefer structured output (small local models), else
    ``FallbackAdapter([ChatAdapter(), JSONAdapter()])``."""
    return _new_default(lm.capabilities.prefers_structured_output)


def _new_default(prefers_structured_output: bool) -> Adapter:
    if prefers_structured_output:
        return JSONAdapter()
    return FallbackAdapter([ChatAdapter(), JSONAdapter()])


_shared_defaults: dict[bool, Adapter] = {}


def shared_default_adapter(lm: LM) -> Adapter:
    """``default_adapter(lm)`` as one instance shared by every module call that uses it.

    Adapters keep no state between calls, so modules need not build a chain per call; the
    instance is not handed to users, who get their own from ``default_adapter``.
    """
    prefers = lm.capabilities.prefers_structured_output
    adapter = _shared_defaults.get(prefers)
    if adapter is None:
        adapter = _shared_defaults.setdefault(prefers, _new_default(prefers))
    return adapter


def resolve_adapter(name_or_obj: Adapter | type[Adapter] | str) -> Adapter:
    """An adapter from an instance (returned as is), an Adapter class, or a name.

    Names: ``chat``, ``json``, ``xml``, ``twostep``, ``fallback``; case, ``-``/``_`` and an
    ``Adapter`` suffix are ignored (``"ChatAdapter"``, ``"two-step"``).
    """
    if isinstance(name_or_obj, Adapter):
        return name_or_obj
    if isinstance(name_or_obj, type) and issubclass(name_or_obj, Adapter):
        return name_or_obj()
    if isinstance(name_or_obj, str):
        key = name_or_obj.strip().lower().replace("-", "").replace("_", "").replace(" ", "")
        key = key.removesuffix("adapter")
        factory = _BY_NAME.get(key)
        if factory is not None:
            return factory()
        raise ConfigError(
            f"unknown adapter {name_or_obj!r}; use one of {', '.join(_BY_NAME)} or an Adapter instance"
        )
    raise ConfigError(
        f"adapter={name_or_obj!r} is not an adapter; pass an Adapter instance or one of the names "
        + ", ".join(_BY_NAME)
    )
