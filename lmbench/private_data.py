"""Opt-in redaction of private data (e-mail addresses, phone numbers, patterns of your own)
from what lmbench records: history files (JSONL, SQLite) and DataFrames, raw provider
captures (``LMBENCH_SAVE_RAW``) and the ``lmbench`` log.

Off by default. Turn it on with ``lmbench.configure(redact=["email", "phone", r"ACCT-\\d{6}"])``,
for one block with ``lmbench.context(redact=[...])``, or ``LMBENCH_REDACT=email,phone``.
A match of a named pattern becomes ``[email]`` / ``[phone]``, of your own regex
``[redacted]``. The model still gets the real prompt, the cache keeps the real answer, and
the in-memory history objects (what a notebook shows you) keep the real text: only what is
written out is redacted. Secrets (API keys) are always redacted, by ``lmbench.secrets``.

The patterns in force come from the settings (``read_patterns_from`` is how the settings
module plugs in, so this module depends on nothing above it); without settings, from
``LMBENCH_REDACT``.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Any

from lmbench.errors import ConfigError

__all__ = [
    "NAMED_PATTERNS",
    "PatternSpec",
    "active_patterns",
    "compile_patterns",
    "read_patterns_from",
    "redact_private",
    "redact_private_fields",
]

PatternSpec = str | re.Pattern[str]

#: Patterns users can name instead of writing them, and what each match becomes.
NAMED_PATTERNS: dict[str, tuple[str, str]] = {
    "email": (r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}", "[email]"),
    # International (+44 20 7946 0958, +15551234567) and grouped national (555-123-4567,
    # (020) 7946 0958) numbers; a bare run of digits or a date is left alone.
    "phone": (
        r"(?<![\w+])(?:\+\d{1,3}[\s.-]?\(?\d{1,4}\)?(?:[\s.-]?\d{2,4}){2,3}|\+\d{8,15}"
        r"|\(\d{2,4}\)[\s.-]?\d{3,4}[\s.-]?\d{3,4}|\d{3}[\s.-]\d{3,4}[\s.-]\d{4})(?![\w])",
        "[phone]",
    ),
}

Compiled = tuple[tuple[re.Pattern[str], str], ...]


def _from_environment() -> tuple[str, ...]:
    return tuple(p.strip() for p in os.environ.get("LMBENCH_REDACT", "").split(",") if p.strip())


_source: Callable[[], Iterable[PatternSpec]] = _from_environment


def read_patterns_from(source: Callable[[], Iterable[PatternSpec]]) -> None:
    """Where the patterns in force come from (the settings module calls this once)."""
    global _source
    _source = source


@lru_cache(maxsize=64)
def compile_patterns(spec: tuple[PatternSpec, ...], *, source: str = "redact") -> Compiled:
    """Named patterns and regexes (strings or compiled) as ``(pattern, replacement)`` pairs;
    a ``ConfigError`` naming a bad one and what is accepted."""
    out: list[tuple[re.Pattern[str], str]] = []
    for item in spec:
        if isinstance(item, re.Pattern):
            out.append((item, "[redacted]"))
            continue
        if not isinstance(item, str) or not item.strip():
            raise ConfigError(
                f"{source}: {item!r} is not a pattern; give names ({', '.join(NAMED_PATTERNS)}) "
                "or regular expressions as strings"
            )
        named = NAMED_PATTERNS.get(item.strip().lower())
        if named is not None:
            out.append((re.compile(named[0]), named[1]))
            continue
        try:
            out.append((re.compile(item), "[redacted]"))
        except re.error as exc:
            raise ConfigError(
                f"{source}: {item!r} is neither a named pattern ({', '.join(NAMED_PATTERNS)}) "
                f"nor a valid regular expression ({exc})"
            ) from None
    return tuple(out)


def active_patterns() -> Compiled:
    """The patterns in force here (none unless redaction was turned on)."""
    spec = _source()
    return compile_patterns(tuple(spec)) if spec else ()


def _apply(value: Any, patterns: Compiled) -> Any:
    if isinstance(value, str):
        for pattern, replacement in patterns:
            value = pattern.sub(replacement, value)
        return value
    if isinstance(value, Mapping):
        return {key: _apply(item, patterns) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_apply(item, patterns) for item in value)
    return value


def redact_private(value: Any) -> Any:
    """``value`` (a string, or dicts/lists/tuples of them at any depth) with the private data
    the active patterns match replaced; ``value`` itself when redaction is off."""
    patterns = active_patterns()
    return _apply(value, patterns) if patterns else value


def redact_private_fields(data: dict[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """``data`` with the private data in its ``fields`` replaced (in place), when redaction
    is on: for records whose other fields (ids, keys, timings) must stay exact."""
    patterns = active_patterns()
    if patterns:
        for name in fields:
            if data.get(name) is not None:
                data[name] = _apply(data[name], patterns)
    return data


class _PrivateDataFilter(logging.Filter):
    """Rewrites a log record's message without private data, when redaction is on."""

    def filter(self, record: logging.LogRecord) -> bool:
        patterns = active_patterns()
        if patterns:
            message = record.getMessage()
            cleaned = _apply(message, patterns)
            if cleaned != message:
                record.msg, record.args = cleaned, None
        return True


private_data_filter = _PrivateDataFilter()
