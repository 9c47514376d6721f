"""Finding ``[[ ## field ## ]]`` markers in a model's answer, as written or written loosely.

Canonical markers are ``[[ ## name ## ]]``. Variants accepted, each reported as a repair:
missing or single brackets, missing spaces, two or three hashes, other case or spaces in the
name (``[[ ## Final Answer ## ]]``), indentation, a value on the marker's line. Only a marker
that starts its line (after whitespace) is a header: one quoted in the middle of a line, in
prose or inside a value, is text (the closing ``completed`` marker may end the last line). When an output
field has no marker at all, headings are tried for it: ``answer:``, ``**Answer:**``,
``### Answer``.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from lmbench.adapters.assemble import Found
from lmbench.adapters.base import Repair
from lmbench.adapters.plan import SignaturePlan
from lmbench.adapters.scalars import short
from lmbench.adapters.typeplan import normalize_name

__all__ = ["COMPLETED", "Scan", "foreign_section", "marker", "partial_sections", "scan"]

COMPLETED = "completed"

_CANONICAL = re.compile(r"\[\[ ## (\w+) ## \]\]")
# Starts at the hashes (a literal the regex engine can search for fast); opening brackets
# before them are found by looking back.
_MARKER = re.compile(r"#{2,3}[ \t]*([A-Za-z_][\w \-]{0,63}?)[ \t]*#{2,3}(?:[ \t]*\]{1,2})?")
_OUTER_FENCE = re.compile(r"\A\s*```[\w+-]*(?:[ \t][^\n`]*)?\r?\n")
# A marker cut off by the end of a stream: "[[", "[[ ## ans", "[[ ## answer ## ]".
_PARTIAL_MARKER = re.compile(
    r"\[\[?(?:[ \t]*#{1,3}(?:[ \t]*[\w \-]*(?:#{1,3}[ \t]*\]?)?)?)?[ \t]*\Z"
)


def marker(name: str) -> str:
    return f"[[ ## {name} ## ]]"


class _Boundary(NamedTuple):
    start: int
    end: int
    field: str | None  # an output field, an input field, COMPLETED, or None (unknown)
    kind: str  # "output", "input", "completed", "unknown"


class Scan:
    """Output fields found in an answer, and the repairs made finding them."""

    __slots__ = ("found", "repairs")

    def __init__(self) -> None:
        self.found: dict[str, Found] = {}
        self.repairs: list[Repair] = []


def _heading_pattern(plan: SignaturePlan) -> re.Pattern[str]:
    """``answer:``, ``**Answer:**``, ``**Answer**``, ``### Answer`` at the start of a line."""

    def build() -> re.Pattern[str]:
        names = "|".join(
            r"[ _\-]?".join(re.escape(part) for part in o.name.split("_")) for o in plan.outputs
        )
        return re.compile(
            rf"^[ \t]*(?:"
            rf"\#{{1,6}}[ \t]*(?:\*\*)?(?P<h>{names})(?:\*\*)?[ \t]*:?[ \t]*\r?$"
            rf"|(?:\*\*|__)?(?P<c>{names})(?:\*\*|__)?[ \t]*:(?:[ \t]*(?:\*\*|__))?[ \t]*"
            rf"|(?:\*\*|__)(?P<b>{names})(?:\*\*|__)[ \t]*\r?$)",
            re.IGNORECASE | re.MULTILINE,
        )

    return plan.memo("chat-headings", build)


def _body_range(text: str, repairs: list[Repair]) -> tuple[int, int]:
    """The answer without a ``` fence wrapped around all of it."""
    fence = _OUTER_FENCE.match(text) if "```" in text else None
    if fence is None:
        return 0, len(text)
    closing = text.rfind("```")
    end = closing if closing >= fence.end() else len(text)
    repairs.append(Repair("code_fence", None, "removed the ``` fence around the whole answer"))
    return fence.end(), end


def _markers(
    plan: SignaturePlan, text: str, start: int, end: int, repairs: list[Repair] | None
) -> list[_Boundary]:
    """Every field marker between ``start`` and ``end``, canonical or loosely written."""
    found = [(*m.span(), m.group(1), True) for m in _CANONICAL.finditer(text, start, end)]
    canonical = text.count("#", start, end) == 4 * len(found)  # no other hashes: no variants
    if not canonical:
        found = [_located(text, m, start) for m in _MARKER.finditer(text, start, end)]
    boundaries: list[_Boundary] = []
    fenced = _fenced(text, start, end) if text.find("```", start, end) >= 0 else None
    known = plan.memo("chat-names", dict)
    for begin, stop, written_name, bracketed in found:
        classified = known.get(written_name)
        if classified is None:
            classified = _classify(plan, written_name)
            if len(known) < _NAMES_KEPT:
                known[written_name] = classified
        name, kind = classified
        if kind == "unknown" and not bracketed:
            continue  # "## words ##" in prose that names no field
        starts_line = begin == 0 or text[begin - 1] == "\n"
        if not starts_line and not _heads_line(text, begin, stop, end, kind):
            continue  # a marker quoted inside prose or a value is text, not a header
        if boundaries and fenced is not None and _inside(fenced, begin, boundaries[0].start):
            continue  # in a code block inside a field's value: the value's text
        boundaries.append(_Boundary(begin, stop, name, kind))
        written_as_is = canonical and name == written_name
        if repairs is not None and not (written_as_is and starts_line):
            _marker_repairs(text, begin, stop, name, repairs)
    return boundaries


