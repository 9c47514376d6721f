"""Reading %%predict cell bodies: fields, blocks, interpolation, objects, types, errors."""

from __future__ import annotations

from typing import Literal

import pytest

from lmbench.notebook.cell_inputs import CellError, check_complete, coerce_inputs, parse_cell
from lmbench.signatures import Signature


def _values(body: str, **namespace: object) -> dict[str, object]:
    return {v.name: v.value for v in parse_cell(body, namespace)}


def test_fields_one_per_line_with_comments_and_blank_lines() -> None:
    body = "# the question\nquestion: What is 2 + 2?\n\ncontext:   spaces kept inside  \n"
    assert _values(body) == {"question": "What is 2 + 2?", "context": "spaces kept inside"}


def test_an_empty_value_is_an_empty_string() -> None:
    assert _values("note:") == {"note": ""}


def test_block_values_are_dedented_and_end_at_the_next_field() -> None:
    body = (
        "context: |\n    first line\n      indented more\n\n    after a blank\n\nquestion: Why?\n"
    )
    assert _values(body) == {
        "context": "first line\n  indented more\n\nafter a blank",
        "question": "Why?",
    }


def test_interpolation_of_variables_and_attributes() -> None:
    class Person:
        name = "Ada"

    body = "question: Who is {who.name} and what is {n}?"
    assert _values(body, who=Person(), n=3) == {"question": "Who is Ada and what is 3?"}


def test_json_and_escaped_braces_are_left_as_text() -> None:
    body = 'payload: {"a": 1}\nrule: use {{name}} literally'
    assert _values(body) == {"payload": '{"a": 1}', "rule": "use {name} literally"}


def test_dollar_passes_the_python_object() -> None:
    passages = ["one", "two"]
    (value,) = parse_cell("context: $passages", {"passages": passages})
    assert value.value is passages and value.is_text is False


@pytest.mark.parametrize(
    ("body", "line", "fragment"),
    [
        ("question: hi {missing}", 1, "unknown variable 'missing'"),
        ("a: 1\ncontext: $nothing", 2, "unknown variable 'nothing'"),
        ("a: {n.nope}", 1, "no attribute 'nope'"),
        ("question: x\nquestion: y", 2, "given twice (first on line 1)"),
        ("just some text", 1, "expected 'field: value'"),
        ("two words: value", 1, "'two words' is not a field name"),
        ("a: 1\n  stray indented line", 2, "expected 'field: value'"),
    ],
)
def test_mistakes_name_the_line(body: str, line: int, fragment: str) -> None:
    with pytest.raises(CellError) as caught:
        parse_cell(body, {"n": 1})
    assert caught.value.line == line
    assert fragment in caught.value.message
    assert caught.value.source == body.splitlines()[line - 1]


SIG = Signature(
    "question, n: int, tags: list[str], mood: Literal['up', 'down'], flag: bool -> answer",
    types={"Literal": Literal},
)


def test_text_is_converted_to_each_field_type() -> None:
    body = "question: 12\nn: 3\ntags: [\"a\", 'b']\nmood: up\nflag: true"
    assert coerce_inputs(parse_cell(body, {}), SIG) == {
        "question": "12",
        "n": 3,
        "tags": ["a", "b"],
        "mood": "up",
        "flag": True,
    }


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("n: three", "field 'n' expects int, got 'three'"),
        ("mood: sideways", "field 'mood' expects Literal['up', 'down']"),
        ("colour: red", "unknown field 'colour'; the inputs of"),
        ("answer: 4", "unknown field 'answer' (it is an output field)"),
    ],
)
def test_values_that_do_not_fit_are_reported_with_their_line(body: str, fragment: str) -> None:
    with pytest.raises(CellError) as caught:
        coerce_inputs(parse_cell("question: q\n" + body, {}), SIG)
    assert fragment in caught.value.message
    assert caught.value.line == 2


def test_missing_inputs_name_the_fix() -> None:
    with pytest.raises(
        CellError,
        match=r"missing input\(s\) \['n', 'tags', 'mood', 'flag'\]: add a line 'n: \.\.\.'",
    ):
        check_complete(SIG, {"question"})
    with pytest.raises(CellError, match="or a column of that name to df"):
        check_complete(SIG, {"question"}, frame="df")
    check_complete(SIG, set(SIG.input_fields))
