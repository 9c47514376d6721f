"""XMLAdapter: the tag prompt and parsing of tags as models write them."""

from __future__ import annotations

from typing import Optional

import pytest

from lmbench.adapters import XMLAdapter
from lmbench.errors import AdapterParseError
from lmbench.signatures import Signature

SIG = Signature("question -> answer, score: int")

GOLDEN = """\
--- system ---
Input fields:
1. `question` (str)

Output fields:
1. `answer` (str)
2. `score` (int): an integer

Every message wraps each field in a tag named after it:

<question>
{question}
</question>

<answer>
{answer}
</answer>

<score>
{score}
</score>

Your task: Given the fields `question`, produce the fields `answer`, `score`.

--- user ---
<question>
Best city?
</question>

Respond with `<answer>...</answer>`, then `<score>...</score>` (an integer)."""


def test_render_is_the_exact_prompt() -> None:
    assert XMLAdapter().render(SIG, {"question": "Best city?"}) == GOLDEN


def test_demo_answers_use_tags() -> None:
    messages = XMLAdapter().format(
        SIG, {"question": "x"}, [{"question": "y", "answer": "Oslo", "score": 3}]
    )
    assert messages[1].content == "<question>\ny\n</question>"
    assert messages[2].content == "<answer>\nOslo\n</answer>\n\n<score>\n3\n</score>"


VARIANTS: list[tuple[str, list[str]]] = [
    ("<answer>\nOslo\n</answer>\n<score>\n9\n</score>", []),
    ("<answer>Oslo</answer><score>9</score>", []),
    ("Sure!\n<answer>Oslo</answer>\n<score>9</score>\nThanks.", []),
    ("<Answer>Oslo</Answer>\n<SCORE>9</SCORE>", ["tag_variant"] * 4),
    ("<answer >Oslo</ answer>\n<score>9</score>", ["tag_variant", "tag_variant"]),
    ("<answer>Oslo</answer>\n<score>**9/10**</score>", ["strip_markup", "number_in_prose"]),
    ("<answer>Oslo</answer><answer> Oslo </answer><score>9</score>", ["duplicate_field"]),
    ('<answer type="city">Oslo</answer><score>9</score>', ["tag_variant"]),
]


@pytest.mark.parametrize(("answer", "rules"), VARIANTS)
def test_parses_tags_as_models_write_them(answer: str, rules: list[str]) -> None:
    result = XMLAdapter().parse_with_repairs(SIG, answer)
    assert result.values == {"answer": "Oslo", "score": 9}
    assert [r.rule for r in result.repairs] == rules


def test_markup_inside_a_text_field_is_kept() -> None:
    signature = Signature("question -> html")
    assert XMLAdapter().parse(signature, "<html><b>bold</b> text</html>") == {
        "html": "<b>bold</b> text"
    }


def test_a_missing_tag_is_an_error_for_its_field() -> None:
    with pytest.raises(AdapterParseError) as info:
        XMLAdapter().parse(SIG, "<answer>Oslo</answer>")
    error = info.value
    assert (error.adapter, error.field, error.reason) == (
        "XMLAdapter",
        "score",
        "no <score> tag in the answer",
    )
    assert error.parsed == {"answer": "Oslo"}


def test_a_bad_value_has_its_span() -> None:
    answer = "<answer>Oslo</answer><score>many</score>"
    with pytest.raises(AdapterParseError) as info:
        XMLAdapter().parse(SIG, answer)
    assert info.value.span is not None
    assert answer[info.value.span[0] : info.value.span[1]] == "many"


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        ("<ans", {}),
        ("<answer>Os", {"answer": "Os"}),
        ("<answer>Oslo</ans", {"answer": "Oslo"}),
        ("<answer>Oslo</answer>\n<score>", {"answer": "Oslo", "score": ""}),
        ("<answer>Oslo</answer>\n<score>9", {"answer": "Oslo", "score": "9"}),
    ],
)
def test_partial_fields_while_streaming(text: str, fields: dict[str, str]) -> None:
    assert XMLAdapter().partial_fields(SIG, text) == fields


# -- XML's rules inside fields ----------------------------------------------------------------

TEXT = Signature("question -> answer")
LIST = Signature("question -> tags: list[str], count: int")


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("AT&amp;T", "AT&T"),
        ("x &lt; y &amp;&amp; y &gt; z", "x < y && y > z"),
        ("caf&#233; &#xE9;t&#XE9;", "café été"),
        ("&quot;quoted&quot; &apos;single&apos;", "\"quoted\" 'single'"),
        ("a&nbsp;b", "a\xa0b"),
        ("R&D and AT&T", "R&D and AT&T"),  # a bare & starts no reference: kept
        ("&unknownentity; stays", "&unknownentity; stays"),
        ("&amp;lt; once", "&lt; once"),  # unescaped once, not twice
        ("<![CDATA[a <b> & </answer> c]]>", "a <b> & </answer> c"),
        ("<![CDATA[x &amp; y]]>", "x &amp; y"),  # CDATA is verbatim
        ("before <![CDATA[<in>]]> after &amp; end", "before <in> after & end"),
        ("Oslo<!-- a comment -->", "Oslo"),
        ("Use <code>x &lt; y</code> here", "Use <code>x < y</code> here"),
    ],
)
def test_fields_are_read_by_xml_rules(written: str, value: str) -> None:
    assert XMLAdapter().parse(TEXT, f"<answer>{written}</answer>") == {"answer": value}


