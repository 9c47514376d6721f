"""Checks on each field when a signature is built, so that a type or option that cannot work
is refused there, naming the field and the fix, rather than failing later inside pydantic.

Refused: a type object as a type (``str.__class__`` is ``type``), generics with the wrong
number of arguments (``dict[str]``, ``list[int, str]``), values that are not types, string
(unresolved) annotations; output types pydantic cannot read or describe as JSON; and the
opt-in readings on fields they cannot apply to (``qualitative`` on a non-number, ``aliases``
on a field without Literal/Enum choices, or aliases naming a value that is not allowed).
"""

from __future__ import annotations

import enum
import functools
import typing
from collections.abc import Iterator, Mapping, MutableMapping, MutableSequence, Sequence
from decimal import Decimal
from typing import Any

from lmbench.errors import SignatureError
from lmbench.signatures.fields import FieldSpec, type_name

__all__ = ["check_field"]

# Annotations that need no check (the common case: keeps building signatures fast).
_PLAIN = frozenset({str, int, float, bool, Decimal, bytes, type(None), Any, object})
_ONE_ARG = (list, set, frozenset, Sequence, MutableSequence)
_TWO_ARGS = (dict, Mapping, MutableMapping)
_NUMBERS = (int, float, Decimal)


def check_field(spec: FieldSpec) -> None:
    """Raise ``SignatureError`` if ``spec``'s type or options cannot work."""
    annotation = spec.annotation
    if _hashable(annotation) and annotation in _PLAIN and not (spec.qualitative or spec.aliases):
        return
    where = f"{spec.kind} field {spec.name!r}"
    problem = _malformed(annotation)
    if problem is not None:
        raise SignatureError(f"{where} has the type {_shown(annotation)}, which {problem}")
    if spec.kind == "output":
        problem = _unreadable(annotation)
        if problem is not None:
            raise SignatureError(
                f"{where} has the type {_shown(annotation)}, which cannot be read from a "
                f"model's answer ({problem}). Use text, numbers, bool, dates, Literal, Enum, "
                "lists and dicts of these, or a pydantic model"
            )
    if spec.qualitative or spec.aliases:
        _check_options(spec, where)


def _shown(annotation: Any) -> str:
    try:
        return type_name(annotation)
    except Exception:  # a broken annotation may not even print
        return repr(annotation)


def _hashable(annotation: Any) -> bool:
    try:
        hash(annotation)
    except TypeError:
        return False
    return True


def _malformed(annotation: Any) -> str | None:
    """Why ``annotation`` is not a usable type, or None."""
    if isinstance(annotation, str):
        return "is a string, not a type; pass the type itself (or name it in a string signature)"
    if annotation is type or typing.get_origin(annotation) is type:
        return "is the type of classes: a field holds values, not classes; use e.g. str or int"
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is None:
        if (
            annotation is None
            or annotation is Any
            or isinstance(annotation, (type, typing.TypeVar))
        ):
            return None
        if isinstance(annotation, typing.NewType):
            return _malformed(annotation.__supertype__)
        return f"is not a type (got {type(annotation).__name__} {annotation!r})"
    if origin is typing.Literal:
        if not args:
            return "lists no allowed values; write Literal['a', 'b']"
        return None
    if origin is typing.Annotated:
        return _malformed(args[0])
    if origin in _TWO_ARGS and len(args) not in (0, 2):
        return f"needs two type arguments (keys and values), e.g. dict[str, int]; got {len(args)}"
    if origin in _ONE_ARG and len(args) not in (0, 1):
        return f"takes one type argument (the items), e.g. list[str]; got {len(args)}"
    for arg in args:
        if arg is Ellipsis or (origin is typing.Union and arg is type(None)):
            continue
        if isinstance(arg, list):  # Callable[[...], ...]
            continue
        problem = _malformed(arg)
        if problem is not None:
            return f"holds {_shown(arg)}, which {problem}"
    return None


def _unreadable(annotation: Any) -> str | None:
    """Why pydantic cannot validate or describe ``annotation`` as JSON, or None."""
    try:
        return _cached_unreadable(annotation)
    except TypeError:  # unhashable (Annotated with a dict): check without the cache
        return _schema_problem(annotation)


@functools.lru_cache(maxsize=512)
def _cached_unreadable(annotation: Any) -> str | None:
    return _schema_problem(annotation)


def _schema_problem(annotation: Any) -> str | None:
    from pydantic import TypeAdapter

    try:
        TypeAdapter(annotation).json_schema()
    except Exception as exc:  # pydantic raises several kinds for types it cannot handle
        return str(exc).splitlines()[0][:200]
    return None


def _leaves(annotation: Any) -> Iterator[Any]:
    """The leaf types inside an annotation (through Optional, unions, lists, Annotated)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        yield annotation
        return
    if origin is None:
        yield annotation
        return
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        args = args[:1]
    elif origin in _TWO_ARGS:
        args = args[1:]
    for arg in args:
        yield from _leaves(arg)


def _choices(annotation: Any) -> list[Any]:
    values: list[Any] = []
    for leaf in _leaves(annotation):
        if typing.get_origin(leaf) is typing.Literal:
            values.extend(typing.get_args(leaf))
        elif isinstance(leaf, type) and issubclass(leaf, enum.Enum):
            values.extend(leaf)
    return values


def _allowed(target: Any, choices: list[Any]) -> bool:
    for choice in choices:
        if target == choice or (
            isinstance(choice, enum.Enum) and target in (choice.value, choice.name)
        ):
            return True
    return False


def _check_options(spec: FieldSpec, where: str) -> None:
    if spec.kind != "output":
        raise SignatureError(
            f"{where}: qualitative and aliases read a model's answer, so they apply to output "
            "fields only; remove them from this input"
        )
    leaves = list(_leaves(spec.annotation))
    if spec.qualitative:
        numbers = [leaf for leaf in leaves if leaf in _NUMBERS and leaf is not bool]
        if not numbers:
            raise SignatureError(
                f"{where} is {spec.type_name}: qualitative words map to numbers, so the field "
                "must be a number (float, int or Decimal)"
            )
        if numbers == [int] and any(
            not float(number).is_integer() for _, number in spec.qualitative
        ):
            raise SignatureError(
                f"{where} is an int, but its qualitative scale maps words to fractions; pass "
                "whole numbers, e.g. qualitative={'high': 9, 'medium': 5, 'low': 2}"
            )
    if spec.aliases:
        choices = _choices(spec.annotation)
        if not choices:
            raise SignatureError(
                f"{where} is {spec.type_name}: aliases name allowed values, so the field needs "
                "a Literal or an Enum"
            )
        wrong = [alias for alias, target in spec.aliases if not _allowed(target, choices)]
        if wrong:
            shown = ", ".join(repr(c.value if isinstance(c, enum.Enum) else c) for c in choices)
            raise SignatureError(
                f"{where}: the aliases {wrong} name values that are not allowed; each alias must "
                f"map to one of: {shown}"
            )
