"""A module call's keywords: its inputs, checked against the signature before any LM call is
made, and its call options.

A call takes the signature's input fields and the call options ``lm``, ``adapter``, ``config``,
``n`` and ``demos``. An input field named like an option is the field: ``Predict("n -> answer")``
is called with ``n=3`` as its input. The option stays reachable another way (``config={"n": 3}``
or ``Predict(..., lm=..., adapter=..., config=..., demos=...)``), and inputs can also be given
as one mapping, ``predict({"n": 3, ...}, n=2)``: then every keyword is an option.

``bytes`` inputs must hold UTF-8 text (they are shown in the prompt as text); other bytes are
refused naming the field, since decoding them with replacement characters would change them.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from pydantic import TypeAdapter, ValidationError

from lmbench.errors import InputError
from lmbench.signatures.signature import Signature

__all__ = [
    "CALL_OPTIONS",
    "CallInputs",
    "bind_call",
    "check_inputs",
    "fit_value",
    "given_of",
    "split_call",
]

#: Keywords of a module call that are not inputs (unless the signature has a field so named).
CALL_OPTIONS = frozenset({"lm", "adapter", "config", "n", "demos"})


class CallInputs(dict[str, Any]):
    """A call's keywords, with the inputs it was given as one mapping (``qa({"n": 3}, n=2)``).

    It travels where a call's keywords do (through module bodies and sub-calls), so that the
    module that checks them knows every keyword named like a call option is that option.
    """

    __slots__ = ("given",)

    def __init__(self, given: Mapping[str, Any], keywords: Mapping[str, Any]) -> None:
        super().__init__(keywords)
        self.given = given

    def flat(self) -> dict[str, Any]:
        """The mapping's items and the keywords together, for modules without call options."""
        return {**self.given, **self}

    def copy(self) -> CallInputs:  # type: ignore[override]
        return CallInputs(self.given, self)


def bind_call(given: Mapping[str, Any] | None, keywords: dict[str, Any]) -> dict[str, Any]:
    """The keywords of a call, carrying the mapping given positionally when there is one."""
    return keywords if given is None else CallInputs(given, keywords)


def given_of(kwargs: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The mapping a call was given positionally, if any."""
    return kwargs.given if isinstance(kwargs, CallInputs) else None


_PLAIN = (str, int, float, bool)
_CONTAINERS = (list, tuple, set, frozenset)


def split_call(
    signature: Signature, kwargs: Mapping[str, Any], given: Mapping[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(inputs, options) of a call. With ``given`` (the inputs as one mapping), keywords named
    like options are options; without it, a keyword is an input when the signature has an
    input field of that name, else an option if it is one. Other keywords go with the inputs
    (``check_inputs`` names them as unexpected)."""
    fields = signature.input_fields
    inputs: dict[str, Any] = {}
    if given is not None:
        if not isinstance(given, Mapping):
            raise InputError(
                f"{signature.name} takes its inputs as keywords or as one mapping, got "
                f"{type(given).__name__} {given!r}; call it like ({', '.join(f'{n}=...' for n in fields)})"
            )
        inputs.update(given)
    options: dict[str, Any] = {}
    for key, value in kwargs.items():
        if key in CALL_OPTIONS and (given is not None or key not in fields):
            options[key] = value
        elif key in inputs:
            raise InputError(
                f"{signature.name} got the input {key!r} twice (in the mapping and as a keyword)"
            )
        else:
            inputs[key] = value
    return inputs, options


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
    kind = type(value)
    if kind is bytes or kind in _CONTAINERS or kind is dict:
        _check_bytes(signature, name, value, name)
    try:
        return fit_value(annotation, value)
    except ValueError as exc:
        raise InputError(
            f"input {name!r} of {signature.name} expects {signature.fields[name].type_name}, "
            f"got {value!r} ({type(value).__name__}): {exc}. Pass a value of that type."
        ) from None


def _check_bytes(signature: Signature, name: str, value: Any, where: str) -> None:
    """Refuse bytes that are not UTF-8 text, wherever they sit in an input's value."""
    if type(value) is bytes:
        try:
            value.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(
                f"input {name!r} of {signature.name} holds bytes that are not UTF-8 text "
                f"({where}: byte 0x{value[exc.start]:02x} at position {exc.start}); decode them "
                f"first, e.g. {name}=data.decode('latin-1'), or pass binary media as "
                "Image/Audio/Document"
            ) from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_bytes(signature, name, item, f"{where}[{key!r}]")
    elif isinstance(value, _CONTAINERS):
        for index, item in enumerate(value):
            _check_bytes(signature, name, item, f"{where}[{index}]")


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