# A line opening or closing a code block.
_FENCE_LINE = re.compile(r"^[ \t]*```", re.MULTILINE)


def _fenced(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The code blocks between ``start`` and ``end``: (opening fence, closing fence or end)."""
    lines = [m.start() for m in _FENCE_LINE.finditer(text, start, end)]
    return [
        (lines[i], lines[i + 1] if i + 1 < len(lines) else end) for i in range(0, len(lines), 2)
    ]


def _inside(blocks: list[tuple[int, int]], position: int, first: int) -> bool:
    """Whether ``position`` is in a code block opened after the first marker at ``first``
    (a block around the whole answer is no value's text)."""
    return any(first < opened < position < closed for opened, closed in blocks)


def _heads_line(text: str, begin: int, stop: int, end: int, kind: str) -> bool:
    """Whether a marker not at the very start of its line still counts: after indentation
    only, or the closing ``completed`` marker ending the answer ("Paris [[ ## completed ## ]]")."""
    line_start = text.rfind("\n", 0, begin) + 1
    if not text[line_start:begin].strip():
        return True
    return kind == "completed" and not text[stop:end].strip()


# Names as written in markers, classified once per signature (bounded: answers are untrusted).
_NAMES_KEPT = 64


def _classify(plan: SignaturePlan, written: str) -> tuple[str | None, str]:
    """The field a marker's name refers to, and its kind: output, completed, input or unknown."""
    key = normalize_name(written)
    if key in plan.output_by_norm:
        return plan.output_by_norm[key], "output"
    if key == COMPLETED:
        return COMPLETED, "completed"
    if key in plan.input_by_norm:
        return plan.input_by_norm[key], "input"
    return None, "unknown"


def _located(text: str, match: re.Match[str], floor: int) -> tuple[int, int, str, bool]:
    """A loose marker's span including any opening brackets, its name, and if it is bracketed."""
    begin = match.start()
    while begin > floor and text[begin - 1] in " \t":
        begin -= 1
    brackets = 0
    while brackets < 2 and begin > floor and text[begin - 1] == "[":
        begin -= 1
        brackets += 1
    if not brackets:
        begin = match.start()
    return begin, match.end(), match.group(1), bool(brackets)


def _marker_repairs(
    text: str, begin: int, stop: int, name: str | None, repairs: list[Repair]
) -> None:
    written = text[begin:stop]
    field_name = name if name not in (None, COMPLETED) else None
    if name is None or written != marker(name):
        expected = marker(name) if name else "a field marker"
        repairs.append(Repair("marker_variant", field_name, f"read {short(written)} as {expected}"))
    if begin == 0 or text[begin - 1] == "\n":
        return
    lead = text[text.rfind("\n", 0, begin) + 1 : begin]
    if lead.strip():
        repairs.append(
            Repair("inline_marker", field_name, f"{short(written)} does not start its line")
        )
    else:
        repairs.append(Repair("indented_marker", field_name, f"{short(written)} is indented"))


def _headings(
    plan: SignaturePlan, text: str, start: int, end: int, missing: set[str], repairs: list[Repair]
) -> list[_Boundary]:
    boundaries = []
    for match in _heading_pattern(plan).finditer(text, start, end):
        written = match.group("h") or match.group("c") or match.group("b")
        name = plan.output_by_norm.get(normalize_name(written))
        if name is None or name not in missing:
            continue
        # Every heading of the field is kept: one written twice is read as written twice.
        boundaries.append(_Boundary(match.start(), match.end(), name, "output"))
        heading = match.group().strip()
        repairs.append(
            Repair("heading_marker", name, f"read the heading {short(heading)} as {marker(name)}")
        )
    return boundaries


def scan(plan: SignaturePlan, text: str) -> Scan:
    """The text of each output field in a complete answer."""
    result = Scan()
    repairs = result.repairs
    start, end = _body_range(text, repairs)
    boundaries = _markers(plan, text, start, end, repairs)
    missing = plan.output_names.difference([b.field for b in boundaries])
    if missing:
        boundaries += _headings(plan, text, start, end, set(missing), repairs)
        boundaries.sort(key=lambda b: b.start)
    if not boundaries:
        return result
    lead = text[start : boundaries[0].start].strip()
    if lead:
        repairs.append(
            Repair("leading_text", None, f"ignored text before the first field: {short(lead)}")
        )
    completed = False
    for index, boundary in enumerate(boundaries):
        stop = boundaries[index + 1].start if index + 1 < len(boundaries) else end
        if boundary.kind == "completed":
            if not completed and text[boundary.end : stop].strip():
                tail = text[boundary.end : stop].strip()
                repairs.append(
                    Repair(
                        "trailing_text",
                        None,
                        f"ignored text after {marker(COMPLETED)}: {short(tail)}",
                    )
                )
            completed = True
        elif boundary.kind == "input":
            repairs.append(
                Repair(
                    "echoed_input", boundary.field, "ignored an input field repeated in the answer"
                )
            )
        elif boundary.kind == "unknown":
            repairs.append(
                Repair(
                    "unknown_marker",
                    None,
                    f"ignored the section {short(text[boundary.start : boundary.end])}",
                )
            )
        elif boundary.field in result.found:  # written again, before or after the end
            again = _value(text, boundary.end, stop).value
            result.found[boundary.field] = result.found[boundary.field].with_other(again)
        elif completed:
            repairs.append(
                Repair(
                    "trailing_text", boundary.field, f"ignored a field after {marker(COMPLETED)}"
                )
            )
        else:
            assert boundary.field is not None
            result.found[boundary.field] = _value(text, boundary.end, stop)
    if not completed and result.found:
        repairs.append(
            Repair("missing_completed", None, f"no {marker(COMPLETED)} marker at the end")
        )
    return result


def _value(text: str, start: int, stop: int) -> Found:
    """A section's value, stripped, with its span in the full text."""
    raw = text[start:stop]
    stripped = raw.strip()
    if not stripped:
        return Found("", (start, start))
    offset = start + raw.index(stripped[0])
    return Found(stripped, (offset, offset + len(stripped)))


def partial_sections(plan: SignaturePlan, text: str) -> dict[str, str]:
    """The text of each output field so far in an answer still being streamed."""
    boundaries = _markers(plan, text, 0, len(text), None)
    sections: dict[str, str] = {}
    for index, boundary in enumerate(boundaries):
        if boundary.kind == "completed":
            break
        if boundary.kind != "output" or boundary.field in sections:
            continue
        last = index + 1 == len(boundaries)
        value = text[boundary.end : len(text) if last else boundaries[index + 1].start]
        if last:
            value = _PARTIAL_MARKER.sub("", value)
        if value.strip():  # a marker at the very end may still be growing
            sections[boundary.field] = value.strip()  # type: ignore[index]
    return sections


# A chat marker that starts its line: "[[ ## reasoning ## ]]".
_SECTION = re.compile(
    r"^[ \t]*\[\[[ \t]*#{2,3}[ \t]*([A-Za-z_][\w \-]{0,63}?)[ \t]*#{2,3}[ \t]*\]\]", re.MULTILINE
)


def foreign_section(plan: SignaturePlan, answer: str) -> str | None:
    """How the answer is written in sections when it is, as written: a marker naming an output
    field or no field at all (``[[ ## reasoning ## ]]``), or an output field's XML element
    (``<answer>``); None when it has none (inputs echoed back and the closing marker do not
    count). JSON found in the prose of such an answer is text of a section, never the answer:
    ``[[ ## answer ## ]]\nExample: {"answer": ...}`` must not be read as that object."""
    if "[[" in answer:
        for match in _SECTION.finditer(answer):
            key = normalize_name(match.group(1))
            if key not in plan.input_by_norm and key != COMPLETED:
                return match.group().strip()
    if "<" in answer:
        element = _output_element(plan).search(answer)
        if element is not None:
            return element.group().strip()
    return None


def _output_element(plan: SignaturePlan) -> re.Pattern[str]:
    """An output field's opening XML tag starting a line, in any case: ``<answer>``,
    ``<Answer id="1">`` (one inside a line may be quoted in a JSON string)."""

    def build() -> re.Pattern[str]:
        names = "|".join(re.escape(o.name) for o in plan.outputs)
        return re.compile(
            rf"^[ \t]*<[ \t]*(?:{names})[ \t]*(?:[ \t][^<>]*)?>", re.IGNORECASE | re.MULTILINE
        )

    return plan.memo("chat-output-elements", build)
