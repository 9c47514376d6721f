"""Chat markers: only a marker that starts its line is a field header."""

from __future__ import annotations

import pytest

from lmbench.adapters import ChatAdapter, FallbackAdapter
from lmbench.errors import AdapterParseError
from lmbench.signatures import Signature

QA = Signature("question -> answer")
COT = Signature("question -> reasoning, answer")


@pytest.mark.parametrize(
    "value",
    [
        "Write [[ ## answer ## ]] before the value.",
        "Mid-line [[ ## answer ## ]] then more",
        "Ends with a quoted marker [[ ## answer ## ]].",
        "The marker [[## answer ##]] is loose too",
        "Both [[ ## question ## ]] and [[ ## completed ## ]] appear here, then text.",
    ],
)
def test_a_marker_quoted_in_a_value_stays_in_the_value(value: str) -> None:
    text = f"[[ ## answer ## ]]\n{value}\n\n[[ ## completed ## ]]"
    assert ChatAdapter().parse(QA, text) == {"answer": value}


def test_a_marker_quoted_in_another_field_does_not_start_this_field() -> None:
    text = (
        "[[ ## reasoning ## ]]\nI will write [[ ## answer ## ]] 5, no, 6.\n\n"
        "[[ ## answer ## ]]\n6\n\n[[ ## completed ## ]]"
    )
    assert ChatAdapter().parse(COT, text) == {
        "reasoning": "I will write [[ ## answer ## ]] 5, no, 6.",
        "answer": "6",
    }


@pytest.mark.parametrize(
    "text",
    [
        "The format is [[ ## answer ## ]] Paris",
        "I think [[ ## answer ## ]]\nParis",
        "[[ ## reasoning ## ]]\nThe reply would be [[ ## answer ## ]] Paris\n[[ ## completed ## ]]",
    ],
)
def test_a_marker_only_in_prose_is_refused_not_read(text: str) -> None:
    with pytest.raises(AdapterParseError) as info:
        ChatAdapter().parse(QA, text)
    assert (info.value.field, info.value.expected) == ("answer", "str")
    assert info.value.raw == text


@pytest.mark.parametrize(
    ("text", "rules"),
    [
        ("   [[ ## answer ## ]]\nParis", ["indented_marker", "missing_completed"]),
        ("\t[[ ## answer ## ]] Paris\n[[ ## completed ## ]]", ["indented_marker"]),
        ("[[ ## answer ## ]] Paris [[ ## completed ## ]]", ["inline_marker"]),
        ("[[ ## answer ## ]]\nParis [[ ## completed ## ]]  \n", ["inline_marker"]),
    ],
)
def test_markers_starting_their_line_still_count(text: str, rules: list[str]) -> None:
    result = ChatAdapter().parse_with_repairs(QA, text)
    assert result.values == {"answer": "Paris"}
    assert [r.rule for r in result.repairs] == rules


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # marker text is never turned into a value by the JSON fallback
        ("[[ ## reasoning ## ]]\nthinking hard\n\n[[ ## completed ## ]]", "JSONAdapter"),
        ("[[ ## reasoning ## ]]\nwe have [1, 2, 3]\n[[ ## completed ## ]]", "JSONAdapter"),
        ("[[ ## reasoning ## ]]\n[[ ## completed ## ]]", "JSONAdapter"),
        ("[[ ## answr ## ]]\n[]\n[[ ## completed ## ]]", "JSONAdapter"),
        # JSON inside another section is not the answer
        (
            '[[ ## reasoning ## ]]\nThe JSON would be {"answer": "Lyon"}.\n[[ ## completed ## ]]',
            "marked sections",
        ),
        ('[[ ## notes ## ]]\n{"answer": "Lyon"}', "marked sections"),
    ],
)
def test_the_json_fallback_reads_no_value_out_of_marked_text(text: str, reason: str) -> None:
    with pytest.raises(AdapterParseError) as info:
        FallbackAdapter().parse(QA, text)
    assert reason in info.value.reason and info.value.raw == text


def test_json_after_echoed_input_markers_is_still_read() -> None:
    text = '[[ ## question ## ]]\nCapital?\n\n{"answer": "Paris"}'
    assert FallbackAdapter().parse(QA, text) == {"answer": "Paris"}
