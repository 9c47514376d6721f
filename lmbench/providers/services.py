"""The built-in providers, in one table.

Each ``Service`` is one provider prefix: its factory, what its models can do natively
(``capabilities``), the bare model names that resolve to it (``models``: ``gpt-4o-mini`` is
``openai/gpt-4o-mini``), and for a remote one where it is, how it authenticates and which wire
format it speaks. The registry (``lmbench.lm.registry``), the catalog's factory
(``build_lm``), ``capabilities_for`` and the notebook's key panel all read this table, so a
provider is added here and nowhere else.

This module stays light (no httpx): the registry loads it to resolve a name.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from lmbench.lm.types import Capabilities

__all__ = ["PROVIDERS", "SERVICES", "Service", "factory", "providers_for_model"]

CHAT_OPTIONS = frozenset({"structured_modes", "max_tokens_field"})
_FALLBACK = ("json_schema", "json_object", "text")

FULL = Capabilities(structured_output=True, tools=True, multiple_choices=True)
ONE_CHOICE = Capabilities(structured_output=True, tools=True, multiple_choices=False)

_REMOTE_FACTORY = "lmbench.providers.catalog:build_lm"


@dataclass(frozen=True)
class Service:
    """A built-in provider: how it is made, what it can do, which bare model names are its,
    and (remote ones) where it is, how it authenticates, which wire format it speaks."""

    name: str
    base_url: str | None
    key_env: tuple[str, ...]
    key_required: bool = True
    base_url_env: tuple[str, ...] = ()
    auth_header: str = "Authorization"
    auth_scheme: str = "Bearer"
    headers: Mapping[str, str] = field(default_factory=dict)
    max_tokens_field: str = "max_tokens"
    #: Structured-output modes to try in order; None: every mode the wire format knows.
    structured_modes: tuple[str, ...] | None = ("json_schema",)
    stream_usage: bool = True
    wire: str = "openai-chat"
    options: frozenset[str] = CHAT_OPTIONS
    runs_locally: bool = False
    #: What its models do natively (remote ones; in-process LMs report their own).
    capabilities: Capabilities = ONE_CHOICE
    #: Bare model names starting with one of these resolve to this provider.
    models: tuple[str, ...] = ()
    #: ``module:attribute`` of the factory; remote services are built by the catalog.
    factory: str = _REMOTE_FACTORY

    @property
    def remote(self) -> bool:
        return self.factory == _REMOTE_FACTORY

    @property
    def env_base_urls(self) -> tuple[str, ...]:
        own = self.name.upper().replace("-", "_") + "_BASE_URL"
        return (*self.base_url_env, own) if own not in self.base_url_env else self.base_url_env


PROVIDERS: dict[str, Service] = {
    s.name: s
    for s in (
        Service(
            "local",
            None,
            (),
            key_required=False,
            runs_locally=True,
            factory="lmbench.providers.local:LocalLM",
        ),
        Service(
            "scripted",
            None,
            (),
            key_required=False,
            runs_locally=True,
            factory="lmbench.lm.scripted:scripted_from_name",
        ),
        Service(
            "openai",
            "https://api.openai.com/v1",
            ("OPENAI_API_KEY",),
            max_tokens_field="max_completion_tokens",
            capabilities=FULL,
            models=("gpt-", "chatgpt-", "o1", "o3", "o4-"),
        ),
        Service(
            "openrouter",
            "https://openrouter.ai/api/v1",
            ("OPENROUTER_API_KEY",),
            structured_modes=_FALLBACK,
            options=CHAT_OPTIONS | {"site_url", "app_name"},
        ),
        Service(
            "mistral",
            "https://api.mistral.ai/v1",
            ("MISTRAL_API_KEY",),
            stream_usage=False,
            capabilities=FULL,
            models=(
                "mistral-",
                "open-mistral-",
                "codestral-",
                "ministral-",
                "pixtral-",
                "magistral-",
            ),
        ),
        Service(
            "groq",
            "https://api.groq.com/openai/v1",
            ("GROQ_API_KEY",),
            max_tokens_field="max_completion_tokens",
            structured_modes=_FALLBACK,
        ),
        Service(
            "together",
            "https://api.together.xyz/v1",
            ("TOGETHER_API_KEY",),
            structured_modes=_FALLBACK,
            capabilities=FULL,
        ),
        Service(
            "deepseek",
            "https://api.deepseek.com/v1",
            ("DEEPSEEK_API_KEY",),
            structured_modes=("json_object", "text"),
            # JSON mode, but no schema-constrained decoding; text only.
            capabilities=Capabilities(
                structured_output=False, tools=True, multiple_choices=False, media=frozenset()
            ),
            models=("deepseek-",),
        ),
        Service(
            "vllm",
            "http://localhost:8000/v1",
            ("VLLM_API_KEY",),
            key_required=False,
            structured_modes=_FALLBACK,
            runs_locally=True,
            capabilities=FULL,
        ),
        Service(
            "lmstudio",
            "http://localhost:1234/v1",
            ("LMSTUDIO_API_KEY",),
            key_required=False,
            structured_modes=("json_schema", "text"),
            runs_locally=True,
        ),
        Service(
            "llamacpp",
            "http://127.0.0.1:8080/v1",
            ("LLAMACPP_API_KEY",),
            key_required=False,
            structured_modes=("json_object_schema", "json_schema", "json_object", "text"),
            runs_locally=True,
        ),
        Service(
            "openai-compatible",
            None,
            ("OPENAI_COMPATIBLE_API_KEY",),
            key_required=False,
            structured_modes=None,
        ),
        Service(
            "anthropic",
            "https://api.anthropic.com",
            ("ANTHROPIC_API_KEY",),
            base_url_env=("ANTHROPIC_BASE_URL",),
            auth_header="x-api-key",
            auth_scheme="",
            headers={"anthropic-version": "2023-06-01"},
            wire="anthropic",
            options=frozenset({"default_max_tokens"}),
            models=("claude-",),
        ),
        Service(
            "gemini",
            "https://generativelanguage.googleapis.com/v1beta",
            ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
            auth_header="x-goog-api-key",
            auth_scheme="",
            wire="gemini",
            options=frozenset(),
            capabilities=FULL,
            models=("gemini-",),
        ),
        Service(
            "cohere",
            "https://api.cohere.com",
            ("CO_API_KEY", "COHERE_API_KEY"),
            wire="cohere",
            options=frozenset(),
            models=("command-", "command"),
        ),
        Service(
            "ollama",
            "http://localhost:11434",
            ("OLLAMA_API_KEY",),
            key_required=False,
            base_url_env=("OLLAMA_HOST",),
            structured_modes=_FALLBACK,
            wire="ollama",
            options=CHAT_OPTIONS | {"api"},
            runs_locally=True,
        ),
    )
}

#: The remote services (every provider but the in-process ones), for their HTTP settings.
SERVICES: dict[str, Service] = {name: s for name, s in PROVIDERS.items() if s.remote}


def factory(name: str) -> Callable[..., Any] | None:
    """The factory ``(model, **kwargs) -> LM`` of the built-in provider ``name`` (imported
    now), or None when there is no such provider."""
    service = PROVIDERS.get(name)
    if service is None:
        return None
    module, attribute = service.factory.split(":")
    target = getattr(importlib.import_module(module), attribute)
    return partial(target, name) if service.remote else target


def providers_for_model(model: str) -> list[str]:
    """The built-in providers a bare model name (no ``provider/``) belongs to."""
    lowered = model.lower()
    return [
        name
        for name, service in PROVIDERS.items()
        if any(lowered.startswith(prefix) for prefix in service.models)
    ]
