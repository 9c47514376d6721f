"""Field values as prompt text: strings as they are, numbers plainly, structures as JSON."""

from __future__ import annotations

import enum
import json
from typing import Any

from lmbench.lm.types import ContentPart
from lmbench.media import Media

__all__ = ["format_value", "media_parts", "to_jsonable"]

# Structures whose JSON fits on one line this short stay on one line; longer ones are indented.
_ONE_LINE = 80


def to_jsonable(value: Any) -> Any:
    """Plain JSON data for any value pydantic can serialise (models, dataclasses, dates, enums...)."""
    from pydantic_core import to_jsonable_python

    return to_jsonable_python(value, fallback=str)


def format_value(value: Any) -> str:
    """A value as it appears in a prompt.

    Text is kept verbatim; booleans read ``true``/``false``; numbers as written; dates in ISO
    format; enums by value; lists, dicts, pydantic models and dataclasses as JSON.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, enum.Enum):
        return format_value(value.value)
    if value is None:
        return "null"
    data = to_jsonable(value)
    if isinstance(data, str):
        return data
    text = json.dumps(data, ensure_ascii=False)
    if len(text) > _ONE_LINE:
        text = json.dumps(data, ensure_ascii=False, indent=2)
    return text


def media_parts(value: Any) -> list[ContentPart] | None:
    """Content parts for an Image/Audio/Document (or a non-empty list of them), else None."""
    if isinstance(value, Media):
        return [value.to_part()]
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, Media) for v in value):
        return [v.to_part() for v in value]
    return None
