"""Turn HTTP error responses and transport failures into lmbench's error types.

=====================================  =============================
what happened                          raised
=====================================  =============================
401, 403 or no key configured          ``AuthenticationError``
429                                    ``RateLimitError``
408, timeouts, the deadline passing    ``ProviderTimeout``
connection refused / reset / cut       ``ProviderConnectionError``
anything else                          ``ProviderError``
=====================================  =============================

The message is the provider's own (read from the error body of any supported API, with
every secret redacted), plus what to do about it when that is known. An HTML page instead
of the API's JSON (a proxy, gateway or load balancer answered) is summed up by its status and
page title in one short line; the whole page stays on the error's ``body``.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from typing import Any

import httpx

from lmbench.errors import (
    AuthenticationError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeout,
    RateLimitError,
)
from lmbench.lm.types import Attempt
from lmbench.secrets import redact, redact_exception

__all__ = [
    "REQUEST_ID_HEADERS",
    "error_for_status",
    "error_for_transport",
    "error_message",
    "html_page_title",
    "html_summary",
    "request_id_from",
    "transport_failure",
]

#: Where providers put their request id, in order of preference.
REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-groq-id", "mistral-correlation-id")
_MAX_MESSAGE = 600


def request_id_from(headers: Mapping[str, str]) -> str | None:
    """The provider's request id from response headers, if it sends one (never a key a
    server echoed there)."""
    for name in REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return redact(value)  # type: ignore[no-any-return]
    return None


def _message_from_json(data: Any) -> str | None:
    if isinstance(data, list) and data:
        # Gemini wraps some errors in a one-element list.
        return _message_from_json(data[0])
    if not isinstance(data, dict):
        return None
    error = data.get("error")
    if isinstance(error, str):  # Ollama, llama.cpp
        return error
    if isinstance(error, dict):  # OpenAI and compatibles, Anthropic, Gemini, OpenRouter
        message = str(error.get("message") or "").strip()
        code = error.get("code") if isinstance(error.get("code"), str) else None
        kind = code or error.get("type") or error.get("status")
        if kind and str(kind) not in message:
            message = f"{message} ({kind})" if message else str(kind)
        metadata = error.get("metadata")
        if isinstance(metadata, dict) and metadata.get("raw"):  # OpenRouter: upstream's words
            message = f"{message}: {metadata['raw']}"
        return message or None
    if isinstance(data.get("message"), str):  # Cohere
        return str(data["message"])
    detail = data.get("detail")  # FastAPI-based servers
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        return "; ".join(
            f"{'.'.join(map(str, d.get('loc', [])))}: {d.get('msg', '')}"
            if isinstance(d, dict)
            else str(d)
            for d in detail
        )
    return None


_HTML_START = re.compile(r"\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.I | re.S)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.I | re.S)
_HEADING = re.compile(r"<h[12][^>]*>(.*?)</h[12]\s*>", re.I | re.S)
_TAG = re.compile(r"<[^>]+>")
_MAX_TITLE = 80


def html_page_title(body: str) -> str | None:
    """The title of an HTML page (else its first heading, else the start of its text);
    None when ``body`` is not an HTML page."""
    if not _HTML_START.match(body[:2048]):
        return None
    match = _TITLE.search(body) or _HEADING.search(body)
    text = match.group(1) if match is not None else body
    title = " ".join(html.unescape(_TAG.sub(" ", text)).split())
    return title if len(title) <= _MAX_TITLE else title[: _MAX_TITLE - 3] + "..."


def html_summary(body: str) -> str | None:
    """One short line for an HTML page where the API's JSON was expected (the error's head
    names the status); None if ``body`` is not HTML."""
    title = html_page_title(body)
    if title is None:
        return None
    return (
        f"the response is an HTML page titled {title!r}, not the API's JSON (a proxy or "
        "gateway answered?); the whole page is on the error's .body"
    )


def error_message(body: str, fallback: str) -> str:
    """The human message inside an error body, redacted; ``fallback`` when there is none."""
    text = body.strip()
    message: str | None = None
    if text:
        try:
            message = _message_from_json(json.loads(text))
        except ValueError:
            message = text
    message = (message or fallback).strip()
    if len(message) > _MAX_MESSAGE:
        message = message[:_MAX_MESSAGE] + "..."
    return redact(message)


def _hint(status: int, key_hint: str, model: str) -> str:
    if status in (401, 403):
        return f" Check the API key: {key_hint}."
    if status == 404:
        return f" Check the model name {model!r} and the base URL."
    return ""


def error_for_status(
    *,
    provider: str,
    model: str,
    response: httpx.Response,
    retryable: bool,
    key_hint: str,
    attempts: list[Attempt],
    note: str = "",
) -> ProviderError:
    """The error for an HTTP error response whose body has been read."""
    status = response.status_code
    body = redact(response.text)
    summary = html_summary(body)
    message = (summary or error_message(body, response.reason_phrase or "error")) + _hint(
        status, key_hint, model
    )
    if note:
        message = f"{message} [{note}]"
    kind: type[ProviderError]
    if status in (401, 403):
        kind = AuthenticationError
    elif status == 429:
        kind = RateLimitError
    elif status == 408:
        kind = ProviderTimeout
    else:
        kind = ProviderError
    return kind(
        message,
        provider=provider,
        status=status,
        retryable=retryable,
        request_id=request_id_from(response.headers),
        body=body,
        attempts=attempts,
    )


def transport_failure(exc: httpx.TransportError) -> str:
    """A short description of a transport failure, for attempts and messages."""
    detail = redact(str(exc)) or type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return f"timeout ({type(exc).__name__}: {detail})"
    return f"connection error ({type(exc).__name__}: {detail})"


def error_for_transport(
    *,
    provider: str,
    exc: httpx.TransportError,
    retryable: bool,
    attempts: list[Attempt],
    note: str = "",
) -> ProviderError:
    """The error for a connection failure or timeout (``exc``, which it is raised from,
    cleaned of secrets in place: a proxy's or URL's credentials may be in its text)."""
    redact_exception(exc)
    message = transport_failure(exc)
    if note:
        message = f"{message} [{note}]"
    kind: type[ProviderError]
    if isinstance(exc, httpx.TimeoutException):
        kind = ProviderTimeout
    elif isinstance(exc, (httpx.NetworkError, httpx.RemoteProtocolError, httpx.ProxyError)):
        kind = ProviderConnectionError
    else:
        kind = ProviderError
    return kind(message, provider=provider, retryable=retryable, attempts=attempts)
