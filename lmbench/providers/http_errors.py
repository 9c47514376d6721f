"""Turn HTTP error responses and transport failures into lmbench's error types.

=====================================  =============================
what happened                          raised
=====================================  =============================
401, 403 or no key configured          ``AuthenticationError``
429                                    ``RateLimitError``
408, timeouts, the deadline passing    ``ProviderTimeout``
connection refused / reset / cut       ``ProviderConnectionError``
a redirect (3xx), an undecodable body   ``ProviderError``
anything else                          ``ProviderError``
=====================================  =============================

The message is the provider's own (read from the error body of any supported API, with
every secret redacted), plus what to do about it when that is known; a timeout names the
timeout that fired, its value and the setting that changes it. An HTML page instead
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
    "not_json",
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


def not_json(text: str, content_type: str | None) -> str:
    """The message for a success whose body is not the API's JSON (empty, or other text)."""
    if not text.strip():
        what = "the response body is empty"
    else:
        what = f"the response body is not JSON (content-type {content_type!r}): {text[:200]!r}"
    return (
        f"{what}; check that base_url points at the API itself (not a web page or a proxy's "
        "status page), else the server failed without saying so"
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


def _hint(status: int, key_hint: str, model: str, retryable: bool) -> str:
    """What to do about an error status, when that is known."""
    if status in (401, 403):
        return f" Check the API key: {key_hint}."
    if status == 404:
        return f" Check the model name {model!r} and the base URL."
    if status == 413:
        return " The request is too large for the server: shorten the prompt or the inputs."
    if status == 429:
        if not retryable:
            return " Check the account's quota, credits or billing with the provider."
        return (
            " Make fewer calls at once (e.g. a lower Parallel num_threads) or allow more "
            "retries (max_retries=...); retries wait as the server's Retry-After asks."
        )
    if status >= 500:
        return (
            " The provider failed on its side: try again later, or allow more retries "
            "(max_retries=..., deadline=...)."
        )
    return ""


def _redirect_message(location: str | None) -> str:
    where = f"to {redact(location)!r}" if location else "with no location"
    return (
        f"the server redirected {where}; API calls do not follow redirects (the request and "
        "its key would go along): set base_url to the address the API answers at"
    )


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
    if 300 <= status < 400:
        message = _redirect_message(response.headers.get("location"))
    else:
        summary = html_summary(body)
        hint = _hint(status, key_hint, model, retryable)
        if summary is not None:  # a proxy's page: kept short, with the key or model hint only
            message = summary + (hint if status in (401, 403, 404) else "")
        else:
            message = error_message(body, response.reason_phrase or "error")
            if hint and not message.endswith((".", "!", "?")):
                message += "."
            message += hint
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


_TIMEOUTS: tuple[tuple[type[httpx.TimeoutException], str], ...] = (
    (httpx.ConnectTimeout, "connect"),
    (httpx.ReadTimeout, "read"),
    (httpx.WriteTimeout, "write"),
    (httpx.PoolTimeout, "pool"),
)
_WAITED_FOR = {
    "connect": "no connection",
    "read": "no data",
    "write": "the request not sent",
    "pool": "no free connection",
}


def _timeout_kind(exc: httpx.TimeoutException) -> str:
    for kind, name in _TIMEOUTS:
        if isinstance(exc, kind):
            return name
    return "read"


def transport_failure(
    exc: httpx.RequestError, limits: Mapping[str, float | None] | None = None
) -> str:
    """A short description of a transport failure, for attempts and messages; ``limits``
    (the attempt's httpx timeouts) names the timeout that fired and its value."""
    name = type(exc).__name__
    detail = redact(str(exc)) or name
    if isinstance(exc, httpx.TimeoutException):
        kind = _timeout_kind(exc)
        seconds = (limits or {}).get(kind)
        if seconds is not None:
            detail = f"{_WAITED_FOR[kind]} within the {kind} timeout of {seconds:g} s"
        return f"timeout ({name}: {detail})"
    if isinstance(exc, httpx.DecodingError):
        return f"undecodable response body ({name}: {detail})"
    if isinstance(exc, httpx.TooManyRedirects):
        return f"redirect loop ({name}: {detail})"
    return f"connection error ({name}: {detail})"


def _transport_fix(exc: httpx.RequestError, deadline: float | None) -> str:
    """What to do about a transport failure."""
    if isinstance(exc, httpx.TimeoutException):
        kind = _timeout_kind(exc)
        if deadline is not None:
            return (
                f"the call's deadline of {deadline:g} s cut this attempt short: raise it with "
                "deadline=... on the LM (or RetryPolicy(deadline=...))"
            )
        if kind == "connect":
            return (
                "check that the server at the base URL is up and reachable, or raise "
                "connect_timeout=... on the LM"
            )
        if kind == "pool":
            return (
                "every connection of the HTTP client's pool was busy: make fewer calls at once, "
                "or pass http_client=httpx.Client(limits=httpx.Limits(...)) with more connections"
            )
        return (
            "raise the timeout with timeout=... on the LM (e.g. resolve_lm(..., timeout=120)), "
            "lmbench.context(timeout=...) or LMBENCH_TIMEOUT"
        )
    if isinstance(exc, httpx.DecodingError):
        return (
            "the body does not match its content-encoding header: a proxy or the server damaged it"
        )
    if isinstance(exc, httpx.TooManyRedirects):
        return "set base_url to the address the API really answers at"
    if isinstance(exc, httpx.ConnectError):
        return "check that the server is up and that base_url names the right host and port"
    return ""


def error_for_transport(
    *,
    provider: str,
    exc: httpx.RequestError,
    retryable: bool,
    attempts: list[Attempt],
    note: str = "",
    status: int | None = None,
    limits: Mapping[str, float | None] | None = None,
    deadline: float | None = None,
) -> ProviderError:
    """The error for a connection failure, timeout, or a body that could not be read
    (``exc``, which it is raised from, cleaned of secrets in place: a proxy's or URL's
    credentials may be in its text).

    ``status`` is set when the failure came after the response's status line (a body cut
    off or undecodable); ``limits`` are the attempt's timeouts, ``deadline`` the call's
    deadline when it shortened them (both name the timeout that fired and the fix).
    """
    redact_exception(exc)
    message = transport_failure(exc, limits)
    fix = _transport_fix(exc, deadline)
    if fix:
        message = f"{message}. Fix: {fix}"
    if note:
        message = f"{message} [{note}]"
    kind: type[ProviderError]
    if isinstance(exc, httpx.TimeoutException):
        kind = ProviderTimeout
    elif isinstance(exc, (httpx.NetworkError, httpx.RemoteProtocolError, httpx.ProxyError)):
        kind = ProviderConnectionError
    else:
        kind = ProviderError
    return kind(message, provider=provider, status=status, retryable=retryable, attempts=attempts)
