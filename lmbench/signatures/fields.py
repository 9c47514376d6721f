"""Field declarations: ``InputField``/``OutputField`` for class signatures, ``FieldSpec`` inside."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

__all__ = ["FieldSpec", "InputField", "OutputField", "type_name"]

Kind = Literal["input", "output"]

# pydantic Field constraints accepted on fields (validated on parsed outputs).
CONSTRAINTS = frozenset(
    {"ge", "gt", "le", "lt", "min_length", "max_length", "pattern", "multiple_of"}
)


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

    def __init__(self, *, desc: str = "", prefix: str = "", default: Any = ..., **constraints: Any):
        unknown = set(constraints) - CONSTRAINTS
        if unknown:
            raise TypeError(
                f"unknown field option(s) {sorted(unknown)}; accepted: desc, prefix, default, "
                + ", ".join(sorted(CONSTRAINTS))
            )
        self.desc = desc
        self.prefix = prefix
        self.default = default
        self.constraints = tuple(sorted(constraints.items()))

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
        )


class InputField(_FieldMarker):
    """Declares an input field in a class signature: ``question: str = InputField(desc=...)``."""

    kind: Kind = "input"


class OutputField(_FieldMarker):
    """Declares an output field in a class signature: ``answer: int = OutputField(ge=0)``."""

    kind: Kind = "output"
