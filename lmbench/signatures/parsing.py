"""Parse string signatures such as ``"question, context: list[str] -> answer, score: float"``.

Type expressions are read with ``ast`` and evaluated only against a fixed table of names (builtins,
``typing`` forms, datetime types and the types the caller passes in ``types=``); nothing is looked
up in the caller's frames and no other code runs.
"""

from __future__ import annotations

import ast
import datetime
import decimal
import enum
import typing
from collections.abc import Mapping
from typing import Any

from lmbench.errors import SignatureError
from lmbench.media import Audio, Citations, Document, Image
from lmbench.primitives.conversation import Conversation

__all__ = ["parse_signature_string", "parse_type"]

_SAFE_NAMES: dict[str, Any] = {
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "bytes": bytes,
    "list": list,
    "dict": dict,
    "tuple": tuple,
    "set": set,
    "None": None,
    "Any": Any,
    "Literal": typing.Literal,
    "Optional": typing.Optional,
    "Union": typing.Union,
    "List": list,
    "Dict": dict,
    "Tuple": tuple,
    "datetime": datetime.datetime,
    "date": datetime.date,
    "time": datetime.time,
    "timedelta": datetime.timedelta,
    "Decimal": decimal.Decimal,
}

_ALLOWED_NODES = (
    ast.Expression,
    ast.Name,
    ast.Load,
    ast.Subscript,
    ast.Tuple,
    ast.List,
    ast.Constant,
    ast.BinOp,
    ast.BitOr,
    ast.Attribute,
    ast.Index if hasattr(ast, "Index") else ast.Name,
)


def _known_types(types: Mapping[str, Any] | None) -> dict[str, Any]:

    table = dict(_SAFE_NAMES)
    # "History" is DSPy's name for a conversation: signatures written for DSPy keep working.
    table.update(
        {
            "Conversation": Conversation,
            "History": Conversation,
            "Image": Image,
            "Audio": Audio,
            "Document": Document,
            "Citations": Citations,
        }
    )
    if types:
        table.update(types)
    return table


def parse_type(text: str, types: Mapping[str, Any] | None = None) -> Any:
    """Turn a type expression like ``list[dict[str, int]]`` into the type object."""
    source = text.strip()
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError:
        raise SignatureError(f"type {source!r} is not a valid type expression") from None
    table = _known_types(types)
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise SignatureError(
                f"type {source!r} uses {type(node).__name__}, which is not allowed in a type"
            )
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            raise SignatureError(
                f"type {source!r} reads the attribute {node.attr!r}; attributes starting with "
                "'_' are not allowed in a type. Name the type itself"
            )
        if isinstance(node, ast.Name) and node.id not in table:
            raise SignatureError(
                f"unknown type {node.id!r} in {source!r}; built-in names are "
                + ", ".join(sorted(k for k in table if k[0].isalpha()))
                + f". Pass your own with types={{'{node.id}': {node.id}}}"
            )
    try:
        value = eval(compile(tree, "<signature>", "eval"), {"__builtins__": {}}, table)
    except Exception as exc:
        raise SignatureError(f"type {source!r} could not be built: {exc}") from None
    if value is None:
        return type(None)
    if not (isinstance(value, type) or typing.get_origin(value) is not None or value is Any):
        raise SignatureError(f"{source!r} is not a type")
    return value


def _split_top_level(text: str, sep: str = ",") -> list[str]:
    """Split on ``sep`` outside brackets and quotes."""
    parts: list[str] = []
    depth = 0
    quote: str | None = None
    current: list[str] = []
    for char in text:
        if quote:
            current.append(char)
            if char == quote:
                quote = None
            continue
        if char in "'\"":
            quote = char
        elif char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        if char == sep and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _parse_side(text: str, types: Mapping[str, Any] | None, side: str) -> list[tuple[str, Any]]:
    fields: list[tuple[str, Any]] = []
    for item in _split_top_level(text):
        name, colon, type_text = item.partition(":")
        name = name.strip()
        if not name.isidentifier():
            raise SignatureError(
                f"{side} field name {name!r} is not a valid identifier; "
                "write fields as 'name' or 'name: type', separated by commas"
            )
        annotation = parse_type(type_text, types) if colon else str
        fields.append((name, annotation))
    return fields


def parse_signature_string(
    text: str, types: Mapping[str, Any] | None = None
) -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
    """``"a, b: int -> c"`` -> ([("a", str), ("b", int)], [("c", str)])."""
    if text.count("->") != 1:
        raise SignatureError(
            f"signature {text!r} must have exactly one '->' between inputs and outputs, "
            "e.g. 'question -> answer'"
        )
    left, right = text.split("->")
    inputs = _parse_side(left, types, "input")
    outputs = _parse_side(right, types, "output")
    if not outputs:
        raise SignatureError(f"signature {text!r} has no output fields after '->'")
    names = [n for n, _ in inputs + outputs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SignatureError(f"signature {text!r} names field(s) {duplicates} more than once")
    return inputs, outputs


def is_enum(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, enum.Enum)
