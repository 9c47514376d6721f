"""Resolve ``"provider/model"`` names to LM objects.

Built-in providers register below by import path (so nothing is imported until a name is
resolved). Third-party packages add providers through the ``lmbench.providers`` entry-point
group: the entry point's name is the prefix, its object a factory ``(model, **kwargs) -> LM``.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from lmbench.errors import ConfigError
from lmbench.lm.base import LM

__all__ = ["DEFAULT_MODEL", "known_providers", "register_provider", "resolve_lm"]

DEFAULT_MODEL = "local/gemma-3-270m"

Factory = Callable[..., LM]

# prefix -> "module:attribute" of a factory (model: str, **kwargs) -> LM
_BUILTIN: dict[str, str] = {
    "local": "lmbench.providers.local:LocalLM",
    "scripted": "lmbench.lm.scripted:scripted_from_name",
    "openai": "lmbench.providers.catalog:openai",
    "openrouter": "lmbench.providers.catalog:openrouter",
    "mistral": "lmbench.providers.catalog:mistral",
    "groq": "lmbench.providers.catalog:groq",
    "together": "lmbench.providers.catalog:together",
    "deepseek": "lmbench.providers.catalog:deepseek",
    "vllm": "lmbench.providers.catalog:vllm",
    "lmstudio": "lmbench.providers.catalog:lmstudio",
    "llamacpp": "lmbench.providers.catalog:llamacpp",
    "openai-compatible": "lmbench.providers.catalog:openai_compatible",
    "anthropic": "lmbench.providers.catalog:anthropic",
    "gemini": "lmbench.providers.catalog:gemini",
    "cohere": "lmbench.providers.catalog:cohere",
    "ollama": "lmbench.providers.catalog:ollama",
}

_registered: dict[str, Factory] = {}
_lock = threading.Lock()
_entry_points_loaded = False


def register_provider(prefix: str, factory: Factory) -> None:
    """Make ``"prefix/<model>"`` resolve through ``factory(model, **kwargs)``."""
    with _lock:
        _registered[prefix] = factory


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    for ep in entry_points(group="lmbench.providers"):
        _registered.setdefault(ep.name, ep.load())
    _entry_points_loaded = True


def known_providers() -> list[str]:
    """Every prefix that resolves, built-in and registered."""
    _load_entry_points()
    return sorted(set(_BUILTIN) | set(_registered))


def _factory(prefix: str) -> Factory | None:
    if prefix in _registered:
        return _registered[prefix]
    target = _BUILTIN.get(prefix)
    if target is None:
        _load_entry_points()
        return _registered.get(prefix)
    module_name, attr = target.split(":")
    return getattr(importlib.import_module(module_name), attr)


def resolve_lm(name: str | LM, **kwargs: Any) -> LM:
    """Turn ``"provider/model"`` into an LM; an LM object is returned as it is."""
    if not isinstance(name, str):
        return name
    prefix, sep, model = name.partition("/")
    if not sep or not model:
        raise ConfigError(
            f"model name {name!r} has no provider prefix: write it as 'provider/model', "
            f"e.g. 'openai/gpt-4o-mini' or '{DEFAULT_MODEL}'. Known providers: "
            + ", ".join(known_providers())
        )
    factory = _factory(prefix)
    if factory is None:
        raise ConfigError(
            f"unknown provider {prefix!r} in model name {name!r}. Known providers: "
            + ", ".join(known_providers())
            + ". Third-party providers register through the 'lmbench.providers' entry point."
        )
    return factory(model, **kwargs)
