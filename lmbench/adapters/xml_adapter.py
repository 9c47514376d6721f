"""``XMLAdapter``: each field inside a tag named after it, ``<answer>...</answer>``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lmbench.adapters.assemble import Found, assemble_outputs
from lmbench.adapters.base import ParseResult, Repair
from lmbench.adapters.coercion import normalize_name
from lmbench.adapters.hints import value_hint
from lmbench.adapters.parse_memo import ReusesParses
from lmbench.adapters.plan import SignaturePlan, signature_plan
from lmbench.adapters.scalars import short
from lmbench.adapters.turns import TurnAdapter
from lmbench.adapters.values import format_value
from lmbench.signatures.signature import Signature

__all__ = ["XMLAdapter"]

_TAG = re.compile(r"<(?P<close>/)?[ \t]*(?P<name>[A-Za-z_][\w\- ]{0,63})[ \t]*(?:[ \t][^<>]*)?>")
# A tag cut off by the end of a stream: "<", "</ans", "<answer".
_PARTIAL_TAG = re.compile(r"<[^<>]*\Z")


class _Tag:
    __slots__ = ("closing", "end", "field", "start", "written")

    def __init__(self, match: re.Match[str], field: str) -> None:
        self.start, self.end = match.span()
        self.closing = match.group("close") is not None
        self.field = field
        self.written = match.group()


def _tags(plan: SignaturePlan, text: str) -> list[_Tag]:
    """Opening and closing tags of output fields (names matched without case or spaces)."""
    tags = []
    names = plan.output_names
    for match in _TAG.finditer(text):
        written = match.group("name")
        name = written if written in names else plan.output_by_norm.get(normalize_name(written))
        if name is not None:
            tags.append(_Tag(match, name))
    return tags


def _sections(plan: SignaturePlan, text: str, repairs: list[Repair] | None) -> dict[str, Found]:
    """Each output field's text: from its first opening tag to its closing tag, or, when
    the closing tag is missing, to the next field's opening tag or the end."""
    tags = _tags(plan, text)
    found: dict[str, Found] = {}
    for index, tag in enumerate(tags):
        if tag.closing:
            continue
        if tag.field in found:
            if repairs is not None:
                repairs.append(
                    Repair("duplicate_field", tag.field, "kept the first of several values")
                )
            continue
        later = tags[index + 1 :]
        closing = next((t for t in later if t.closing and t.field == tag.field), None)
        if closing is not None:
            stop = closing.start
        else:
            stop = next((t.start for t in later if not t.closing), len(text))
            if repairs is not None:
                repairs.append(
                    Repair(
                        "unclosed_tag", tag.field, f"no </{tag.field}>; read up to the next field"
                    )
                )
        if repairs is not None:
            for written in (tag.written, closing.written if closing else None):
                canonical = (
                    f"</{tag.field}>" if written and written.startswith("</") else f"<{tag.field}>"
                )
                if written is not None and written != canonical:
                    repairs.append(
                        Repair("tag_variant", tag.field, f"read {short(written)} as {canonical}")
                    )
        raw = text[tag.end : stop]
        value = raw.strip()
        offset = tag.end + (raw.index(value[0]) if value else 0)
        found[tag.field] = Found(value, (offset, offset + len(value)))
    return found


class XMLAdapter(ReusesParses, TurnAdapter):
    """Wraps every field in ``<name>`` ... ``</name>``; tolerates other case and unclosed tags."""

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
        repairs: list[Repair] = []
        found = _sections(plan, text, repairs)
        return assemble_outputs(
            self.name, plan, found, text, repairs, "no <{name}> tag in the answer"
        )

    def partial_fields(self, signature: Signature, text: str) -> dict[str, str]:
        plan = signature_plan(signature)
        trimmed = _PARTIAL_TAG.sub("", text)
        return {name: found.value for name, found in _sections(plan, trimmed, None).items()}
