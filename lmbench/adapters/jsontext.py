"""JSON inside a model's text: fenced, embedded in prose, Python-flavoured or broken.

``load_json`` tries the cheap way first (``json.loads`` of the whole text) and only then
strips fences, looks for the JSON inside prose, reads Python literals and finally asks
``json-repair``; each step that fires is reported as a repair. ``partial_json`` reads the
incomplete JSON of a stream.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any, Literal

from lmbench.adapters.scalars import CoercionError, Fix, short

__all__ = ["find_fence", "load_json", "partial_json"]

Expect = Literal["object", "array"] | None

_FENCE = re.compile(r"```[ \t]*[\w+-]*[ \t]*\r?\n(?P<body>.*?)(?:```|\Z)", re.DOTALL)
_PYTHON_HINTS = re.compile(r"'|\b(?:True|False|None)\b")
_CLOSERS = {"{": "}", "[": "]"}
# ast.literal_eval on very large text is slow; past this, go straight to json-repair.
_LITERAL_EVAL_LIMIT = 100_000


def find_fence(text: str) -> re.Match[str] | None:
    """The first markdown code fence in ``text`` (an unclosed one runs to the end)."""
    return _FENCE.search(text) if "```" in text else None


def _start(text: str, expect: Expect) -> int:
    """Where the JSON most likely starts: the first ``{`` (or ``[``) as expected."""
    first_object, first_array = text.find("{"), text.find("[")
    if expect == "object":
        return first_object
    if expect == "array":
        return first_array
    found = [i for i in (first_object, first_array) if i >= 0]
    return min(found) if found else -1


def load_json(text: str, expect: Expect = None) -> tuple[Any, list[Fix]]:
    """The JSON object or array in ``text``, and the repairs needed to read it.

    ``expect`` says which of object/array to look for first. Raises ``CoercionError``
    when no JSON can be recovered.
    """
    fixes: list[Fix] = []
    body = text.strip()
    if body[:1] in _CLOSERS:
        try:
            return json.loads(body), fixes
        except ValueError:
            pass
    fence = find_fence(body)
    if fence is not None:
        body = fence.group("body").strip()
        fixes.append(("code_fence", "removed the ``` fence around the JSON"))
        try:
            return json.loads(body), fixes
        except ValueError:
            pass
    start = _start(body, expect)
    if start < 0 and expect is not None:
        start = _start(body, None)
    if start < 0:
        raise CoercionError(f"no JSON {expect or 'value'} found in {short(text)}")
    try:
        value, end = json.JSONDecoder().raw_decode(body, start)
    except ValueError:
        pass
    else:
        fixes.append(("json_in_prose", _prose_detail(body, start, end)))
        return value, fixes
    closer = body.rfind(_CLOSERS[body[start]])
    literal = _python_literal(body[start : closer + 1]) if closer > start else None
    if literal is not None:
        if start > 0 or body[closer + 1 :].strip():
            fixes.append(("json_in_prose", _prose_detail(body, start, closer + 1)))
        fixes.append(
            ("python_literal", f"read {short(body[start : closer + 1])} as a Python literal")
        )
        return literal, fixes
    # json-repair reads up to the end of the JSON and drops any prose after it.
    repaired = _repair(body[start:])
    if repaired is None:
        raise CoercionError(f"the JSON in {short(text)} could not be read or repaired")
    if start > 0:
        fixes.append(("json_in_prose", _prose_detail(body, start, len(body))))
    fixes.append(("json_repair", f"repaired broken JSON {short(body[start:])}"))
    return repaired, fixes


def _prose_detail(body: str, start: int, end: int) -> str:
    before, after = body[:start].strip(), body[end:].strip()
    parts = []
    if before:
        parts.append(f"text before: {short(before, 40)}")
    if after:
        parts.append(f"text after: {short(after, 40)}")
    return "ignored " + "; ".join(parts) if parts else "took the JSON out of the text"


def _python_literal(candidate: str) -> Any:
    """A dict or list written as a Python literal (single quotes, True/None), else None."""
    if len(candidate) > _LITERAL_EVAL_LIMIT or not _PYTHON_HINTS.search(candidate):
        return None
    try:
        value = ast.literal_eval(candidate)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    if isinstance(value, tuple):
        value = list(value)
    return value if isinstance(value, (dict, list)) else None


def _repair(candidate: str) -> Any:
    import json_repair

    try:
        value = json_repair.repair_json(candidate, return_objects=True, skip_json_loads=True)
    except Exception:  # json-repair raises assorted errors on hopeless input
        return None
    return value if isinstance(value, (dict, list)) and value != {} else None


def partial_json(text: str) -> Any:
    """Whatever an incomplete JSON object in ``text`` holds so far (None if nothing yet)."""
    from pydantic_core import from_json

    start = text.find("{")
    if start < 0:
        return None
    body = text[start:]
    fence_end = body.find("```")
    if fence_end >= 0:
        body = body[:fence_end]
    try:
        return from_json(body, allow_partial="trailing-strings")
    except ValueError:
        return None