@pytest.mark.parametrize(
    ("written", "items"),
    [
        ("<item>a</item><item>b</item>", ["a", "b"]),
        ("\n  <item>a &amp; b</item>\n  <item> c </item>\n", ["a & b", "c"]),
        ("<item>only</item>", ["only"]),
        ("<tag>x</tag><tag>y</tag><tag>z</tag>", ["x", "y", "z"]),
        ("<li><![CDATA[<raw>]]></li><li>b</li>", ["<raw>", "b"]),
        ('["a", "b"]', ["a", "b"]),  # JSON inside the element still works
        ("- a\n- b", ["a", "b"]),
    ],
)
def test_list_items_as_repeated_child_elements(written: str, items: list[str]) -> None:
    result = XMLAdapter().parse_with_repairs(LIST, f"<tags>{written}</tags><count>2</count>")
    assert result.values == {"tags": items, "count": 2}


def test_child_elements_of_an_object_field_are_its_keys() -> None:
    from pydantic import BaseModel

    class City(BaseModel):
        name: str
        population: int
        tags: list[str]

    signature = Signature("question -> city: City", types={"City": City})
    text = (
        "<city><name>Oslo &amp; co</name><population>700000</population>"
        "<tags>a</tags><tags>b</tags></city>"
    )
    assert XMLAdapter().parse(signature, text) == {
        "city": City(name="Oslo & co", population=700000, tags=["a", "b"])
    }


def test_a_wrapper_element_and_prose_around_the_fields_are_tolerated() -> None:
    text = "Here:\n```xml\n<response>\n<answer>Oslo</answer>\n<score>9</score>\n</response>\n```"
    assert XMLAdapter().parse(SIG, text) == {"answer": "Oslo", "score": 9}


def test_a_self_closing_field_is_empty() -> None:
    signature = Signature(
        "question -> answer, note, n: Optional[int]", types={"Optional": Optional}
    )
    assert XMLAdapter().parse(signature, "<answer>x</answer><note/><n />") == {
        "answer": "x",
        "note": "",
        "n": None,
    }


REFUSED: list[tuple[str, str, str]] = [
    ("<answer>Oslo\n<score>9</score>", "answer", "not closed before <score>"),
    ("<answer>Oslo</answer>\n<score>9", "score", "never closed"),
    ("<answer>Oslo</score><score>9</score>", "answer", "</score> closes <answer>"),
    ("<answer>Oslo</answr>\n<score>9</score>", "answer", "not closed before"),
    ("<answer>Oslo</answer></answer><score>9</score>", "answer", "closes no open"),
    ("Oslo</answer><score>9</score>", "answer", "closes no open"),
    ("<answer><![CDATA[Oslo</answer><score>9</score>", "answer", "CDATA"),
    ("<answer>Oslo<answer>Bergen</answer><score>9</score>", "answer", "not closed before"),
    ("<answer>Oslo</answer><score>9</ score", "score", "never closed"),
]


@pytest.mark.parametrize(("text", "field", "reason"), REFUSED)
def test_structure_that_cannot_be_recovered_is_refused(text: str, field: str, reason: str) -> None:
    with pytest.raises(AdapterParseError) as info:
        XMLAdapter().parse(SIG, text)
    error = info.value
    assert (error.adapter, error.field) == ("XMLAdapter", field)
    assert reason in error.reason
    assert error.raw == text
    assert error.expected == {"answer": "str", "score": "int"}[field]


def test_a_list_field_with_mixed_children_is_not_guessed_into_items() -> None:
    signature = Signature("question -> numbers: list[int]")
    with pytest.raises(AdapterParseError) as info:
        XMLAdapter().parse(signature, "<numbers><a>1</a><b>two</b></numbers>")
    assert info.value.field == "numbers"
    assert "several names (<a>, <b>)" in info.value.reason


def test_streaming_keeps_an_open_element_open() -> None:
    adapter = XMLAdapter()
    assert adapter.partial_fields(TEXT, "<answer>AT&amp;T and") == {"answer": "AT&T and"}
    assert adapter.partial_fields(LIST, "<tags><item>a</item><item>b") == {
        "tags": "<item>a</item><item>b"
    }
