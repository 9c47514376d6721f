"""XMLAdapter: the tag prompt and parsing of tags as models write them."""

from __future__ import annotations

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
    ("<answer>Oslo</answer><answer>Bergen</answer><score>9</score>", ["duplicate_field"]),
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
