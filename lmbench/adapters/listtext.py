"""The items of a list written as text: a JSON array, bullets, numbered lines, lines or commas.

``read_items(text, item_kind)`` returns the items (as text, or as JSON values when the text
held a JSON array) and the repairs applied as ``(rule, detail)`` pairs: the text-level half of
reading a list field, used by ``lmbench.adapters.coercion``.
"""

from __future__ import annotations

import re
from typing import Any

from lmbench.adapters.jsontext import load_json, opens_json
from lmbench.adapters.scalars import CoercionError, Fix, short
from lmbench.adapters.typeplan import ANY, BOOL, CHOICE, DATE, NUMBER, STR
from lmbench.adapters.xmltext import XMLStructureError, element_value

__all__ = ["read_items"]

_BULLET = re.compile(
    r"^\s*(?:(?P<bullet>[-*\u2022+])|(?P<number>\d{1,3}[.)]|\(\d{1,3}\)))\s+(?P<item>.*?)\s*$"
)
# "1,234": a comma with three digits after it and no space, as a thousands separator is written.
_GROUPED = re.compile(r"\d,\d{3}(?!\d)")
# Item kinds whose values never hold a comma of their own: "a, b, c" is then three items.
_SPLITTABLE = frozenset({STR, NUMBER, BOOL, CHOICE, DATE, ANY})


def read_items(text: str, item_kind: str) -> tuple[list[Any], list[Fix]]:
    """The items of ``text``, and how they were found."""
    body = text.strip()
    if not body:
        return [], []
    if "[" in body or "```" in body:
        try:
            value, fixes = load_json(body, "array")
        except CoercionError:
            if opens_json(body):  # JSON that cannot be read: its commas are not items
                raise
        else:
            if isinstance(value, list):
                return value, fixes
    if body.startswith("<"):
        elements = _elements(body)
        if elements is not None:
            return elements
    lines = [line for line in body.splitlines() if line.strip()]
    matches = [_BULLET.match(line) for line in lines]
    if any(matches):
        return _bullet_items(lines, matches)
    if len(lines) > 1:
        return [line.strip() for line in lines], [
            ("line_list", f"read {len(lines)} lines as items")
        ]
    separator = "," if "," in body else ";" if ";" in body else None
    if separator == "," and item_kind == NUMBER and _GROUPED.search(body):
        raise CoercionError(
            f"{short(body)} may be one number with thousands separators or several numbers; "
            "expected a JSON list"
        )
    if separator is not None and item_kind in _SPLITTABLE:
        items = [_unquote(part) for part in body.split(separator) if part.strip()]
        return items, [("comma_list", f"split {short(body)} into {len(items)} items")]
    return [body], [("single_item_list", f"read {short(body)} as a one-item list")]


def _elements(body: str) -> tuple[list[Any], list[Fix]] | None:
    """Items written as XML elements (``<item>a</item><item>b</item>``), read by XML's rules;
    None when ``body`` does not open with an element. Elements left open, closed by another
    or mixed with text are refused, never kept as one item of markup."""
    try:
        value, note = element_value(body, 0, len(body), "list")
    except XMLStructureError as exc:
        raise CoercionError(f"{short(body)}: {exc.reason}") from None
    if note is None:
        return None
    return value, [("xml_elements", note)]


def _bullet_items(
    lines: list[str], matches: list[re.Match[str] | None]
) -> tuple[list[Any], list[Fix]]:
    items: list[str] = []
    dropped: list[str] = []
    numbered = False
    for line, match in zip(lines, matches, strict=True):
        if match is not None:
            items.append(match.group("item"))
            numbered = numbered or match.group("number") is not None
        elif items:  # a continuation of the item above
            items[-1] = f"{items[-1]} {line.strip()}"
        else:
            dropped.append(line.strip())
    detail = f"read {len(items)} items"
    if dropped:
        detail += f", ignored the lead-in {short(' '.join(dropped), 40)}"
    return items, [("numbered_list" if numbered else "bullet_list", detail)]


def _unquote(text: str) -> str:
    part = text.strip()
    for quote in ('"', "'"):
        if len(part) >= 2 and part[0] == quote and part[-1] == quote:
            return part[1:-1]
    return part
