"""Secrets out of everything observability writes: history entries, traces, cache keys.

The provider layer owns the one redaction set (``lmbench.providers.secrets``); this module
hands values to it, and keeps a conservative stand-in so observability works before (or
without) the provider layer.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["REDACTED", "redact"]

REDACTED = "[redacted]"

_SECRET_NAMES = frozenset(
    {
        "api_key",
        "api-key",
        "apikey",
        "x-api-key",
        "x-goog-api-key",
        "authorization",
        "proxy-authorization",
        "access_token",
        "client_secret",
        "password",
        "secret",
    }
)


def _redact_by_name(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {
            k: REDACTED if str(k).lower() in _SECRET_NAMES else _redact_by_name(v)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [_redact_by_name(v) for v in value]
    return value


@functools.cache
def _redactor() -> Callable[[Any], Any]:
    try:
        from lmbench.providers.secrets import redact as provider_redact
    except ImportError:
        return _redact_by_name
    return provider_redact


def redact(value: Any) -> Any:
    """A copy of ``value`` (dicts/lists, any depth) with secret values replaced."""
    return _redactor()(value)
