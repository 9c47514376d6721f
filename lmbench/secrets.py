"""API keys: held only in ``Secret``, and scrubbed from everything kept or shown.

``Secret`` wraps a key so that its ``repr``, ``str``, formatting and JSON never show it;
``reveal()`` is called in exactly one place, when the auth header of a request is built.

``redact(value)`` is the one redaction routine for the whole library (raw exchanges,
history entries, traces, cache keys, error messages). It replaces, in strings at any depth
of dicts/lists/tuples:

- the value of every ``Secret`` created in this process,
- the value of every environment variable named like a credential (``*_API_KEY``,
  ``*API_KEY``, ``*_TOKEN``, ``*_SECRET``), read at redaction time so keys set later count,
- strings shaped like well-known provider keys (``sk-...``, ``sk-ant-...``, ``AIza...``,
  ``gsk_...``),

and the whole value of any mapping entry whose key names a credential (``authorization``,
``x-api-key``, ``api_key``, ...). ``redact_headers`` does the same for HTTP headers, where
any header named like a credential counts (``cf-aig-authorization``, ``x-portkey-api-key``,
``Helicone-Auth``, ``x-auth-token``: ``is_secret_header``); ``RemoteLM`` registers the values
of such headers, and of headers given as ``Secret``, so they are redacted by value everywhere,
even where a server echoes them back in an error body.

``redact_http_logs()`` adds a filter to the httpx/httpcore loggers, whose DEBUG records
quote raw response headers, so that nothing they log carries a key either.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any, NoReturn

from lmbench.errors import ConfigError

__all__ = [
    "REDACTED",
    "Secret",
    "is_secret_header",
    "is_secret_name",
    "redact",
    "redact_headers",
    "redact_http_logs",
    "register_secret",
]

REDACTED = "[redacted]"

# Shorter values are not treated as secrets: replacing "1" or "true" everywhere helps no one.
_MIN_SECRET_LENGTH = 8

_SECRET_NAMES = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "api-key",
        "x-goog-api-key",
        "api_key",
        "apikey",
        "access_token",
        "refresh_token",
        "client_secret",
        "password",
        "secret",
        "cookie",
        "set-cookie",
    }
)
# A header named with one of these words as a whole part (between dashes or underscores).
_SECRET_HEADER_PART = re.compile(
    r"(?:^|[-_])(?:auth|authorization|api[-_]?key|key|token|secret|password|passwd|cookie"
    r"|credentials?|signature)(?:$|[-_])",
    re.IGNORECASE,
)
_SECRET_ENV_NAME = re.compile(r"(API_?KEY|_TOKEN|_SECRET)$")
_KEY_SHAPES = re.compile(
    r"(?<![A-Za-z0-9])(?:sk-[A-Za-z0-9_\-]{20,}|AIza[0-9A-Za-z_\-]{35}|gsk_[A-Za-z0-9]{20,})"
)

_registered: set[str] = set()
_registered_lock = threading.Lock()


def register_secret(value: str) -> None:
    """Add ``value`` to the set ``redact`` removes (``Secret`` does this itself)."""
    if len(value) >= _MIN_SECRET_LENGTH:
        with _registered_lock:
            _registered.add(value)


def is_secret_name(name: object) -> bool:
    """Whether a header or field called ``name`` holds a credential."""
    return isinstance(name, str) and name.strip().lower() in _SECRET_NAMES


def is_secret_header(name: object) -> bool:
    """Whether an HTTP header called ``name`` carries a credential (gateway keys included)."""
    return is_secret_name(name) or (
        isinstance(name, str) and _SECRET_HEADER_PART.search(name.strip()) is not None
    )


class Secret:
    """A credential whose value is never shown: not by repr, str, format, JSON or pickle.

    ``source`` says where it came from (an environment variable or ``api_key=``) so a repr
    can still tell two secrets apart.
    """

    __slots__ = ("_value", "source")

    def __init__(self, value: str, *, source: str = "api_key=") -> None:
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(
                f"an API key from {source} must be a non-empty string, got {type(value).__name__}"
            )
        self._value = value.strip()
        self.source = source
        register_secret(self._value)

    def reveal(self) -> str:
        """The value itself: only for building the auth header of a request."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret(from {self.source})"

    def __str__(self) -> str:
        return REDACTED

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret:
        return self

    def __reduce__(self) -> NoReturn:
        raise TypeError(
            "a Secret is never pickled or saved; keep the key in its environment variable "
            "and let lmbench read it from there"
        )


def _known_secrets() -> list[str]:
    """Registered secrets plus credential-named environment variables, longest first."""
    with _registered_lock:
        values = set(_registered)
    for name, value in os.environ.items():
        if len(value) >= _MIN_SECRET_LENGTH and _SECRET_ENV_NAME.search(name.upper()):
            values.add(value.strip())
    # Longest first, so a secret that contains another is replaced whole.
    return sorted(values, key=len, reverse=True)


def _redact_text(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return _KEY_SHAPES.sub(REDACTED, text)


def _redact(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        return _redact_text(value, secrets)
    if isinstance(value, Secret):
        return REDACTED
    if isinstance(value, Mapping):
        return {
            key: REDACTED if is_secret_name(key) else _redact(item, secrets)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_redact(item, secrets) for item in value]
    if isinstance(value, tuple):
        return tuple(_redact(item, secrets) for item in value)
    if isinstance(value, bytes):
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            return value
        return _redact_text(text, secrets).encode("utf-8")
    return value


def redact(value: Any) -> Any:
    """A copy of ``value`` (a string, or dicts/lists/tuples at any depth) without secrets."""
    return _redact(value, _known_secrets())


def redact_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """HTTP headers as a plain dict, credential headers replaced and other values scrubbed.

    Accepts a mapping or ``(name, value)`` pairs, e.g. ``httpx.Headers.multi_items()``.
    """
    secrets = _known_secrets()
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    out: dict[str, str] = {}
    for name, value in pairs:
        out[name] = REDACTED if is_secret_header(name) else _redact_text(value, secrets)
    return out


class _RedactingFilter(logging.Filter):
    """Rewrites a record's message without secrets (records exist only at enabled levels)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_HTTP_LOGGERS = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
)
_log_filter = _RedactingFilter()


def redact_http_logs() -> None:
    """Scrub secrets from what the HTTP libraries log. Safe to call more than once."""
    for name in _HTTP_LOGGERS:
        logger = logging.getLogger(name)
        if _log_filter not in logger.filters:
            logger.addFilter(_log_filter)
