"""Checking a module call's inputs against its signature, before any LM call is made."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from pydantic import TypeAdapter, ValidationError

from lmbench.errors import InputError
from lmbench.signatures.signature import Signature

__all__ = ["check_inputs", "fit_value"]

_PLAIN = (str, int, float, bool)


@functools.lru_cache(maxsize=1024)
def _validator(annotation: Any) -> TypeAdapter[Any]:
    return TypeAdapter(annotation)


def fit_value(annotation: Any, value: Any) -> Any:
    """``value`` as a value of ``annotation`` (validated, and converted where pydantic's lax
    mode converts); ``ValueError`` with pydantic's reason when it does not fit. Types pydantic
    cannot validate (user classes) are passed through. ``%%predict`` cells use it too."""
    if annotation is str or annotation is Any:
        return value  # any value can be shown as text
    if type(value) is annotation and annotation in _PLAIN:
        return value
    try:
        return _validator(annotation).validate_python(value)
    except ValidationError as exc:
        raise ValueError(exc.errors()[0]["msg"]) from None
    except Exception:
        return value


def _check_value(signature: Signature, name: str, annotation: Any, value: Any) -> Any:
    try:
        return fit_value(annotation, value)
    except ValueError as exc:
        raise InputError(
            f"input {name!r} of {signature.name} expects {signature.fields[name].type_name}, "
            f"got {value!r} ({type(value).__name__}): {exc}. Pass a value of that type."
        ) from None


def check_inputs(signature: Signature, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Return the inputs validated; raise InputError for missing, unexpected or mistyped ones."""
    fields = signature.input_fields
    unexpected = [k for k in inputs if k not in fields]
    if unexpected:
        outputs = [k for k in unexpected if k in signature.output_fields]
        hint = f" ({outputs} are output fields)" if outputs else ""
        raise InputError(
            f"{signature.name} got unexpected input(s) {unexpected}{hint}; its inputs are {list(fields)}"
        )
    missing = [n for n, f in fields.items() if n not in inputs and not f.has_default]
    if missing:
        raise InputError(
            f"{signature.name} is missing input(s) {missing}; call it with "
            + ", ".join(f"{n}=..." for n in missing)
        )
    checked: dict[str, Any] = {}
    for name, spec in fields.items():
        if name in inputs:
            checked[name] = _check_value(signature, name, spec.annotation, inputs[name])
        else:
            checked[name] = spec.default
    return checked
