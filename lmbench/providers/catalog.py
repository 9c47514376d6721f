"""``build_lm``: the factory of every built-in remote provider (``services.SERVICES``).

Each provider's key variables, default base URL and wire format are its entry in
``services.PROVIDERS``. Every provider also reads ``<PREFIX>_BASE_URL`` (``-`` as ``_``).
Keyword arguments of every factory: ``api_key``, ``base_url``, ``timeout``, ``connect_timeout``, ``max_retries``,
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
from typing import Any

from lmbench.errors import ConfigError
from lmbench.providers.provider import Provider, is_loopback
from lmbench.providers.remote import RemoteLM
from lmbench.providers.services import SERVICES, Service
from lmbench.providers.wire.anthropic import DEFAULT_MAX_TOKENS, AnthropicMessages
from lmbench.providers.wire.base import WireFormat
from lmbench.providers.wire.cohere import CohereChat
from lmbench.providers.wire.gemini import GeminiGenerateContent
from lmbench.providers.wire.ollama import OllamaChat
from lmbench.providers.wire.openai_chat import STRUCTURED_MODES, OpenAIChat
from lmbench.secrets import Secret

__all__ = ["SERVICES", "build_lm"]

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
        structured_modes=tuple(
            options.pop("structured_modes", service.structured_modes or STRUCTURED_MODES)
        ),
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
