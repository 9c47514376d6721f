"""How prompts describe fields: the numbered field lists and a short hint of each output's form."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from typing import Any

from lmbench.adapters.constraints import describe_constraints
from lmbench.adapters.typeplan import (
    ANNOTATED,
    BOOL,
    CHOICE,
    DATE,
    DATETIME,
    NUMBER,
    OPTIONAL,
    SEQUENCE,
    STR,
    TIME,
    TypePlan,
    plan_for,
)
from lmbench.signatures.fields import FieldSpec

__all__ = ["describe_fields", "value_hint"]

_SCALAR_HINTS = {
    BOOL: "true or false",
    DATE: "a date as YYYY-MM-DD",
    DATETIME: "a date and time in ISO 8601, e.g. 2024-01-31T09:30:00",
    TIME: "a time as HH:MM:SS",
}
_ITEM_NAMES = {STR: "strings", BOOL: "booleans"}


def _number_hint(plan: TypePlan) -> str:
    return "an integer" if plan.annotation is int else "a number"


def _choices(plan: TypePlan) -> str:
    return ", ".join(labels[0] for _, labels in plan.choices)


def _plan_hint(plan: TypePlan, text_hint: str, brief: bool) -> str:
    kind = plan.kind
    if kind == STR:
        return text_hint
    if kind == NUMBER:
        return _number_hint(plan)
    if kind == CHOICE:
        return f"exactly one of: {_choices(plan)}"
    if kind in _SCALAR_HINTS:
        return _SCALAR_HINTS[kind]
    if kind == ANNOTATED and plan.inner is not None:
        return _plan_hint(plan.inner, text_hint, brief)
    if kind == OPTIONAL and plan.inner is not None:
        inner = _plan_hint(plan.inner, text_hint, brief) or "any text"
        return f"{inner}, or null if there is none"
    if kind == SEQUENCE and plan.inner is not None and _is_simple(plan.inner):
        item = plan.inner
        if item.kind in _ITEM_NAMES:
            return f"a JSON array of {_ITEM_NAMES[item.kind]}"
        if item.kind == NUMBER:
            return (
                "a JSON array of integers" if item.annotation is int else "a JSON array of numbers"
            )
        return f"a JSON array; each item {_plan_hint(item, 'a string', brief)}"
    if brief:
        return "JSON matching the schema given above"
    return "JSON matching the schema " + _schema_text(plan.annotation)


def _is_simple(plan: TypePlan) -> bool:
    return plan.kind in (STR, NUMBER, BOOL, CHOICE, DATE, DATETIME, TIME)


def _schema_text(annotation: Any) -> str:
    try:
        return _cached_schema(annotation)
    except TypeError:  # unhashable annotation
        return _schema(annotation)


@functools.lru_cache(maxsize=256)
def _cached_schema(annotation: Any) -> str:
    return _schema(annotation)


def _schema(annotation: Any) -> str:
    from pydantic import TypeAdapter

    return json.dumps(TypeAdapter(annotation).json_schema(), ensure_ascii=False)


def value_hint(spec: FieldSpec, text_hint: str = "", *, brief: bool = False) -> str:
    """What form an output value must take, e.g. ``an integer, >= 0, <= 10``.

    ``text_hint`` is the hint for plain text fields (empty in marker formats, where any text
    goes; ``a string`` in JSON). ``brief`` refers to the field list for JSON schemas instead
    of repeating them (for the reminder closing the user's turn).
    """
    hint = _plan_hint(plan_for(spec.annotation), text_hint, brief)
    constraints = describe_constraints(spec.constraints)
    if constraints:
        return f"{hint}, {constraints}" if hint else constraints
    return hint


def describe_fields(specs: Iterable[FieldSpec], *, outputs: bool, text_hint: str = "") -> str:
    """A numbered list: ``1. `name` (type): description; hint``."""
    lines = []
    for number, spec in enumerate(specs, start=1):
        line = f"{number}. `{spec.name}` ({spec.type_name})"
        notes = [spec.desc] if spec.desc else []
        if outputs:
            hint = value_hint(spec, text_hint)
            if hint:
                if notes:  # the description's closing stop gives way: "outputs; a string"
                    notes[0] = notes[0].rstrip().rstrip(".;:,")
                notes.append(hint)
        if notes:
            line += ": " + "; ".join(notes)
        lines.append(line)
    return "\n".join(lines)
