"""``coerce``: values as models really write them -> typed values, with the repair that took."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Annotated, Any, Literal, Optional, Union

import pytest
from pydantic import BaseModel, Field

from lmbench.adapters import Repair, coerce
from lmbench.errors import AdapterParseError
from lmbench.signatures import FieldSpec


class Sentiment(enum.Enum):
    POSITIVE = "positive"
    NEGATIVE = "negative"


class Level(enum.Enum):
    LOW = 1
    HIGH = 2


class Address(BaseModel):
    city: str
    zip_code: str


class Person(BaseModel):
    name: str
    age: int
    address: Address | None = None


# (text or value, annotation, expected value, expected repair rules in order)
CASES: list[tuple[Any, Any, Any, list[str]]] = [
    # well-formed values: no repair
    ("42", int, 42, []),
    (" 42 \n", int, 42, []),
    ("0.75", float, 0.75, []),
    (3, float, 3.0, []),
    ("true", bool, True, []),
    ("False", bool, False, []),
    ("positive", Literal["positive", "negative"], "positive", []),
    ("positive", Sentiment, Sentiment.POSITIVE, []),
    ("2024-03-05", dt.date, dt.date(2024, 3, 5), []),
    ("2024-03-05T14:30:00", dt.datetime, dt.datetime(2024, 3, 5, 14, 30), []),
    ('["a", "b"]', list[str], ["a", "b"], []),
    ('{"a": 1}', dict[str, int], {"a": 1}, []),
    ("None", int | None, None, []),
    ("null", str | None, None, []),
    # numbers inside prose and decorations
    ("High (95%)", int, 95, ["number_in_prose"]),
    ("about 0.8", float, 0.8, ["number_in_prose"]),
    ("1,234", int, 1234, ["thousands_separator"]),
    ("$1,234,567.50", float, 1234567.5, ["thousands_separator", "number_in_prose"]),
    ("**42**", int, 42, ["strip_markup"]),
    ("`7`", int, 7, ["strip_markup"]),
    ("42.", int, 42, ["strip_markup"]),
    ("8/10", int, 8, ["number_in_prose"]),
    ("7 out of 10", int, 7, ["number_in_prose"]),
    ("3.0", int, 3, ["whole_float"]),
    (3.0, int, 3, ["whole_float"]),
    ("The score is -2.", int, -2, ["strip_markup", "number_in_prose"]),
    ("1e3", float, 1000.0, []),
    ("2.50", Decimal, Decimal("2.50"), []),
    ("USD 2.50", Decimal, Decimal("2.50"), ["number_in_prose"]),
    # booleans
    ("yes", bool, True, ["bool_word"]),
    ("No.", bool, False, ["strip_markup", "bool_word"]),
    ("Yes, the claim holds", bool, True, ["bool_in_prose"]),
    ("1", bool, True, ["bool_word"]),
    ("**True**", bool, True, ["strip_markup"]),
    (0, bool, False, ["bool_from_number"]),
    # Literal and Enum values
    ("Positive", Literal["positive", "negative"], "positive", ["value_case"]),
    ("  NEGATIVE ", Sentiment, Sentiment.NEGATIVE, ["value_case"]),
    ('"positive"', Literal["positive", "negative"], "positive", ["strip_markup"]),
    (" positive\n", Literal["positive", "negative"], "positive", []),
    ("very_good", Literal["very good", "bad"], "very good", ["value_case"]),
    ("POSITIVE", Sentiment, Sentiment.POSITIVE, ["value_case"]),
    ("HIGH", Level, Level.HIGH, ["enum_name"]),
    ("2", Level, Level.HIGH, []),
    ("The review is clearly positive.", Sentiment, Sentiment.POSITIVE, ["choice_in_prose"]),
    ("not negative, rather positive", Sentiment, Sentiment.POSITIVE, ["choice_in_prose"]),
    ("3", Literal[1, 2, 3], 3, []),
    # lists written as text
    ("- apples\n- pears", list[str], ["apples", "pears"], ["bullet_list"]),
    ("* one\n* two\n* three", list[str], ["one", "two", "three"], ["bullet_list"]),
    ("1. first\n2) second", list[str], ["first", "second"], ["numbered_list"]),
    ("Here they are:\n- a\n- b", list[str], ["a", "b"], ["bullet_list"]),
    (
        "- a long item\n  that wraps\n- b",
        list[str],
        ["a long item that wraps", "b"],
        ["bullet_list"],
    ),
    ("red, green, blue", list[str], ["red", "green", "blue"], ["comma_list"]),
    ('"x", "y"', list[str], ["x", "y"], ["comma_list"]),
    ("1, 2, 3", list[int], [1, 2, 3], ["comma_list"]),
    ("alpha\nbeta", list[str], ["alpha", "beta"], ["line_list"]),
    ("solo", list[str], ["solo"], ["single_item_list"]),
    ("", list[str], [], []),
    ("```json\n[1, 2]\n```", list[int], [1, 2], ["code_fence"]),
    ("The list is [1, 2, 3].", list[int], [1, 2, 3], ["json_in_prose"]),
    ("[1, 2, 3,]", list[int], [1, 2, 3], ["json_repair"]),
    ("['a', 'b']", list[str], ["a", "b"], ["python_literal"]),
    ('["1", "2"]', set[int], {1, 2}, []),
    ([1, 2], list[str], ["1", "2"], ["value_to_string", "value_to_string"]),
    # dates and times
    ("March 5, 2024", dt.date, dt.date(2024, 3, 5), ["date_format"]),
    ("5 March 2024", dt.date, dt.date(2024, 3, 5), ["date_format"]),
    ("Tuesday, March 5th, 2024", dt.date, dt.date(2024, 3, 5), ["date_format"]),
    ("2024/03/05", dt.date, dt.date(2024, 3, 5), ["date_format"]),
    ("31/12/2024", dt.date, dt.date(2024, 12, 31), ["date_format"]),
    ("It happened on 2024-03-05 at noon", dt.date, dt.date(2024, 3, 5), ["date_in_prose"]),
    ("2024-03-05T10:00:00", dt.date, dt.date(2024, 3, 5), ["datetime_to_date"]),
    ("March 5, 2024 2:30 PM", dt.datetime, dt.datetime(2024, 3, 5, 14, 30), ["datetime_format"]),
    ("2024-03-05", dt.datetime, dt.datetime(2024, 3, 5), ["date_only"]),
    ("3:30 PM", dt.time, dt.time(15, 30), ["time_format"]),
    # Optional fields
    ("N/A", int | None, None, ["null_word"]),
    ("unknown", float | None, None, ["null_word"]),
    ("N/A", str | None, "N/A", []),
    ("about 5", int | None, 5, ["number_in_prose"]),
    (None, dt.date | None, None, []),
    # JSON objects and models
    ('{"name": "Ann", "age": 41}', Person, Person(name="Ann", age=41), []),
    (
        '```json\n{"name": "Ann", "age": "41"}\n```',
        Person,
        Person(name="Ann", age=41),
        ["code_fence"],
    ),
    (
        "{'name': 'Ann', 'age': 41, 'address': None}",
        Person,
        Person(name="Ann", age=41),
        ["python_literal"],
    ),
    ('{"name": "Ann", "age": 41,}', Person, Person(name="Ann", age=41), ["json_repair"]),
    (
        'Here you go: {"name": "Ann", "age": 41} Hope it helps!',
        Person,
        Person(name="Ann", age=41),
        ["json_in_prose"],
    ),
    (
        '{"Name": "Ann", "AGE": "about 41"}',
        Person,
        Person(name="Ann", age=41),
        ["key_case", "key_case", "number_in_prose"],
    ),
    (
        '{"name": "Ann", "age": 41, "address": {"city": "Oslo", "Zip Code": 150}}',
        Person,
        Person(name="Ann", age=41, address=Address(city="Oslo", zip_code="150")),
        ["key_case", "value_to_string"],
    ),
    ({"name": "Ann", "age": 41.0}, Person, Person(name="Ann", age=41), ["whole_float"]),
    ('{"a": "1", "b": "two (2)"}', dict[str, int], {"a": 1, "b": 2}, ["number_in_prose"]),
    # text fields receiving other JSON values
    (42, str, "42", ["value_to_string"]),
    (["a", "b"], str, "a\nb", ["list_joined"]),
    ([["a"], "b"], str, '[["a"], "b"]', ["value_to_string"]),
    # unions and Annotated
    ("42", int | str, 42, []),
    ("forty", int | str, "forty", []),
    ("**9**", Annotated[int, Field(le=10)], 9, ["strip_markup"]),
]


@pytest.mark.parametrize(("raw", "annotation", "expected", "rules"), CASES)
def test_coerces_what_models_write(
    raw: Any, annotation: Any, expected: Any, rules: list[str]
) -> None:
    value, repairs = coerce(raw, annotation, "field")
    assert value == expected
    assert type(value) is type(expected)
    assert [r.rule for r in repairs] == rules
    assert all(r.field == "field" for r in repairs)


# (text, annotation, expected type in the error, words the reason must contain)
FAILURES: list[tuple[Any, Any, str, str]] = [
    ("lots", int, "int", "contains no number"),
    ("3 or 5", int, "int", "several numbers (3, 5)"),
    ("3.5", int, "int", "3.5 is not a whole number"),
    ("maybe", bool, "bool", "is not true/false"),
    (
        "neutral",
        Literal["positive", "negative"],
        "Literal['positive', 'negative']",
        "is not one of: positive, negative",
    ),
    ("both positive and negative", Sentiment, "Sentiment", "names several allowed values"),
    (
        "not positive",
        Literal["positive", "negative"],
        "Literal['positive', 'negative']",
        "is not one of",
    ),
    ("someday", dt.date, "date", "is not a date"),
    ("2024-01-01 or 2024-02-02", dt.date, "date", "several dates"),
    ("no json here", Person, "Person", "no JSON object found"),
    ('{"name": "Ann"}', Person, "Person", "age: Field required"),
    ("[1, 2]", Person, "Person", "expected a JSON object for Person"),
    (None, str, "str", "got null"),
    (True, int, "int", "got the boolean True"),
    ("not a number", int | None, "int | None", "contains no number"),
    ("forty", int | float, "int | float", "matches none of the types"),
]


@pytest.mark.parametrize(("raw", "annotation", "expected", "reason"), FAILURES)
def test_unrecoverable_values_raise(raw: Any, annotation: Any, expected: str, reason: str) -> None:
    with pytest.raises(AdapterParseError) as info:
        coerce(raw, annotation, "field", adapter="TestAdapter")
    error = info.value
    assert (error.adapter, error.field, error.expected) == ("TestAdapter", "field", expected)
    assert reason in error.reason


def test_constraints_of_a_field_spec_are_checked() -> None:
    spec = FieldSpec("score", "output", int, constraints=(("ge", 0), ("le", 10)))
    assert coerce("Score: 7", int, spec)[0] == 7
    with pytest.raises(AdapterParseError) as info:
        coerce("11", int, spec)
    assert info.value.field == "score"
    assert info.value.expected == "int (>= 0, <= 10)"
    assert info.value.reason == "11 breaks the constraint <= 10"
    assert info.value.raw == "11"


def test_length_constraints_apply_to_lists() -> None:
    spec = FieldSpec("tags", "output", list[str], constraints=(("max_length", 2),))
    with pytest.raises(AdapterParseError) as info:
        coerce("a, b, c", list[str], spec)
    assert info.value.expected == "list[str] (length <= 2)"


def test_repairs_inside_nested_values_name_their_path() -> None:
    _, repairs = coerce('[{"name": "Ann", "age": "about 41"}]', list[Person], "people")
    assert repairs == [Repair("number_in_prose", "people", "[0].age: read 41 from 'about 41'")]


def test_unhashable_annotations_are_coerced_without_the_cache() -> None:
    annotation = Annotated[int, {"unhashable": []}]
    assert coerce("5", annotation)[0] == 5


def test_typing_optional_and_union_work_like_their_pipe_forms() -> None:
    assert coerce("N/A", Optional[int])[0] is None  # noqa: UP045
    assert coerce("forty", Union[int, str])[0] == "forty"  # noqa: UP007


def test_other_constraints_are_checked_by_pydantic() -> None:
    spec = FieldSpec("code", "output", str, constraints=(("pattern", r"^[A-Z]{3}$"),))
    assert coerce("ABC", str, spec)[0] == "ABC"
    with pytest.raises(AdapterParseError) as info:
        coerce("abcd", str, spec)
    assert info.value.reason == (
        "'abcd' breaks the constraints matching the pattern '^[A-Z]{3}$': "
        "String should match pattern '^[A-Z]{3}$'"
    )


# -- opt-in readings: qualitative numbers and enum aliases --------------------------------------

CONFIDENCE = FieldSpec("confidence", "output", float, qualitative=(("high", 0.9), ("low", 0.1)))


@pytest.mark.parametrize(
    ("written", "value"),
    [("high", 0.9), ("High", 0.9), ("**HIGH**", 0.9), ("low.", 0.1), ("0.7", 0.7)],
)
def test_qualitative_words_are_read_when_the_field_opts_in(written: str, value: float) -> None:
    result, repairs = coerce(written, float, CONFIDENCE)
    assert result == value
    if written != "0.7":
        assert repairs[-1] == Repair("qualitative_number", "confidence", repairs[-1].detail)
        assert str(value) in repairs[-1].detail


@pytest.mark.parametrize("written", ["highish", "very much", "high or low", "medium"])
def test_words_outside_the_scale_are_refused(written: str) -> None:
    with pytest.raises(AdapterParseError) as info:
        coerce(written, float, CONFIDENCE)
    assert info.value.field == "confidence" and info.value.raw == written
    assert "['high', 'low']" in info.value.reason


def test_qualitative_words_are_refused_without_opting_in() -> None:
    with pytest.raises(AdapterParseError):
        coerce("high", float, FieldSpec("confidence", "output", float))


def test_qualitative_scale_for_int_and_decimal_fields() -> None:
    spec = FieldSpec("score", "output", int, qualitative=(("high", 9), ("low", 2)))
    assert coerce("High", int, spec)[0] == 9
    money = FieldSpec("m", "output", Decimal, qualitative=(("high", 0.9),))
    assert coerce("high", Decimal, money)[0] == Decimal("0.9")


def test_qualitative_values_still_meet_the_constraints() -> None:
    spec = FieldSpec("c", "output", float, constraints=(("le", 0.5),), qualitative=(("high", 0.9),))
    with pytest.raises(AdapterParseError) as info:
        coerce("high", float, spec)
    assert "<= 0.5" in info.value.reason


MOOD = FieldSpec(
    "mood",
    "output",
    Literal["positive", "negative"],
    aliases=(("pos", "positive"), ("+", "positive"), ("thumbs down", "negative")),
)


@pytest.mark.parametrize(
    ("written", "value"),
    [("pos", "positive"), ("POS", "positive"), ("+", "positive"), ("Thumbs-Down", "negative")],
)
def test_aliases_name_allowed_values(written: str, value: str) -> None:
    result, repairs = coerce(written, MOOD.annotation, MOOD)
    assert result == value
    assert [(r.rule, r.field) for r in repairs][-1] == ("enum_alias", "mood")


def test_aliases_of_an_enum_field_by_value_or_member() -> None:
    spec = FieldSpec(
        "s", "output", Sentiment, aliases=(("good", "positive"), ("bad", Sentiment.NEGATIVE))
    )
    assert coerce("good", Sentiment, spec)[0] is Sentiment.POSITIVE
    assert coerce("Bad", Sentiment, spec)[0] is Sentiment.NEGATIVE


@pytest.mark.parametrize("written", ["posi", "neutral", "- "])
def test_unknown_words_are_still_refused_with_aliases(written: str) -> None:
    with pytest.raises(AdapterParseError) as info:
        coerce(written, MOOD.annotation, MOOD)
    assert info.value.field == "mood"


def test_aliases_apply_to_items_of_a_list_of_choices() -> None:
    spec = FieldSpec(
        "moods", "output", list[Literal["positive", "negative"]], aliases=(("pos", "positive"),)
    )
    assert coerce("pos, negative", spec.annotation, spec)[0] == ["positive", "negative"]
