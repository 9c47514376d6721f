"""Field declarations: ``InputField``/``OutputField`` for class signatures, ``FieldSpec`` inside."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

__all__ = ["QUALITATIVE_SCALE", "FieldSpec", "InputField", "OutputField", "type_name"]

Kind = Literal["input", "output"]

# pydantic Field constraints accepted on fields (validated on parsed outputs).
CONSTRAINTS = frozenset(
    {"ge", "gt", "le", "lt", "min_length", "max_length", "pattern", "multiple_of"}
)


# ``OutputField(qualitative=True)``: words read as numbers on a 0..1 scale (opt-in, recorded).
QUALITATIVE_SCALE: tuple[tuple[str, float], ...] = (
    ("none", 0.0),
    ("very low", 0.05),
    ("low", 0.1),
    ("medium", 0.5),
    ("moderate", 0.5),
    ("high", 0.9),
    ("very high", 0.95),
)


def qualitative_words(option: bool | Mapping[str, float] | None) -> tuple[tuple[str, float], ...]:
    """A field's ``qualitative`` option as (word, number) pairs: True is ``QUALITATIVE_SCALE``."""
    if option is True:
        return QUALITATIVE_SCALE
    if not option:
        return ()
    if not isinstance(option, Mapping):
        raise TypeError(
            f"qualitative={option!r}: pass True (the 0..1 scale) or a mapping such as "
            "{'high': 9, 'low': 2}"
        )
    return tuple((str(word), number) for word, number in option.items())


def alias_pairs(option: Mapping[str, Any] | None) -> tuple[tuple[str, Any], ...]:
    """A field's ``aliases`` option as (alias, allowed value) pairs."""
    if not option:
        return ()
    if not isinstance(option, Mapping):
        raise TypeError(f"aliases={option!r}: pass a mapping such as {{'pos': 'positive'}}")
    return tuple((str(alias), value) for alias, value in option.items())


def type_name(annotation: Any) -> str:
    """A readable name for a type: ``str``, ``list[str]``, ``Literal['a', 'b']``, ``Money``."""
    if isinstance(annotation, type) and not getattr(annotation, "__args__", None):
        return annotation.__name__
    text = repr(annotation)
    return text.replace("typing.", "").replace("datetime.", "")


@dataclass(frozen=True)
class FieldSpec:
    """One field of a signature: name, input/output, type, description, prompt prefix, constraints."""

    name: str
    kind: Kind
    annotation: Any = str
    desc: str = ""
    prefix: str = ""
    constraints: tuple[tuple[str, Any], ...] = ()
    default: Any = field(default=None, compare=False)
    has_default: bool = False
    #: Words read as numbers for this field (opt-in), as (word, number) pairs.
    qualitative: tuple[tuple[str, Any], ...] = ()
    #: Other spellings of its allowed values (opt-in), as (alias, value) pairs.
    aliases: tuple[tuple[str, Any], ...] = ()

    @property
    def type_name(self) -> str:
        return type_name(self.annotation)

    @property
    def is_input(self) -> bool:
        return self.kind == "input"

    def constraint_dict(self) -> dict[str, Any]:
        return dict(self.constraints)

    def replace(self, **changes: Any) -> FieldSpec:
        return replace(self, **changes)

    def __str__(self) -> str:
        return self.name if self.annotation is str else f"{self.name}: {self.type_name}"


class _FieldMarker:
    """What ``InputField(...)``/``OutputField(...)`` return inside a class signature body."""

    kind: Kind

    def __init__(
        self,
        *,
        desc: str = "",
        prefix: str = "",
        default: Any = ...,
        qualitative: bool | Mapping[str, float] = False,
        aliases: Mapping[str, Any] | None = None,
        **constraints: Any,
    ):
        unknown = set(constraints) - CONSTRAINTS
        if unknown:
            raise TypeError(
                f"unknown field option(s) {sorted(unknown)}; accepted: desc, prefix, default, "
                "qualitative, aliases, " + ", ".join(sorted(CONSTRAINTS))
            )
        self.desc = desc
        self.prefix = prefix
        self.default = default
        self.constraints = tuple(sorted(constraints.items()))
        self.qualitative = qualitative_words(qualitative)
        self.aliases = alias_pairs(aliases)

    def to_spec(self, name: str, annotation: Any) -> FieldSpec:
        return FieldSpec(
            name=name,
            kind=self.kind,
            annotation=annotation,
            desc=self.desc,
            prefix=self.prefix,
            constraints=self.constraints,
            default=None if self.default is ... else self.default,
            has_default=self.default is not ...,
            qualitative=self.qualitative,
            aliases=self.aliases,
        )


class InputField(_FieldMarker):
    """Declares an input field in a class signature: ``question: str = InputField(desc=...)``."""

    kind: Kind = "input"


class OutputField(_FieldMarker):
    """Declares an output field in a class signature: ``answer: int = OutputField(ge=0)``."""

    kind: Kind = "output"
