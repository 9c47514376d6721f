"""``XMLAdapter``: each field inside a tag named after it, ``<answer>...</answer>``.

Fields are read by XML's rules (``lmbench.adapters.xmltext``): references unescaped, CDATA
verbatim, list items as repeated child elements; an element left open or closed by another
field's tag is refused, not guessed at.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from lmbench.adapters.assemble import Found, assemble_outputs
from lmbench.adapters.base import ParseResult, Repair
from lmbench.adapters.hints import value_hint
from lmbench.adapters.parse_memo import ReusesParses
from lmbench.adapters.plan import SignaturePlan, signature_plan
from lmbench.adapters.reasoning import mask_reasoning, missing_reason
from lmbench.adapters.scalars import short
from lmbench.adapters.turns import TurnAdapter
from lmbench.adapters.typeplan import (
    ANNOTATED,
    MAPPING,
    MODEL,
    OPTIONAL,
    SEQUENCE,
    TypePlan,
    normalize_name,
)
from lmbench.adapters.values import format_value
from lmbench.adapters.xmltext import XMLStructureError, element_value, read_elements
from lmbench.errors import AdapterParseError
from lmbench.signatures.signature import Signature

__all__ = ["XMLAdapter"]


def _field_lookup(plan: SignaturePlan) -> Callable[[str], str | None]:
    """Tag name -> output field (names matched without case or spaces), memoised per plan."""

    def build() -> Callable[[str], str | None]:
        names = plan.output_names
        by_norm = plan.output_by_norm

        def field_of(written: str) -> str | None:
            return written if written in names else by_norm.get(normalize_name(written))

        return field_of

    return plan.memo("xml-fields", build)


def _shapes(plan: SignaturePlan) -> dict[str, tuple[str | None, tuple[str, str]]]:
    """Per output field: whether it reads child elements (``list`` or ``object`` fields), and
    its tags as written canonically."""

    def build() -> dict[str, tuple[str | None, tuple[str, str]]]:
        return {o.name: (_shape(o.type), (f"<{o.name}>", f"</{o.name}>")) for o in plan.outputs}

    return plan.memo("xml-shapes", build)


def _shape(plan: TypePlan) -> str | None:
    while plan.kind in (OPTIONAL, ANNOTATED) and plan.inner is not None:
        plan = plan.inner
    if plan.kind == SEQUENCE:
        return "list"
    return "object" if plan.kind in (MAPPING, MODEL) else None


def _sections(
    plan: SignaturePlan, text: str, repairs: list[Repair] | None, partial: bool = False
) -> dict[str, Found]:
    """Each output field's value, read from its element."""
    elements, repeated = read_elements(text, _field_lookup(plan), partial=partial)
    shapes = _shapes(plan)
    found: dict[str, Found] = {}
    for name, element in elements.items():
        shape, canonical = shapes[name]
        try:
            value, note = element_value(text, element.start, element.end, shape)
        except XMLStructureError as exc:
            if not partial:
                raise XMLStructureError(name, exc.reason, (element.start, element.end)) from None
            value, note = (
                text[element.start : element.end].strip(),
                None,
            )  # still being written XMLStructureError(name, exc.reason, (element.start, element.end)) from None
        raw = text[element.start : element.end]
        stripped = raw.strip()
        offset = element.start + (raw.index(stripped[0]) if stripped else 0)
        found[name] = Found(value, (offset, offset + len(stripped)))
        if repairs is None:
            continue
        if note is not None:
            repairs.append(Repair("xml_elements", name, note))
        if element.tags != canonical:
            _tag_repairs(name, element.tags, canonical, repairs)
    for element in repeated:
        try:
            value, _ = element_value(text, element.start, element.end, shapes[element.field][0])
        except XMLStructureError as exc:
            raise XMLStructureError(
                element.field, exc.reason, (element.start, element.end)
            ) from None
        found[element.field] = found[element.field].with_other(value)
    return found


def _tag_repairs(
    name: str, tags: tuple[str, ...], canonical: tuple[str, str], repairs: list[Repair]
) -> None:
    """A ``tag_variant`` repair for each tag not written canonically (``<Answer >``)."""
    if len(tags) == 1:  # a self-closing element: <answer/>
        if tags[0].replace(" ", "") != f"<{name}/>":
            repairs.append(Repair("tag_variant", name, f"read {short(tags[0])} as <{name}/>"))
        return
    for written, expected in zip(tags, canonical, strict=True):
        if written != expected:
            repairs.append(Repair("tag_variant", name, f"read {short(written)} as {expected}"))


class XMLAdapter(ReusesParses, TurnAdapter):
    """Wraps every field in ``<name>`` ... ``</name>``; tolerates other case, spaces and
    attributes in tags, prose or a wrapper element around the fields."""

    name = "XMLAdapter"

    def input_wrapper(self, name: str) -> tuple[str, str]:
        return f"<{name}>\n", f"\n</{name}>"

    def format_outputs(self, plan: SignaturePlan, values: Mapping[str, Any]) -> str:
        return "\n\n".join(
            f"<{name}>\n{format_value(value)}\n</{name}>" for name, value in values.items()
        )

    def layout(self, plan: SignaturePlan) -> str:
        names = [spec.name for spec in plan.inputs] + [o.name for o in plan.outputs]
        skeleton = "\n\n".join(f"<{name}>\n{{{name}}}\n</{name}>" for name in names)
        return f"Every message wraps each field in a tag named after it:\n\n{skeleton}"

    def reminder(self, plan: SignaturePlan) -> str:
        steps = []
        for out in plan.outputs:
            hint = value_hint(out.spec, brief=True)
            steps.append(f"`<{out.name}>...</{out.name}>`" + (f" ({hint})" if hint else ""))
        return "Respond with " + ", then ".join(steps) + "."

    def parse_with_repairs(self, signature: Signature, text: str) -> ParseResult:
        plan = signature_plan(signature)
        answer, repairs = mask_reasoning(plan, text)
        try:
            found = _sections(plan, answer, repairs)
        except XMLStructureError as exc:
            raise self._structure_error(plan, text, exc) from None
        return assemble_outputs(
            self.name,
            plan,
            found,
            text,
            repairs,
            missing_reason(answer, repairs, "no <{name}> tag in the answer"),
            searched=answer,
        )

    def _structure_error(
        self, plan: SignaturePlan, text: str, exc: XMLStructureError
    ) -> AdapterParseError:
        # A fault outside every field (a CDATA section never closed) is charged to the first.
        output = next((o for o in plan.outputs if o.name == exc.field), plan.outputs[0])
        return AdapterParseError(
            exc.reason,
            adapter=self.name,
            field=output.name,
            expected=output.expected,
            raw=text,
            span=exc.span,
        )

    def partial_fields(self, signature: Signature, text: str) -> dict[str, str]:
        plan = signature_plan(signature)
        answer = mask_reasoning(plan, text)[0]
        found = _sections(plan, answer, None, partial=True)
        return {
            name: item.value if isinstance(item.value, str) else text[item.span[0] : item.span[1]]  # type: ignore[index]
            for name, item in found.items()
        }
