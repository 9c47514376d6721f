"""Field constraints (``ge``, ``le``, ``max_length``, ...): described in prompts, checked on values."""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import Field, TypeAdapter, ValidationError

from lmbench.adapters.scalars import CoercionError, short

__all__ = ["check_constraints", "describe_constraints"]

Constraints = tuple[tuple[str, Any], ...]

_PHRASES = {
    "ge": ">= {}",
    "gt": "> {}",
    "le": "<= {}",
    "lt": "< {}",
    "min_length": "length >= {}",
    "max_length": "length <= {}",
    "pattern": "matching the pattern {!r}",
    "multiple_of": "a multiple of {}",
}


def describe_constraints(constraints: Constraints) -> str:
    """``(("ge", 0), ("le", 10))`` -> ``">= 0, <= 10"``."""
    return ", ".join(_PHRASES[key].format(value) for key, value in constraints if key in _PHRASES)


@functools.lru_cache(maxsize=512)
def _validator(annotation: Any, constraints: Constraints) -> TypeAdapter[Any]:
    return TypeAdapter(Annotated[annotation, Field(**dict(constraints))])


# Bounds on a plain number are compared directly, sparing a pydantic validation per value.
_BOUNDS: dict[str, Callable[[Any, Any], bool]] = {
    "ge": operator.ge,
    "gt": operator.gt,
    "le": operator.le,
    "lt": operator.lt,
}


def check_constraints(value: Any, annotation: Any, constraints: Constraints) -> Any:
    """``value`` if it meets the constraints; ``CoercionError`` naming the broken one if not."""
    if type(value) in (int, float) and all(key in _BOUNDS for key, _ in constraints):
        for key, bound in constraints:
            if not _BOUNDS[key](value, bound):
                raise CoercionError(
                    f"{value!r} breaks the constraint {_PHRASES[key].format(bound)}"
                )
        return value
    try:
        validator = _validator(annotation, constraints)
    except TypeError:  # an unhashable annotation: build without the cache
        validator = TypeAdapter(Annotated[annotation, Field(**dict(constraints))])
    try:
        return validator.validate_python(value)
    except ValidationError as exc:
        message = exc.errors()[0]["msg"]
        raise CoercionError(
            f"{short(str(value))} breaks the constraints {describe_constraints(constraints)}: {message}"
        ) from None
