"""``-f`` formats: fences stripped, dollars escaped for MathJax, JSON parsed."""

from __future__ import annotations

from lmbench.notebook.formats import ResponseView, escape_markdown_math, strip_fences


def test_strip_fences_takes_the_code_out_of_one_fenced_block() -> None:
    assert strip_fences("```python\nx = 1\n```") == "x = 1"
    assert strip_fences("\n```\na\nb\n```\n") == "a\nb"
    assert strip_fences("not fenced") == "not fenced"


def test_dollars_are_escaped_once() -> None:
    assert escape_markdown_math("$5 and \\$6") == "\\$5 and \\$6"


def test_json_that_does_not_parse_is_shown_as_text() -> None:
    bundle = ResponseView("{not json", "json")._repr_mimebundle_()
    assert "application/json" not in bundle and "{not json" in bundle["text/html"]
