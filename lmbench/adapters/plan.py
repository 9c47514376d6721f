"""Per-signature facts every adapter needs, worked out once per signature and cached.

``signature_plan(signature)`` holds the output fields with their coercion plans, the input
fields to render (a ``Conversation`` input is set apart: it becomes earlier turns), lookup tables
for names written loosely, and a memo where each adapter keeps its own prompt pieces and
compiled patterns for that signature.
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from lmbench.adapters.coercion import FieldRules
from lmbench.adapters.typeplan import OPTIONAL, TypePlan, expected_text, normalize_name, plan_for
from lmbench.primitives.conversation import Conversation
from lmbench.signatures.fields import FieldSpec
from lmbench.signatures.signature import Signature

__all__ = ["OutputPlan", "SignaturePlan", "signature_plan"]

T = TypeVar("T")


@dataclass(frozen=True)
class OutputPlan:
    """One output field: its spec, how to coerce it, and how errors name its type."""

    name: str
    spec: FieldSpec
    type: TypePlan
    expected: str
    optional: bool
    rules: FieldRules | None  # opt-in readings: qualitative numbers, aliases


def _output_plan(spec: FieldSpec) -> OutputPlan:
    plan = plan_for(spec.annotation)
    expected = expected_text(spec.annotation, spec.constraints)
    return OutputPlan(spec.name, spec, plan, expected, plan.kind == OPTIONAL, FieldRules.of(spec))


def _is_history(annotation: Any) -> bool:
    if annotation is Conversation:
        return True
    return Conversation in typing.get_args(annotation)


class SignaturePlan:
    """What adapters need to know about one signature."""

    __slots__ = (
        "_memo",
        "history",
        "input_by_norm",
        "inputs",
        "output_by_norm",
        "output_names",
        "outputs",
        "signature",
    )

    def __init__(self, signature: Signature) -> None:
        self.signature = signature
        self.outputs = tuple(_output_plan(spec) for spec in signature.output_fields.values())
        self.output_names = frozenset(o.name for o in self.outputs)
        inputs = list(signature.input_fields.values())
        self.history = next((s.name for s in inputs if _is_history(s.annotation)), None)
        self.inputs = tuple(s for s in inputs if s.name != self.history)
        self.output_by_norm = {normalize_name(o.name): o.name for o in self.outputs}
        self.input_by_norm = {normalize_name(s.name): s.name for s in self.inputs}
        self._memo: dict[Any, Any] = {}

    def memo(self, key: Any, build: Callable[[], T]) -> T:
        """``build()`` once per key for this signature (prompt text, compiled patterns...)."""
        try:
            return self._memo[key]  # type: ignore[no-any-return]
        except KeyError:
            value = self._memo[key] = build()
            return value


# Modules pass the same Signature object on every call: find its plan by identity first,
# which spares hashing the signature's fields. Entries hold the signature, so ids stay unique.
_by_identity: dict[int, tuple[Signature, SignaturePlan]] = {}
_IDENTITY_LIMIT = 256


def signature_plan(signature: Signature) -> SignaturePlan:
    """The plan of a signature: by identity, else by value (equal signatures share one)."""
    hit = _by_identity.get(id(signature))
    if hit is not None and hit[0] is signature:
        return hit[1]
    plan = _plan_by_value(signature)
    if len(_by_identity) >= _IDENTITY_LIMIT:
        _by_identity.clear()
    _by_identity[id(signature)] = (signature, plan)
    return plan


@functools.lru_cache(maxsize=1024)
def _plan_by_value(signature: Signature) -> SignaturePlan:
    return SignaturePlan(signature)
