"""Registry factories for every built-in remote provider: ``(model, **kwargs) -> RemoteLM``.

==================  ============================  =================================  ===========
prefix              key (environment)             base URL (default / environment)   wire format
==================  ============================  =================================  ===========
openai              OPENAI_API_KEY                api.openai.com/v1, OPENAI_BASE_URL  OpenAI chat
openrouter          OPENROUTER_API_KEY            openrouter.ai/api/v1                OpenAI chat
mistral             MISTRAL_API_KEY               api.mistral.ai/v1                   OpenAI chat
groq                GROQ_API_KEY                  api.groq.com/openai/v1              OpenAI chat
together            TOGETHER_API_KEY              api.together.xyz/v1                 OpenAI chat
deepseek            DEEPSEEK_API_KEY              api.deepseek.com/v1                 OpenAI chat
vllm                VLLM_API_KEY (optional)       localhost:8000/v1, VLLM_BASE_URL    OpenAI chat
lmstudio            LMSTUDIO_API_KEY (optional)   localhost:1234/v1                   OpenAI chat
llamacpp            LLAMACPP_API_KEY (optional)   127.0.0.1:8080/v1                   OpenAI chat
openai-compatible   OPENAI_COMPATIBLE_API_KEY     base_url= or OPENAI_COMPATIBLE_BASE_URL
                    (optional)                                                        OpenAI chat
anthropic           ANTHROPIC_API_KEY             api.anthropic.com                   Messages
gemini              GEMINI_API_KEY/GOOGLE_API_KEY generativelanguage.googleapis.com   generateContent
cohere              CO_API_KEY / COHERE_API_KEY   api.cohere.com                      v2 chat
ollama              OLLAMA_API_KEY (optional)     localhost:11434, OLLAMA_HOST        /api/chat
==================  ============================  =================================  ===========

Every provider also reads ``<PREFIX>_BASE_URL`` (``-`` as ``_``). Keyword arguments of every
factory: ``api_key``, ``base_url``, ``timeout``, ``connect_timeout``, ``max_retries``,
``retry`` (a ``RetryPolicy``), ``deadline``, ``headers``, ``http_client``,
``async_http_client``, ``capabilities``; OpenAI-chat providers also take
``structured_modes`` and ``max_tokens_field``; ``openrouter`` takes ``site_url`` and
``app_name`` (sent as ``HTTP-Referer`` / ``X-Title``; also ``OPENROUTER_SITE_URL`` /
``OPENROUTER_APP_NAME``); ``anthropic`` takes ``default_max_tokens``; ``ollama`` takes
``api="native"`` (default, ``/api/chat``) or ``api="openai"`` (``/v1``).

``"openrouter/<vendor>/<model>"`` keeps ``<vendor>/<model>`` as the model id.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lmbench.errors import ConfigError
from lmbench.providers.provider import Provider, is_loopback
from lmbench.providers.remote import RemoteLM
from lmbench.providers.wire.anthropic import DEFAULT_MAX_TOKENS, AnthropicMessages
from lmbench.providers.wire.base import WireFormat
from lmbench.providers.wire.cohere import CohereChat
from lmbench.providers.wire.gemini import GeminiGenerateContent
from lmbench.providers.wire.ollama import OllamaChat
from lmbench.providers.wire.openai_chat import STRUCTURED_MODES, OpenAIChat
from lmbench.secrets import Secret

__all__ = [
    "SERVICES",
    "anthropic",
    "build_lm",
    "cohere",
    "deepseek",
    "gemini",
    "groq",
    "llamacpp",
    "lmstudio",
    "mistral",
    "ollama",
    "openai",
    "openai_compatible",
    "openrouter",
    "together",
    "vllm",
]

_LM_OPTIONS = frozenset(
    {
        "timeout",
        "connect_timeout",
        "max_retries",
        "retry",
        "deadline",
        "headers",
        "http_client",
        "async_http_client",
        "capabilities",
    }
)
_CHAT_OPTIONS = frozenset({"structured_modes", "max_tokens_field"})
_FALLBACK = ("json_schema", "json_object", "text")


@dataclass(frozen=True)
class Service:
    """A built-in provider: where it is, how it authenticates, which wire format it speaks."""

    name: str
    base_url: str | None
    key_env: tuple[str, ...]
    key_required: bool = True
    base_url_env: tuple[str, ...] = ()
    auth_header: str = "Authorization"
    auth_scheme: str = "Bearer"
    headers: Mapping[str, str] = field(default_factory=dict)
    max_tokens_field: str = "max_tokens"
    structured_modes: tuple[str, ...] = ("json_schema",)
    stream_usage: bool = True
    wire: str = "openai-chat"
    options: frozenset[str] = _CHAT_OPTIONS
    runs_locally: bool = False

    @property
    def env_base_urls(self) -> tuple[str, ...]:
        own = self.name.upper().replace("-", "_") + "_BASE_URL"
        return (*self.base_url_env, own) if own not in self.base_url_env else self.base_url_env


SERVICES: dict[str, Service] = {
    s.name: s
    for s in (
        Service(
            "openai",
            "https://api.openai.com/v1",
            ("OPENAI_API_KEY",),
            max_tokens_field="max_completion_tokens",
        ),
        Service(
            "openrouter",
            "https://openrouter.ai/api/v1",
            ("OPENROUTER_API_KEY",),
            structured_modes=_FALLBACK,
            options=_CHAT_OPTIONS | {"site_url", "app_name"},
        ),
        Service("mistral", "https://api.mistral.ai/v1", ("MISTRAL_API_KEY",), stream_usage=False),
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
        ),
        Service(
            "deepseek",
            "https://api.deepseek.com/v1",
            ("DEEPSEEK_API_KEY",),
            structured_modes=("json_object", "text"),
        ),
        Service(
            "vllm",
            "http://localhost:8000/v1",
            ("VLLM_API_KEY",),
            key_required=False,
            structured_modes=_FALLBACK,
            runs_locally=True,
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
            structured_modes=STRUCTURED_MODES,
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
        ),
        Service(
            "gemini",
            "https://generativelanguage.googleapis.com/v1beta",
            ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
            auth_header="x-goog-api-key",
            auth_scheme="",
            wire="gemini",
            options=frozenset(),
        ),
        Service(
            "cohere",
            "https://api.cohere.com",
            ("CO_API_KEY", "COHERE_API_KEY"),
            wire="cohere",
            options=frozenset(),
        ),
        Service(
            "ollama",
            "http://localhost:11434",
            ("OLLAMA_API_KEY",),
            key_required=False,
            base_url_env=("OLLAMA_HOST",),
            structured_modes=_FALLBACK,
            wire="ollama",
            options=_CHAT_OPTIONS | {"api"},
            runs_locally=True,
        ),
    )
}


def _base_url(service: Service, given: str | None) -> str:
    if given:
        return given
    for name in service.env_base_urls:
        value = os.environ.get(name, "").strip()
        if value:
            return value if "://" in value else f"http://{value}"
    if service.base_url is None:
        raise ConfigError(
            f"{service.name}/<model> needs the server's URL: pass base_url=, e.g. "
            f"resolve_lm('{service.name}/my-model', base_url='http://127.0.0.1:8080/v1'), "
            f"or set {' or '.join(service.env_base_urls)}"
        )
    return service.base_url


def _wire(service: Service, options: dict[str, Any]) -> WireFormat:
    kind = service.wire
    if kind == "ollama":
        api = options.pop("api", "native")
        if api not in ("native", "openai"):
            raise ConfigError(f"ollama api={api!r}: use 'native' (/api/chat) or 'openai' (/v1)")
        kind = "ollama-openai" if api == "openai" else "ollama"
    if kind == "anthropic":
        return AnthropicMessages(
            default_max_tokens=options.pop("default_max_tokens", DEFAULT_MAX_TOKENS)
        )
    if kind == "gemini":
        return GeminiGenerateContent()
    if kind == "cohere":
        return CohereChat()
    if kind == "ollama":
        return OllamaChat()
    return OpenAIChat(
        max_tokens_field=options.pop("max_tokens_field", service.max_tokens_field),
        structured_modes=tuple(options.pop("structured_modes", service.structured_modes)),
        stream_usage=service.stream_usage,
    )


def _service_headers(service: Service, options: dict[str, Any]) -> dict[str, str]:
    headers = dict(service.headers)
    if service.name == "openrouter":
        site = options.pop("site_url", None) or os.environ.get("OPENROUTER_SITE_URL")
        app = options.pop("app_name", None) or os.environ.get("OPENROUTER_APP_NAME") or "lmbench"
        if site:
            headers["HTTP-Referer"] = site
        headers["X-Title"] = app
    return headers


def build_lm(
    prefix: str,
    model: str,
    *,
    api_key: str | Secret | None = None,
    base_url: str | None = None,
    **kwargs: Any,
) -> RemoteLM:
    """A ``RemoteLM`` for the built-in provider ``prefix`` (see the table above)."""
    service = SERVICES[prefix]
    unknown = set(kwargs) - _LM_OPTIONS - service.options
    if unknown:
        accepted = sorted({"api_key", "base_url"} | _LM_OPTIONS | service.options)
        raise ConfigError(
            f"{prefix}/{model}: unknown option(s) {sorted(unknown)}; accepted: {accepted}"
        )
    options = {k: kwargs.pop(k) for k in list(kwargs) if k in service.options}
    url = _base_url(service, base_url)
    wire = _wire(service, options)
    if (
        isinstance(wire, OpenAIChat)
        and service.wire == "ollama"
        and not url.rstrip("/").endswith("/v1")
    ):
        url = url.rstrip("/") + "/v1"
    secret = Secret(api_key, source="api_key=") if isinstance(api_key, str) else api_key
    provider = Provider(
        name=prefix,
        base_url=url,
        api_key=secret,
        key_env=service.key_env,
        key_required=service.key_required,
        auth_header=service.auth_header,
        auth_scheme=service.auth_scheme,
        headers=_service_headers(service, options),
    )
    free = (service.runs_locally or service.base_url is None) and is_loopback(url)
    return RemoteLM(model, provider=provider, wire=wire, free=free, **kwargs)


def _factory(prefix: str) -> Callable[..., RemoteLM]:
    def factory(model: str, **kwargs: Any) -> RemoteLM:
        return build_lm(prefix, model, **kwargs)

    factory.__name__ = factory.__qualname__ = prefix.replace("-", "_")
    factory.__doc__ = f"``{prefix}/<model>``: see the table in ``lmbench.providers.catalog``."
    return factory


openai = _factory("openai")
openrouter = _factory("openrouter")
mistral = _factory("mistral")
groq = _factory("groq")
together = _factory("together")
deepseek = _factory("deepseek")
vllm = _factory("vllm")
lmstudio = _factory("lmstudio")
llamacpp = _factory("llamacpp")
openai_compatible = _factory("openai-compatible")
anthropic = _factory("anthropic")
gemini = _factory("gemini")
cohere = _factory("cohere")
ollama = _factory("ollama")
