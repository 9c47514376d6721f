"""What coercion needs to know about an annotation, worked out once: its kind and its parts.

``plan_for(annotation)`` sorts an annotation into one kind (text, number, bool, choice,
optional, union, sequence, mapping, model, date, datetime, time, annotated, any, other), each
read by its own reader in ``lmbench.adapters.coercion``, and keeps its inner plans, allowed
choices and pydantic validator.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import re
import types
import typing
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, TypeAdapter

from lmbench.adapters.constraints import describe_constraints
from lmbench.signatures.fields import type_name

__all__ = [
    "ANNOTATED",
    "ANY",
    "BOOL",
    "CHOICE",
    "DATE",
    "DATETIME",
    "MAPPING",
    "MODEL",
    "NUMBER",
    "OPTIONAL",
    "OTHER",
    "SEQUENCE",
    "STR",
    "TIME",
    "UNION",
    "TypePlan",
    "expected_text",
    "normalize_name",
    "plan_for",
]

# Kinds of annotation, each with its own reader.
STR, NUMBER, BOOL, CHOICE, OPTIONAL, UNION = "str", "number", "bool", "choice", "optional", "union"
SEQUENCE, MAPPING, MODEL, DATE, DATETIME, TIME = (
    "sequence",
    "mapping",
    "model",
    "date",
    "datetime",
    "time",
)
ANNOTATED, ANY, OTHER = "annotated", "any", "other"

_SEPARATORS = re.compile(r"[\s_\-]+")


def normalize_name(text: str) -> str:
    """Field names and choice labels compared without case, spaces, ``_`` or ``-``."""
    return _SEPARATORS.sub("", text.casefold())


class TypePlan:
    """What coercion needs to know about one annotation, worked out once and cached."""

    __slots__ = (
        "_choice_pattern",
        "_validator",
        "annotation",
        "choices",
        "container",
        "inner",
        "kind",
        "members",
    )

    def __init__(
        self,
        annotation: Any,
        kind: str,
        *,
        inner: TypePlan | None = None,
        members: tuple[TypePlan, ...] = (),
        choices: tuple[tuple[Any, tuple[str, ...]], ...] = (),
        container: type = list,
    ) -> None:
        self.annotation = annotation
        self.kind = kind
        self.inner = inner  # item type of a sequence, value type of a mapping, the X of Optional[X]
        self.members = members  # union members
        self.choices = choices  # (value, labels) of a Literal/Enum; labels[0] is the value's text
        self.container = container
        self._validator: TypeAdapter[Any] | None = None
        self._choice_pattern: re.Pattern[str] | None = None

    @property
    def validator(self) -> TypeAdapter[Any]:
        if self._validator is None:
            self._validator = TypeAdapter(self.annotation)
        return self._validator

    @property
    def choice_pattern(self) -> re.Pattern[str]:
        """Finds any allowed label as a whole word, in any case, with flexible separators."""
        if self._choice_pattern is None:
            labels = sorted(
                {label for _, ls in self.choices for label in ls}, key=len, reverse=True
            )
            alternatives = "|".join(
                r"[\s_\-]+".join(re.escape(part) for part in _SEPARATORS.split(label) if part)
                for label in labels
                if label.strip()
            )
            # A whole word: not part of a longer one ("positively"), a compound ("positive-ish")
            # or a number ("1" in "1.5" or "3/5").
            self._choice_pattern = re.compile(
                rf"(?<!\w)(?<!\d[.,/])(?:{alternatives})(?!\w)(?!-\w)(?![.,/]\d)", re.IGNORECASE
            )
        return self._choice_pattern

    def __repr__(self) -> str:
        return f"TypePlan({type_name(self.annotation)}, {self.kind})"


def plan_for(annotation: Any) -> TypePlan:
    """The (cached) plan for an annotation."""
    try:
        return _cached_plan(annotation)
    except TypeError:  # unhashable annotation (e.g. Annotated with a dict): no caching
        return _build_plan(annotation)


@functools.lru_cache(maxsize=1024)
def _cached_plan(annotation: Any) -> TypePlan:
    return _build_plan(annotation)


_SIMPLE_KINDS: dict[Any, str] = {
    str: STR,
    bool: BOOL,
    int: NUMBER,
    float: NUMBER,
    Decimal: NUMBER,
    dt.datetime: DATETIME,
    dt.date: DATE,
    dt.time: TIME,
    Any: ANY,
    object: ANY,
}
_SEQUENCES: dict[Any, type] = {list: list, set: set, frozenset: frozenset, tuple: tuple}


def _build_plan(annotation: Any) -> TypePlan:
    simple = _SIMPLE_KINDS.get(annotation) if _hashable(annotation) else None
    if simple is not None:
        return TypePlan(annotation, simple)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return TypePlan(annotation, ANNOTATED, inner=plan_for(args[0]))
    if origin is typing.Literal:
        return TypePlan(annotation, CHOICE, choices=tuple((v, (str(v),)) for v in args))
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return TypePlan(annotation, CHOICE, choices=tuple(_enum_labels(m) for m in annotation))
    if origin in (typing.Union, types.UnionType):
        others = tuple(a for a in args if a is not type(None))
        if len(others) < len(args):
            inner = others[0] if len(others) == 1 else typing.Union[others]  # noqa: UP007
            return TypePlan(annotation, OPTIONAL, inner=plan_for(inner))
        return TypePlan(annotation, UNION, members=tuple(plan_for(a) for a in args))
    if annotation in _SEQUENCES or origin in _SEQUENCES:
        container = _SEQUENCES[origin or annotation]
        if container is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
            return TypePlan(annotation, OTHER)  # fixed-length tuple: pydantic reads it
        return TypePlan(
            annotation, SEQUENCE, inner=plan_for(args[0] if args else Any), container=container
        )
    if annotation is dict or origin in (dict, Mapping):
        return TypePlan(annotation, MAPPING, inner=plan_for(args[1] if len(args) == 2 else Any))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return TypePlan(annotation, MODEL)
    return TypePlan(annotation, OTHER)


def _hashable(annotation: Any) -> bool:
    try:
        hash(annotation)
    except TypeError:
        return False
    return True


def _enum_labels(member: enum.Enum) -> tuple[Any, tuple[str, ...]]:
    return member, (str(member.value), member.name)


def expected_text(annotation: Any, constraints: tuple[tuple[str, Any], ...] = ()) -> str:
    """The expected type as shown in errors: ``int (>= 0, <= 10)``."""
    described = describe_constraints(constraints)
    return f"{type_name(annotation)} ({described})" if described else type_name(annotation)
