"""``ChatAdapter``: fields under ``[[ ## name ## ]]`` markers, the answer closed by
``[[ ## completed ## ]]`` (the marker format DSPy programs use, so prompts and demos carry over).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lmbench.adapters.assemble import assemble_outputs, match_keys
from lmbench.adapters.base import ParseResult, Repair
from lmbench.adapters.hints import value_hint
from lmbench.adapters.jsontext import load_json
from lmbench.adapters.markers import (
    COMPLETED,
    Scan,
    foreign_section,
    marker,
    partial_sections,
    scan,
)
from lmbench.adapters.parse_memo import ReusesParses
from lmbench.adapters.plan import SignaturePlan, signature_plan
from lmbench.adapters.reasoning import mask_reasoning, missing_reason
from lmbench.adapters.scalars import CoercionError
from lmbench.adapters.turns import TurnAdapter
from lmbench.adapters.values import format_value
from lmbench.signatures.signature import Signature

__all__ = ["ChatAdapter"]


class ChatAdapter(ReusesParses, TurnAdapter):
    """Marks each field with a ``[[ ## name ## ]]`` line; parses loosely written markers too.

    An answer written as a JSON object instead of markers is read as well (and reported as
    the repair ``json_instead_of_markers``).
    """

    name = "ChatAdapter"

    def input_wrapper(self, name: str) -> tuple[str, str]:
        return f"{marker(name)}\n", ""

    def format_outputs(self, plan: SignaturePlan, values: Mapping[str, Any]) -> str:
        blocks = [f"{marker(name)}\n{format_value(value)}" for name, value in values.items()]
        return "\n\n".join([*blocks, marker(COMPLETED)])

    def layout(self, plan: SignaturePlan) -> str:
        names = [spec.name for spec in plan.inputs] + [o.name for o in plan.outputs]
        skeleton = "\n\n".join(f"{marker(name)}\n{{{name}}}" for name in names)
        return (
            "Every message gives each field on a line of its own, marked like "
            f"{marker('name')}, with the value below it. An answer ends with "
            f"{marker(COMPLETED)}. Laid out:\n\n{skeleton}\n\n{marker(COMPLETED)}"
        )

    def reminder(self, plan: SignaturePlan) -> str:
        steps = []
        for out in plan.outputs:
            hint = value_hint(out.spec, brief=True)
            steps.append(f"`{marker(out.name)}`" + (f" ({hint})" if hint else ""))
        steps.append(f"`{marker(COMPLETED)}`")
        return "Respond with " + ", then ".join(steps) + "."

    def parse_with_repairs(self, signature: Signature, text: str) -> ParseResult:
        plan = signature_plan(signature)
        answer, repairs = mask_reasoning(plan, text)
        found = scan(plan, answer)
        if not found.found and "{" in answer and foreign_section(plan, answer) is None:
            found = _json_answer(plan, answer) or found
        repairs.extend(found.repairs)
        return assemble_outputs(
            self.name,
            plan,
            found.found,
            text,
            repairs,
            missing_reason(answer, repairs, f"no {marker('{name}')} marker in the answer"),
            searched=answer,
        )

    def partial_fields(self, signature: Signature, text: str) -> dict[str, str]:
        plan = signature_plan(signature)
        return partial_sections(plan, mask_reasoning(plan, text)[0])


def _json_answer(plan: SignaturePlan, text: str) -> Scan | None:
    """An answer given as a JSON object of the output fields instead of marked sections."""
    try:
        obj, fixes = load_json(text, "object")
    except CoercionError:
        return None
    if not isinstance(obj, dict):
        return None
    result = Scan()
    result.repairs.extend(Repair(rule, None, detail) for rule, detail in fixes)
    result.found = match_keys(plan, obj, result.repairs)
    if not result.found:
        return None
    result.repairs.insert(
        0, Repair("json_instead_of_markers", None, "read the answer as a JSON object")
    )
    return result
