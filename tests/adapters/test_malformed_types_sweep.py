"""A sweep of malformed values across output types, beyond the first sweep's fields.

Each row is an output type, a value as a model wrote it and what it truly means (or ``NO``:
it has no one reading, so only a refusal is right). Every row is written in each adapter's
format (chat markers, XML elements, a JSON object) and given to every adapter, alone in the
signature (so no other field hides a wrong reading of an answer in another format). The
outcome must be the true value, with a recorded repair when the text was not already in the
type's plain form, or an ``AdapterParseError`` naming the field, its expected type and the
raw text: never another value.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, Optional

import pydantic
import pytest

from lmbench.adapters import Adapter, ChatAdapter, FallbackAdapter, JSONAdapter, XMLAdapter
from lmbench.errors import AdapterParseError
from lmbench.signatures import InputField, OutputField, Signature

NO: Any = object()  # the text has no one reading: only a refusal is right
SAME = None  # the JSON form is the text as a JSON string


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Inner(pydantic.BaseModel):
    a: int
    b: list[str]


class Outer(pydantic.BaseModel):
    name: str
    inner: Inner
    tags: Optional[list[int]] = None  # noqa: UP045


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


SENTIMENT = Literal["positive", "negative", "neutral"]
YES_NO = Literal["yes", "no", "maybe"]
LETTER = Literal["a", "b", "c"]
NUMBERED = Literal[1, 2, 3]
NONE_LABEL = Optional[Literal["none", "some"]]  # noqa: UP045

# (annotation, text as written in chat and XML, JSON text (SAME: the text as a JSON string),
#  what it means)
ROWS: list[tuple[Any, str, str | None, Any]] = [
    # numbers scaled by a word: the number alone is not the value
    (int, "5k", SAME, NO),
    (int, "5 million", SAME, NO),
    (float, "$1.5M", SAME, NO),
    (float, "3bn", SAME, NO),
    (int, "1234 kg", SAME, 1234),
    (int, "$1,200", SAME, 1200),
    (float, "1,234.5", SAME, 1234.5),
    (float, "1.234,5", SAME, NO),
    (int, "3-5", SAME, NO),
    (int, "3 to 5", SAME, NO),
    (float, "1/2", SAME, NO),
    (int, "about 5", SAME, 5),
    (int, "\uff11\uff12\uff13", SAME, 123),  # fullwidth digits
    (int, "1_000", SAME, 1000),
    (int, "\u22125", SAME, -5),
    (int, "10\u00b2", SAME, NO),  # 10 squared
    # a bound or a sign in words is not the number
    (int, "< 5", SAME, NO),
    (int, "at least 3", SAME, NO),
    (int, "5+", SAME, NO),
    (int, "5 or more", SAME, NO),
    (int, "minus 5", SAME, NO),
    (float, "over $100", SAME, NO),
    (int, "5 degrees below zero", SAME, NO),
    (int, "+5", SAME, 5),
    (int, "12345678901234567.0", SAME, 12345678901234567),  # read exactly, not as a float
    (int, "1e400", SAME, NO),
    (int, "1e99999999", SAME, NO),
    # NaN is no number; written as text or as JSON's non-standard literal
    (float, "NaN", SAME, NO),
    (float, "nan", "NaN", NO),
    (Optional[float], "NaN", "NaN", NO),  # noqa: UP045
    (Decimal, "sNaN", SAME, NO),
    (dict[str, float], '{"a": NaN}', '{"a": NaN}', NO),
    # a number inside structured text is not a number in prose
    (int, '{"x": 1}', SAME, NO),
    (int, "[5, 6]", "[5, 6]", NO),
    # booleans: a yes/no word opening a phrase, set off by punctuation
    (bool, "Yes.", SAME, True),
    (bool, "TRUE", SAME, True),
    (bool, "1", SAME, True),
    (bool, "correct", SAME, True),
    (bool, "No, but it is close", SAME, False),
    (bool, "N/A", SAME, NO),
    (bool, "1.0", SAME, NO),
    (bool, "false positive", SAME, NO),
    (bool, "correct answer is no", SAME, NO),
    (bool, "yes/no", SAME, NO),
    (bool, "t-shirt", SAME, NO),
    (bool, "no-brainer", SAME, NO),
    (bool, "No, that's correct", SAME, NO),
    (bool, "x", "2", NO),
    (Optional[bool], "N/A", SAME, None),  # noqa: UP045
    # Literal and Enum values
    (YES_NO, "no\nyes", SAME, NO),  # "no" is a value here, not a negation of "yes"
    (YES_NO, "no yes", SAME, NO),
    (YES_NO, "Maybe?", SAME, "maybe"),
    (YES_NO, "'no'", SAME, "no"),
    (Literal["positive", "negative", "neutral"], "positive-ish", SAME, NO),
    (Literal["positive", "negative", "neutral"], "positively", SAME, NO),
    (Literal["positive", "negative", "neutral"], "NEUTRAL.", SAME, "neutral"),
    (NUMBERED, "1.5", SAME, NO),
    (NUMBERED, "3/5", SAME, NO),
    (NUMBERED, "x", "2.5", NO),
    (NUMBERED, "option 3", SAME, 3),
    (LETTER, "This is a good one", SAME, NO),  # "a" as a word of the sentence
    (LETTER, "a or b", SAME, NO),
    (LETTER, "The answer is B.", SAME, "b"),
    (LETTER, "(c)", SAME, "c"),
    (SENTIMENT, "non negative", SAME, NO),
    (SENTIMENT, "neither positive nor negative", SAME, NO),
    (SENTIMENT, "Positive! (not Negative)", SAME, "positive"),
    (SENTIMENT, "positive sentiment, negative tone", SAME, NO),
    (SENTIMENT, "hardly positive", SAME, NO),
    (Level, "HIGH", SAME, Level.HIGH),
    (Level, "1.5", SAME, NO),
    (Level, "x", "true", NO),
    (Color, "GREEN", SAME, Color.GREEN),
    (Color, "reddish", SAME, NO),
    (Color, "green or red", SAME, NO),
    # Optional: None words, and a value that is spelled like one
    (Optional[int], "None", SAME, None),  # noqa: UP045
    (Optional[int], "N/A", SAME, None),  # noqa: UP045
    (Optional[int], "0", "0", 0),  # noqa: UP045
    (Optional[int], "None found", SAME, NO),  # noqa: UP045
    (NONE_LABEL, "none", SAME, "none"),
    (NONE_LABEL, "None", SAME, "none"),
    (NONE_LABEL, "x", "null", None),
    # lists
    (list[int], "1,234", SAME, NO),  # one number with a separator, or two?
    (list[int], "1,000,000", SAME, NO),
    (list[int], "1, 2, 3", SAME, [1, 2, 3]),
    (list[int], "10,20,30", SAME, [10, 20, 30]),
    (list[int], "[1, 2, 'three']", SAME, NO),
    (list[int], "[1, 2, 3", SAME, NO),
    (list[int], "[true, 2]", "[true, 2]", NO),
    (list[list[int]], "[1, 2, 3]", "[1, 2, 3]", NO),  # not [[1], [2], [3]]
    (list[list[int]], "[[1, 2], 3]", "[[1, 2], 3]", NO),
    (list[list[int]], "[[1, 2], [3]]", "[[1, 2], [3]]", [[1, 2], [3]]),
    (dict[str, list[int]], '{"a": 1}', '{"a": 1}', NO),
    (set[int], "[1, 2, 2]", "[1, 2, 2]", {1, 2}),
    (tuple[int, ...], "[1, 2]", "[1, 2]", (1, 2)),
    (tuple[int, str], '[1, "a", 2]', '[1, "a", 2]', NO),
    # objects: pydantic's lax mode (true read as 1) never decides a value
    (dict[str, int], '{"a": true}', '{"a": true}', NO),
    (dict[str, int], '{"a": 1.5}', '{"a": 1.5}', NO),
    (dict[str, int], '{"a": "1"}', '{"a": "1"}', {"a": 1}),
    (dict[str, int], '{"a": 1, "a": 2}', '{"a": 1, "a": 2}', NO),
    (Inner, '{"a": true, "b": ["x"]}', '{"a": true, "b": ["x"]}', NO),
    (Inner, '{"a": "{\\"x\\": 1}", "b": []}', '{"a": "{\\"x\\": 1}", "b": []}', NO),
    (Inner, '{"A": 1, "B": []}', '{"A": 1, "B": []}', Inner(a=1, b=[])),
    (Inner, "[1, 2]", "[1, 2]", NO),
    (
        Outer,
        '{"name": "n", "inner": {"a": 1, "b": []}, "tags": [1, true]}',
        '{"name": "n", "inner": {"a": 1, "b": []}, "tags": [1, true]}',
        NO,
    ),
    (
        Outer,
        '{"name": "n", "inner": {"a": 1, "b": [], "a": 2}}',
        '{"name": "n", "inner": {"a": 1, "b": [], "a": 2}}',
        NO,
    ),
    (list[Inner], '[{"a": true, "b": []}]', '[{"a": true, "b": []}]', NO),
    # unions: a member that reads the value as written wins over one that repairs it
    (int | float, "3.0", SAME, 3.0),
    (int | float, "3", SAME, 3),
    (int | str, "1,234", SAME, "1,234"),
    (bool | str, "yes", SAME, "yes"),
    # dates and times
    (dt.date, "04-05-2024", SAME, NO),  # April 5 or 4 May
    (dt.date, "2024-4-5", SAME, dt.date(2024, 4, 5)),
    (dt.date, "before 2024-04-05", SAME, NO),
    (dt.date, "by March 5, 2024", SAME, NO),
    (dt.date, "It was on 2024-04-05", SAME, dt.date(2024, 4, 5)),
    (dt.date, "13-04-2024", SAME, dt.date(2024, 4, 13)),
    (dt.date, "x", "1712275200", NO),  # seconds, milliseconds, or a count?
    (dt.date, "x", "0", NO),
    (dt.datetime, "x", "1712275200", NO),
    (dt.time, "10", SAME, NO),
    (dt.time, "1030", SAME, NO),
    (dt.time, "10:30", SAME, dt.time(10, 30)),
]

# Values read only by a repair (which must then be recorded), as written in chat.
REPAIRED = {
    "1234 kg",
    "$1,200",
    "1,234.5",
    "about 5",
    "\uff11\uff12\uff13",
    "1_000",
    "\u22125",
    "12345678901234567.0",
    "Yes.",
    "correct",
    "No, but it is close",
    "N/A",
    "Maybe?",
    "'no'",
    "NEUTRAL.",
    "option 3",
    "The answer is B.",
    "(c)",
    "GREEN",
    "HIGH",
    "Positive! (not Negative)",
    "1, 2, 3",
    "10,20,30",
    '{"A": 1, "B": []}',
    "2024-4-5",
    "It was on 2024-04-05",
    "13-04-2024",
}


@dataclass(frozen=True)
class Variant:
    annotation: Any
    form: str
    text: str
    expected: Any


def _signature(annotation: Any) -> type[Signature]:
    namespace = {
        "__annotations__": {"question": str, "value": annotation},
        "__doc__": "Answer.",
        "question": InputField(),
        "value": OutputField(),
    }
    return type("TypesSweep", (Signature,), namespace)


def _render(form: str, written: str, json_text: str | None) -> str:
    if form == "chat":
        return f"[[ ## value ## ]]\n{written}\n\n[[ ## completed ## ]]"
    if form == "xml":
        return f"<value>{written}</value>"
    return '{"value": ' + (json_text if json_text is not None else json.dumps(written)) + "}"


def _variants() -> Iterator[Variant]:
    for annotation, written, json_text, expected in ROWS:
        for form in ("chat", "xml", "json"):
            if written == "x" and form != "json":
                continue  # a row about a JSON value only
            yield Variant(annotation, form, _render(form, written, json_text), expected)


VARIANTS = list(_variants())
ADAPTERS: dict[str, Adapter] = {"chat": ChatAdapter(), "xml": XMLAdapter(), "json": JSONAdapter()}


def _same(got: Any, expected: Any) -> bool:
    if isinstance(expected, float) and math.isnan(expected):
        return False
    return bool(got == expected) and type(got) is type(expected)


def _check(adapter: Adapter, variant: Variant, own: bool) -> None:
    signature = _signature(variant.annotation)
    try:
        result = adapter.parse_with_repairs(signature, variant.text)
    except AdapterParseError as exc:
        assert exc.field == "value", f"the error names no field: {exc}"
        assert exc.expected and exc.reason and exc.raw == variant.text
        return
    got = result.values["value"]
    assert variant.expected is not NO, (
        f"{adapter.name}: {variant.text!r} must be refused, got {got!r} "
        f"({[r.rule for r in result.repairs]})"
    )
    assert _same(got, variant.expected), (
        f"{adapter.name}: {variant.text!r} read as {got!r}, expected {variant.expected!r}"
    )
    if own and variant.form == "chat" and variant.text.split("\n")[1] in REPAIRED:
        assert result.repairs, f"{variant.text!r} was read with no repair recorded"


IDS = [f"{v.form}-{v.annotation}-{v.text[:40]!r}" for v in VARIANTS]


@pytest.mark.parametrize("variant", VARIANTS, ids=IDS)
def test_own_adapter_reads_the_true_value_or_refuses(variant: Variant) -> None:
    _check(ADAPTERS[variant.form], variant, own=True)


@pytest.mark.parametrize("variant", VARIANTS, ids=IDS)
def test_every_other_adapter_reads_the_true_value_or_refuses(variant: Variant) -> None:
    for form, adapter in ADAPTERS.items():
        if form != variant.form:
            _check(adapter, variant, own=False)
    _check(FallbackAdapter(), variant, own=False)
