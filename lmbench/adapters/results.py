"""What adapters hand back: parsed values with their repairs, each try, and stream deltas."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from lmbench.adapters.values import format_value
from lmbench.lm.types import Usage

__all__ = [
    "AdapterAttempt",
    "AdapterResult",
    "FieldDelta",
    "ParseResult",
    "Repair",
    "field_deltas",
    "final_deltas",
    "last_written",
]


@dataclass(frozen=True)
class Repair:
    """One tolerant-parsing rule that fired: which rule, on which field, and what it changed."""

    rule: str
    field: str | None = None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "field": self.field, "detail": self.detail}


@dataclass
class ParseResult:
    values: dict[str, Any]
    repairs: list[Repair] = field(default_factory=list)


@dataclass
class AdapterAttempt:
    """One adapter's try at a call: the error if it failed, and the tokens it used."""

    adapter: str
    error: str | None = None
    usage: Usage = field(default_factory=Usage)
    repairs: list[Repair] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "adapter": self.adapter,
            "error": self.error,
            "usage": self.usage.to_dict(),
            "repairs": [r.to_dict() for r in self.repairs],
        }


@dataclass
class AdapterResult:
    """What ``Adapter.run`` returns: one dict of values per choice, and how they were obtained."""

    completions: list[dict[str, Any]]
    adapter: str
    repairs: list[Repair] = field(default_factory=list)
    attempts: list[AdapterAttempt] = field(default_factory=list)


@dataclass(frozen=True)
class FieldDelta:
    """New text of one output field while streaming."""

    field: str
    text: str  # the text added since the last delta of this field
    value_so_far: str  # the field's whole text so far


def field_deltas(
    partial: dict[str, str], seen: dict[str, str], final: bool = False
) -> Iterator[FieldDelta]:
    """Turn the latest partial field texts into deltas against what was already yielded."""
    for name, value in partial.items():
        before = seen.get(name, "")
        if value == before:
            continue
        if value.startswith(before):
            yield FieldDelta(name, value[len(before) :], value)
        elif not final:
            continue  # a partial parse revised earlier text; wait for more
        else:
            yield FieldDelta(name, value, value)
        seen[name] = value


def final_deltas(result: AdapterResult, seen: dict[str, str]) -> Iterator[FieldDelta]:
    """Deltas that bring each field of the first completion to its parsed value, as prompt text."""

    formatted = {k: format_value(v) for k, v in result.completions[0].items()}
    return field_deltas(formatted, seen, final=True)


def last_written(names: Sequence[str] | frozenset[str], text: str) -> str | None:
    """The one of ``names`` written last in ``text`` (the field an answer stopped in), or None
    when none is written."""
    position, name = max((text.rfind(name), name) for name in names)
    return name if position >= 0 else None
