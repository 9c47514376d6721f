"""Finding JSON in a model's text: where it can start, what a repair may return."""

from __future__ import annotations

import pytest

from lmbench.adapters.jsontext import load_json, read_scalar
from lmbench.adapters.scalars import CoercionError


@pytest.mark.parametrize(
    "text",
    [
        "[[ ## reasoning ## ]]\nnothing here\n[[ ## completed ## ]]",
        "[Note: see above] and [citation needed]",
        "{{template}} text",
        "[ ## ]",
        "[[ ## answer ## ]]",
    ],
)
def test_text_that_holds_no_json_is_refused(text: str) -> None:
    with pytest.raises(CoercionError):
        load_json(text, "object")


@pytest.mark.parametrize(
    ("text", "expect", "value"),
    [
        ('He said {x}. {"a": 1}', "object", {"a": 1}),
        ('{"a": {"b": 1}, broken', "object", {"a": {"b": 1}}),  # repaired, not the inner object
        ("```python\nx = [1, 2]\n```\n[3]", "array", [3]),
        ('```json\n{"a": 1,}\n```', "object", {"a": 1}),
        ("Items: [1, 2] done", "array", [1, 2]),
        ("['it's', 'ok']", "array", ["it's", "ok"]),
    ],
)
def test_json_is_found_where_it_starts(text: str, expect: str, value: object) -> None:
    assert load_json(text, expect)[0] == value  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "value"),
    [("42", 42), ('"x"', "x"), ("false", False), ("null", None), ("```\n1.5\n```", 1.5)],
)
def test_read_scalar_takes_a_whole_json_scalar(text: str, value: object) -> None:
    found = read_scalar(text)
    assert found is not None and found[0] == value


@pytest.mark.parametrize("text", ["the answer is 42", "42 apples", "{}", "[1]", "Paris", ""])
def test_read_scalar_refuses_anything_else(text: str) -> None:
    assert read_scalar(text) is None
