"""JSON text that can always be written as UTF-8: the one place lone surrogates are escaped.

A ``str`` can hold lone surrogates (``"\\ud83d"`` without its pair, from a broken decode or a
model's cut-off emoji), which UTF-8 cannot encode. Where lmbench writes JSON out (request
bodies, history entries, cached responses), such text is written with non-ASCII characters
escaped (``\\ud83d``, which JSON allows and reads back to the same string) instead of failing
the call or losing the record. Text without them is written as usual, unescaped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

__all__ = ["storable_json"]

_SURROGATE = re.compile("[\ud800-\udfff]")


def storable_json(
    value: Any,
    *,
    default: Callable[[Any], Any] | None = None,
    separators: tuple[str, str] | None = None,
) -> str:
    """``json.dumps(value)`` (non-ASCII kept) whose text always encodes as UTF-8."""
    text = json.dumps(value, ensure_ascii=False, default=default, separators=separators)
    if text.isascii() or _SURROGATE.search(text) is None:
        return text
    return json.dumps(value, ensure_ascii=True, default=default, separators=separators)
