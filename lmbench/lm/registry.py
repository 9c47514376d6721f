"""Resolve ``"provider/model"`` names (and bare model names of known families) to LM objects.

Built-in providers come from one table, ``lmbench.providers.services``, loaded when a name is
first resolved (so ``import lmbench`` imports none of them). Third-party packages add providers through the ``lmbench.providers`` entry-point
group: the entry point's name is the prefix, its object a factory ``(model, **kwargs) -> LM``.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import Any

from lmbench.errors import ConfigError
from lmbench.lm.base import LM

__all__ = ["DEFAULT_MODEL", "known_providers", "register_provider", "resolve_lm"]

DEFAULT_MODEL = "local/gemma-3-270m"

Factory = Callable[..., LM]

# The built-in providers' one table (names, factories, the bare model names of each). It is
# read by name, at the first resolution: lm/ sits below the providers and imports none of them.
_BUILTIN_TABLE = "lmbench.providers.services"

_registered: dict[str, Factory] = {}
_lock = threading.Lock()
_entry_points_loaded = False


def register_provider(prefix: str, factory: Factory) -> None:
    """Make ``"prefix/<model>"`` resolve through ``factory(model, **kwargs)``."""
    with _lock:
        _registered[prefix] = factory


def entry_points(group: str) -> Any:
    """The installed entry points of ``group``; ``importlib.metadata`` loads only when plugins
    are looked for (it and its ``email`` imports cost several ms at startup)."""
    from importlib.metadata import entry_points as installed

    return installed(group=group)


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    for ep in entry_points(group="lmbench.providers"):
        _registered.setdefault(ep.name, ep.load())
    _entry_points_loaded = True


def _builtin() -> Any:
    return importlib.import_module(_BUILTIN_TABLE)


def known_providers() -> list[str]:
    """Every prefix that resolves, built-in and registered."""
    _load_entry_points()
    return sorted(set(_builtin().PROVIDERS) | set(_registered))


def _factory(prefix: str) -> Factory | None:
    if prefix in _registered:
        return _registered[prefix]
    found: Factory | None = _builtin().factory(prefix)
    if found is None:
        _load_entry_points()
        return _registered.get(prefix)
    return found


def _with_provider(name: str) -> str:
    """``provider/name`` for a bare model name that belongs to exactly one built-in provider."""
    owners = _builtin().providers_for_model(name)
    if len(owners) == 1:
        return f"{owners[0]}/{name}"
    if owners:
        raise ConfigError(
            f"model name {name!r} could belong to several providers: write one of "
            + ", ".join(repr(f"{owner}/{name}") for owner in owners)
        )
    raise ConfigError(
        f"model name {name!r} has no provider prefix and is not one lmbench recognises: write "
        f"it as 'provider/model', e.g. 'openai/gpt-4o-mini' or '{DEFAULT_MODEL}'. Known "
        "providers: " + ", ".join(known_providers())
    )


def resolve_lm(name: str | LM, **kwargs: Any) -> LM:
    """Turn ``"provider/model"`` into an LM; an LM object is returned as it is.

    A bare model name of a known family resolves to its provider (``"gpt-4o-mini"`` to
    ``openai``, ``"claude-..."`` to ``anthropic``, ``"gemini-..."`` to ``gemini``); one that
    could be several providers' raises, listing them.
    """
    if not isinstance(name, str):
        return name
    if "/" not in name:
        name = _with_provider(name)
    prefix, _, model = name.partition("/")
    if not model:
        raise ConfigError(
            f"model name {name!r} has no model after the provider: write it as "
            f"'{prefix}/<model>', e.g. 'openai/gpt-4o-mini' or '{DEFAULT_MODEL}'"
        )
    factory = _factory(prefix)
    if factory is None:
        raise ConfigError(
            f"unknown provider {prefix!r} in model name {name!r}. Known providers: "
            + ", ".join(known_providers())
            + ". Third-party providers register through the 'lmbench.providers' entry point."
        )
    return factory(model, **kwargs)
