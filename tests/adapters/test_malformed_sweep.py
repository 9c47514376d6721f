"""A sweep of malformed answers: each one parses to the right value or is refused.

Every variant is generated from a field whose true value is known, in the format of each
adapter (Chat, JSON, XML, and the default Fallback chain). The outcome must be the true value
(with a recorded repair whenever the text was not already well formed) or an
``AdapterParseError`` that names the field: never a different value.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, Optional

import pydantic
import pytest

from lmbench.adapters import Adapter, ChatAdapter, FallbackAdapter, JSONAdapter, XMLAdapter
from lmbench.errors import AdapterParseError
from lmbench.lm.scripted import ScriptedLM
from lmbench.lm.types import LMRequest, LMResponse
from lmbench.signatures import InputField, OutputField, Signature


class Point(pydantic.BaseModel):
    x: int
    y: int


@dataclass(frozen=True)
class Case:
    """One output type, its true value, and how that value is written in each format."""

    name: str
    annotation: Any
    value: Any
    text: str  # as written in chat/XML
    json_text: str  # as written in JSON
    # (variant name, text written in chat/XML, JSON text or None for "same", value it means;
    #  ``_NO`` as the value: the text has no right reading, so only a refusal is right;
    #  "" as the JSON text: the variant is for chat and XML only.)
    wrong: tuple[tuple[str, str, str | None, Any], ...] = ()


_NO = object()  # the text has no right reading: only a refusal is correct

CASES = [
    Case(
        "int",
        int,
        1234,
        "1234",
        "1234",
        (
            ("words", "twelve hundred", '"twelve hundred"', _NO),
            ("thousands", "1,234", '"1,234"', 1234),
            ("fraction", "1234.5", None, _NO),
            ("unit", "1234 kg", '"1234 kg"', 1234),
            ("two numbers", "1234 or 1235", '"1234 or 1235"', _NO),
            ("percent", "1234%", '"1234%"', 1234),  # an int has no other reading
            ("empty", "", '""', _NO),
            ("hyphen-glued", "item-1234", '"item-1234"', _NO),
            ("hex", "0x4d2", '"0x4d2"', _NO),
            ("version", "1234.5.1", '"1234.5.1"', _NO),
            ("fraction sign", "1234\u00bd", '"1234\u00bd"', _NO),
        ),
    ),
    Case(
        "float",
        float,
        0.25,
        "0.25",
        "0.25",
        (
            ("percent", "25%", '"25%"', 0.25),
            ("words", "a quarter", '"a quarter"', _NO),
            ("two numbers", "0.25 to 0.5", '"0.25 to 0.5"', _NO),
            ("ratio", "1/4", '"1/4"', _NO),
            ("scale", "2.5 out of 10", '"2.5 out of 10"', _NO),
            ("overflow", "1e400", '"1e400"', _NO),
            ("empty", "", '""', _NO),
        ),
    ),
    Case(
        "negative float",
        float,
        -0.5,
        "-0.5",
        "-0.5",
        (
            ("unicode minus", "\u22120.5", '"\u22120.5"', -0.5),
            ("en dash", "\u20130.5", '"\u20130.5"', -0.5),
            ("minus and prose", "about \u22120.5", '"about \u22120.5"', -0.5),
        ),
    ),
    Case(
        "date",
        dt.date,
        dt.date(2024, 4, 13),
        "2024-04-13",
        '"2024-04-13"',
        (
            ("day first", "13/04/2024", None, dt.date(2024, 4, 13)),
            ("month first", "04/13/2024", None, dt.date(2024, 4, 13)),
            ("written", "April 13, 2024", None, dt.date(2024, 4, 13)),
            ("either order", "04/03/2024", None, _NO),
            ("two dates", "2024-04-13 or 2024-04-14", None, _NO),
        ),
    ),
    Case(
        "bool",
        bool,
        True,
        "true",
        "true",
        (
            ("yes", "yes", '"yes"', True),
            ("Yes.", "Yes.", '"Yes."', True),
            ("maybe", "maybe", '"maybe"', _NO),
            ("both", "yes and no", '"yes and no"', _NO),
            ("number", "2", "2", _NO),
            ("empty", "", '""', _NO),
        ),
    ),
    Case(
        "literal",
        Literal["positive", "negative", "neutral"],
        "negative",
        "negative",
        '"negative"',
        (
            ("case", "NEGATIVE", '"NEGATIVE"', "negative"),
            ("prose", "It is negative.", '"It is negative."', "negative"),
            ("two", "negative or neutral", '"negative or neutral"', _NO),
            ("unknown", "mixed", '"mixed"', _NO),
            ("not-negative", "not negative", '"not negative"', _NO),
            ("compound", "non-negative", '"non-negative"', _NO),
            ("negated, then named", "not positive but negative", None, "negative"),
        ),
    ),
    Case(
        "list",
        list[str],
        ["a", "b"],
        '["a", "b"]',
        '["a", "b"]',
        (
            ("bullets", "- a\n- b", None, ["a", "b"]),
            ("truncated", '["a", "b', "", _NO),
            ("item left open", "<item>a</item><item>b", "", _NO),
            ("items and text", "<item>a</item> b", "", _NO),
        ),
    ),
    Case(
        "dict",
        dict[str, int],
        {"a": 1},
        '{"a": 1}',
        '{"a": 1}',
        (
            ("wrong inner", '{"a": "one"}', None, _NO),
            ("truncated", '{"a": 1', "", _NO),
            ("key twice", '{"a": 1, "a": 2}', None, _NO),
            ("key twice, same", '{"a": 1, "a": 1}', None, {"a": 1}),
        ),
    ),
    Case(
        "model",
        Point,
        Point(x=1, y=2),
        '{"x": 1, "y": 2}',
        '{"x": 1, "y": 2}',
        (
            ("missing key", '{"x": 1}', None, _NO),
            ("wrong inner", '{"x": "a", "y": 2}', None, _NO),
            ("key twice", '{"x": 1, "y": 2, "x": 3}', None, _NO),
        ),
    ),
    Case(
        "optional int",
        Optional[int],  # noqa: UP045 (the spelling users write)
        7,
        "7",
        "7",
        (("words", "seven-ish", '"seven-ish"', _NO),),
    ),
    Case(
        "str",
        str,
        "Paris, France",
        "Paris, France",
        '"Paris, France"',
        (),
    ),
]


def signature(case: Case) -> type[Signature]:
    """``question -> note: str, <field>: <type>`` with the field named ``value``."""
    namespace = {
        "__annotations__": {"question": str, "note": str, "value": case.annotation},
        "__doc__": "Answer.",
        "question": InputField(),
        "note": OutputField(),
        "value": OutputField(),
    }
    return type(f"Sweep_{case.name.replace(' ', '_')}", (Signature,), namespace)


NOTE = "fine"


def chat(fields: list[tuple[str, str]], completed: bool = True) -> str:
    body = "".join(f"[[ ## {name} ## ]]\n{value}\n\n" for name, value in fields)
    return body + ("[[ ## completed ## ]]" if completed else "")


def xml(fields: list[tuple[str, str]]) -> str:
    return "\n".join(f"<{name}>{value}</{name}>" for name, value in fields)


def as_json(fields: list[tuple[str, str]]) -> str:
    return "{" + ", ".join(f'"{name}": {value}' for name, value in fields) + "}"


FORMATS: dict[str, Callable[[list[tuple[str, str]]], str]] = {
    "chat": chat,
    "xml": xml,
    "json": as_json,
}
ADAPTERS: dict[str, Adapter] = {"chat": ChatAdapter(), "xml": XMLAdapter(), "json": JSONAdapter()}


@dataclass(frozen=True)
class Variant:
    case: Case
    form: str
    kind: str
    text: str
    expected: Any  # the true value, or _NO (only a refusal is right)
    clean: bool  # well formed: no repair needed


def _fields(case: Case, form: str, value_text: str | None = None) -> list[tuple[str, str]]:
    note = json.dumps(NOTE) if form == "json" else NOTE
    value = (
        value_text if value_text is not None else (case.json_text if form == "json" else case.text)
    )
    return [("note", note), ("value", value)]


def variants() -> Iterator[Variant]:
    for case in CASES:
        for form, render in FORMATS.items():
            own = case.json_text if form == "json" else case.text
            fields = _fields(case, form)
            yield Variant(case, form, "clean", render(fields), case.value, True)
            # Prose around the answer.
            yield Variant(
                case,
                form,
                "prose around",
                "Here you go:\n" + render(fields) + "\nHope that helps!",
                case.value,
                False,
            )
            # Fields in the other order.
            yield Variant(case, form, "order", render(fields[::-1]), case.value, True)
            # An unknown extra field.
            yield Variant(
                case,
                form,
                "extra field",
                render([*fields, ("confidence", "0.9")]),
                case.value,
                False,
            )
            # Field names in another case.
            yield Variant(
                case,
                form,
                "name case",
                render([(n.upper(), v) for n, v in fields]),
                case.value,
                False,
            )
            # Duplicated field with a different value: which one is meant is unknowable.
            other = _other(case, form)
            if other is not None:
                yield Variant(
                    case, form, "duplicate", render([*fields, ("value", other)]), _NO, False
                )
            # The answer only inside a reasoning block.
            yield Variant(
                case,
                form,
                "only in reasoning",
                "<think>" + render(fields) + "</think>\n",
                _NO,
                False,
            )
            yield Variant(
                case,
                form,
                "bracket reasoning",
                "[THINK]"
                + render(_fields(case, form, other or own))
                + "[/THINK]\n"
                + render(fields),
                case.value,
                False,
            )
            # Truncated mid-value: a cut inside the last field.
            cut = render(fields)
            if form != "chat":
                cut = cut[: cut.rindex(own) + max(1, len(own) // 2)]
                expected = case.value if own[: max(1, len(own) // 2)] == own else _NO
                yield Variant(case, form, "truncated", cut, expected, False)
            # Markers or tags quoted inside the value of the str field.
            quoted = "see [[ ## value ## ]] and <value>x</value>"
            q = json.dumps(quoted) if form == "json" else quoted
            yield Variant(
                case,
                form,
                "marker in note",
                render([("note", q), fields[1]]),
                case.value if form != "xml" else _NO,
                True,
            )
            # Fences around the whole answer, one inside another.
            yield Variant(
                case, form, "fenced", "```\n" + render(fields) + "\n```", case.value, False
            )
            nested = "````markdown\n```" + form + "\n" + render(fields) + "\n```\n````"
            yield Variant(case, form, "nested fences", nested, case.value, False)
            # The same field written twice, the same way: one value.
            yield Variant(case, form, "same twice", render([*fields, fields[1]]), case.value, False)
            # Reasoning in each style before the answer, its draft different from the answer.
            draft = render(_fields(case, form, other or own))
            for opening, closing in REASONING_STYLES:
                yield Variant(
                    case,
                    form,
                    f"reasoning {opening}",
                    f"{opening}{draft}{closing}\n{render(fields)}",
                    case.value,
                    False,
                )
                yield Variant(case, form, f"only {opening}", f"{opening}{draft}\n", _NO, False)
            # A second, different answer after the first ("Actually, ...").
            if other is not None:
                second = render(_fields(case, form, other))
                yield Variant(
                    case,
                    form,
                    "second answer",
                    f"{render(fields)}\n\nActually, {second}",
                    _NO,
                    False,
                )
            # Typographic quotes in JSON.
            if form == "json":
                every = _curly(render(fields))
                yield Variant(case, form, "all curly quotes", every, case.value, False)
                curly = render(fields).replace('"', "\u201c", 1)
                yield Variant(case, form, "curly quote", curly, case.value, False)
            # Wrong-type and odd writings of the value.
            for kind, written, written_json, means in case.wrong:
                if form == "json" and written_json == "":
                    continue
                text = written_json if (form == "json" and written_json is not None) else written
                if form == "json" and written_json is None and not written.startswith(("{", "[")):
                    text = json.dumps(written)
                expected = case.value if means is not _NO and means == case.value else _NO
                if means is not _NO and means != case.value:
                    expected = _NO
                yield Variant(case, form, kind, render(_fields(case, form, text)), expected, False)


def _curly(text: str) -> str:
    """``text`` with its double quotes written as typographic ones, opening and closing."""
    out, count = [], 0
    for ch in text:
        if ch == '"':
            out.append("\u201c" if count % 2 == 0 else "\u201d")
            count += 1
        else:
            out.append(ch)
    return "".join(out)


def _other(case: Case, form: str) -> str | None:
    if case.annotation is int or case.annotation == Optional[int]:  # noqa: UP045
        return "99"
    if case.annotation is str:
        return json.dumps("Lyon") if form == "json" else "Lyon"
    if case.annotation is bool:
        return "false"
    return None


REASONING_STYLES = [
    ("<think>", "</think>"),
    ("Sure!\n<think>", "</think>"),
    ('<thinking mode="deep">', "</thinking>"),
    ("[THINK]", "[/THINK]"),
    ("<|thinking|>", "<|/thinking|>"),
    ("<|begin_of_thought|>", "<|end_of_thought|>"),
]

ALL = list(variants())
# Text outside the field elements is not part of any value: XML ignores it without a repair.
OUTSIDE_TAGS = {
    ("xml", "prose around"),
    ("xml", "extra field"),
    ("xml", "fenced"),
    ("xml", "nested fences"),
}


def _check(adapter: Adapter, variant: Variant, own: bool = False) -> None:
    sig = signature(variant.case)
    try:
        result = adapter.parse_with_repairs(sig, variant.text)
    except AdapterParseError as exc:
        assert exc.raw == variant.text
        assert exc.reason and exc.expected
        return
    got = result.values.get("value")
    assert variant.expected is not _NO, (
        f"{variant.text!r} must be refused, got {got!r} ({result.repairs})"
    )
    assert got == variant.case.value and type(got) is type(variant.case.value), (
        f"{variant.text!r} read as {got!r}, expected {variant.case.value!r}"
    )
    if own and variant.clean:
        assert result.repairs == [], f"{variant.text!r} is well formed: {result.repairs}"
    elif own and not variant.clean and (variant.form, variant.kind) not in OUTSIDE_TAGS:
        assert result.repairs, f"{variant.text!r} was read with no repair recorded"
    assert result.values["note"] in (NOTE, "see [[ ## value ## ]] and <value>x</value>")


@pytest.mark.parametrize(
    "variant", [v for v in ALL], ids=[f"{v.form}-{v.case.name}-{v.kind}" for v in ALL]
)
def test_own_adapter_reads_the_true_value_or_refuses(variant: Variant) -> None:
    _check(ADAPTERS[variant.form], variant, own=True)


@pytest.mark.parametrize(
    "variant", [v for v in ALL], ids=[f"{v.form}-{v.case.name}-{v.kind}" for v in ALL]
)
def test_other_adapters_read_the_true_value_or_refuse(variant: Variant) -> None:
    for form, adapter in ADAPTERS.items():
        if form != variant.form:
            _check(adapter, variant)
    _check(FallbackAdapter(), variant)


class CutOffLM(ScriptedLM):
    """A scripted model whose answers stop at the token limit (finish_reason "length")."""

    def generate(self, request: LMRequest) -> LMResponse:
        return dataclasses.replace(super().generate(request), finish_reason="length")


CUT_OFF = [
    (ChatAdapter(), "[[ ## note ## ]]\nfine\n\n[[ ## value ## ]]\n12", True),
    (JSONAdapter(), '{"note": "fine", "value": 12', True),  # mid-value: refused anyway
    (JSONAdapter(), '{"value": 1234, "note": "fi"', True),
    # Complete answers that happen to stop at the limit are read.
    (
        ChatAdapter(),
        "[[ ## note ## ]]\nfine\n\n[[ ## value ## ]]\n1234\n\n[[ ## completed ## ]]",
        False,
    ),
    (JSONAdapter(), '{"note": "fine", "value": 1234}', False),
    (XMLAdapter(), "<note>fine</note><value>1234</value>", False),
]


@pytest.mark.parametrize(("adapter", "text", "refused"), CUT_OFF)
def test_an_answer_stopped_at_the_token_limit_is_read_only_when_complete(
    adapter: Adapter, text: str, refused: bool
) -> None:
    sig = signature(CASES[0])
    lm = CutOffLM([text])
    if not refused:
        assert adapter.run(lm, sig, {"question": "q"}).completions[0]["value"] == 1234
        return
    with pytest.raises(AdapterParseError) as info:
        adapter.run(lm, sig, {"question": "q"})
    assert info.value.raw == text and info.value.field in ("note", "value")
    # The same text from a model that stopped on its own is read (the cut is unknowable).
    if adapter.name == "ChatAdapter":
        assert adapter.run(ScriptedLM([text]), sig, {"question": "q"}).completions[0]["value"] == 12
