"""ChatAdapter: the exact prompt, demos, history and media, and parsing of real-world answers."""

from __future__ import annotations

import datetime as dt
import enum
import logging
from typing import Literal, Optional

import pytest
from pydantic import BaseModel

from lmbench.adapters import AdapterResult, ChatAdapter, FieldDelta
from lmbench.errors import AdapterParseError
from lmbench.lm.scripted import ScriptedLM
from lmbench.media import Image
from lmbench.primitives import Conversation as History
from lmbench.primitives import Example
from lmbench.settings import context
from lmbench.signatures import InputField, OutputField, Signature

QA = Signature(
    "question, context: list[str] -> answer: int", instructions="Answer from the context."
)

GOLDEN_SYSTEM = """\
Input fields:
1. `question` (str)
2. `context` (list[str])

Output fields:
1. `answer` (int): an integer

Every message gives each field on a line of its own, marked like [[ ## name ## ]], with the \
value below it. An answer ends with [[ ## completed ## ]]. Laid out:

[[ ## question ## ]]
{question}

[[ ## context ## ]]
{context}

[[ ## answer ## ]]
{answer}

[[ ## completed ## ]]

Your task: Answer from the context."""

GOLDEN_USER = """\
[[ ## question ## ]]
How many?

[[ ## context ## ]]
["a", "b"]

Respond with `[[ ## answer ## ]]` (an integer), then `[[ ## completed ## ]]`."""


def test_render_is_the_exact_prompt() -> None:
    text = ChatAdapter().render(QA, {"question": "How many?", "context": ["a", "b"]})
    assert text == f"--- system ---\n{GOLDEN_SYSTEM}\n\n--- user ---\n{GOLDEN_USER}"


def test_format_gives_a_system_and_a_user_message() -> None:
    messages = ChatAdapter().format(QA, {"question": "How many?", "context": ["a", "b"]})
    assert [(m.role, m.content) for m in messages] == [
        ("system", GOLDEN_SYSTEM),
        ("user", GOLDEN_USER),
    ]


def test_demos_are_earlier_turns_without_the_reminder() -> None:
    demos = [
        {"question": "Two?", "context": ["x"], "answer": 2},
        Example(question="One?", context=[], answer=1).with_inputs("question", "context"),
        {"question": "No answer here"},  # no output field: only the user turn
    ]
    messages = ChatAdapter().format(QA, {"question": "How many?", "context": []}, demos)
    assert [m.role for m in messages] == [
        "system",
        "user",
        "assistant",
        "user",
        "assistant",
        "user",
        "user",
    ]
    assert messages[1].content == '[[ ## question ## ]]\nTwo?\n\n[[ ## context ## ]]\n["x"]'
    assert messages[2].content == "[[ ## answer ## ]]\n2\n\n[[ ## completed ## ]]"
    assert messages[4].content == "[[ ## answer ## ]]\n1\n\n[[ ## completed ## ]]"
    assert messages[5].content == "[[ ## question ## ]]\nNo answer here"
    assert messages[-1].content.endswith("then `[[ ## completed ## ]]`.")


class Chat(Signature):
    """Reply to the user."""

    history: History = InputField()
    message: str = InputField()
    reply: str = OutputField()


def test_history_turns_come_before_the_current_message() -> None:
    history = History(
        [{"message": "Hi", "reply": "Hello!"}, {"message": "Name?", "reply": "Bench."}]
    )
    messages = ChatAdapter().format(Chat, {"history": history, "message": "Bye"})
    assert [(m.role, m.content) for m in messages[1:]] == [
        ("user", "[[ ## message ## ]]\nHi"),
        ("assistant", "[[ ## reply ## ]]\nHello!\n\n[[ ## completed ## ]]"),
        ("user", "[[ ## message ## ]]\nName?"),
        ("assistant", "[[ ## reply ## ]]\nBench.\n\n[[ ## completed ## ]]"),
        (
            "user",
            "[[ ## message ## ]]\nBye\n\nRespond with `[[ ## reply ## ]]`, then `[[ ## completed ## ]]`.",
        ),
    ]
    system = messages[0].content
    assert "history" not in system  # the history is turns, not a field to describe
    assert "1. `message` (str)" in system


def test_empty_or_missing_history_adds_no_turns() -> None:
    assert len(ChatAdapter().format(Chat, {"history": History(), "message": "x"})) == 2
    assert len(ChatAdapter().format(Chat, {"message": "x"})) == 2


def test_media_inputs_become_content_parts_of_the_user_message() -> None:
    signature = Signature("photo: Image, question -> answer")
    image = Image(url="https://example.org/cat.png")
    user = ChatAdapter().format(signature, {"photo": image, "question": "What animal?"})[-1]
    assert user.content == [
        {"type": "text", "text": "[[ ## photo ## ]]\n"},
        {"type": "image", "url": "https://example.org/cat.png"},
        {
            "type": "text",
            "text": "\n\n[[ ## question ## ]]\nWhat animal?\n\n"
            "Respond with `[[ ## answer ## ]]`, then `[[ ## completed ## ]]`.",
        },
    ]
    rendered = ChatAdapter().render(signature, {"photo": image, "question": "What animal?"})
    assert "[[ ## photo ## ]]\n[image: https://example.org/cat.png]\n\n" in rendered


def test_a_list_of_images_gives_one_part_each() -> None:
    signature = Signature("photos: list[Image] -> caption")
    images = [Image(url="https://e.org/1.png"), Image.from_bytes(b"\x89PNG", "image/png")]
    content = ChatAdapter().format(signature, {"photos": images})[-1].content
    assert [part["type"] for part in content] == ["text", "image", "image", "text"]
    assert content[2] == {"type": "image", "data": "iVBORw==", "media_type": "image/png"}


class Color(enum.Enum):
    RED = "red"


class Point(BaseModel):
    x: int
    y: int


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("plain text", "plain text"),
        (42, "42"),
        (0.5, "0.5"),
        (True, "true"),
        (None, "null"),
        (Color.RED, "red"),
        (dt.date(2024, 3, 5), "2024-03-05"),
        (["a", "b"], '["a", "b"]'),
        ({"k": [1, 2]}, '{"k": [1, 2]}'),
        (Point(x=1, y=2), '{"x": 1, "y": 2}'),
        (list(range(40)), "[\n  0,\n  1,"),  # long structures are indented
    ],
)
def test_input_values_of_any_type_are_written_sensibly(value: object, shown: str) -> None:
    signature = Signature("value: Any -> answer", types={"Any": object})
    user = ChatAdapter().format(signature, {"value": value})[-1].content
    assert isinstance(user, str)
    assert user.startswith(f"[[ ## value ## ]]\n{shown}")


class Review(Signature):
    """Rate the review."""

    review: str = InputField()
    sentiment: Literal["positive", "negative", "neutral"] = OutputField()
    score: int = OutputField(ge=0, le=10)
    confidence: float = OutputField()
    summary: str = OutputField()


WELL_FORMED = (
    "[[ ## sentiment ## ]]\npositive\n\n[[ ## score ## ]]\n7\n\n[[ ## confidence ## ]]\n0.8\n\n"
    "[[ ## summary ## ]]\nGood battery.\n\n[[ ## completed ## ]]"
)
EXPECTED = {"sentiment": "positive", "score": 7, "confidence": 0.8, "summary": "Good battery."}

# (answer as models write it, repair rules expected; values are always EXPECTED)
VARIANTS: list[tuple[str, list[str]]] = [
    (WELL_FORMED, []),
    (WELL_FORMED.replace("[[ ## ", "[[## ").replace(" ## ]]", " ##]]"), ["marker_variant"] * 5),
    (WELL_FORMED.replace("[[ ## score ## ]]", "[[ ## Score ## ]]"), ["marker_variant"]),
    (WELL_FORMED.replace("[[ ## score ## ]]", "## score ##"), ["marker_variant"]),
    (WELL_FORMED.replace("[[ ## score ## ]]", "[ ## score ## ]"), ["marker_variant"]),
    (WELL_FORMED.replace("[[ ## score ## ]]", "[[ ### score ### ]]"), ["marker_variant"]),
    (WELL_FORMED.replace("[[ ## score ## ]]", "    [[ ## score ## ]]"), ["indented_marker"]),
    (WELL_FORMED.replace("[[ ## score ## ]]\n7", "[[ ## score ## ]] 7"), []),
    (
        WELL_FORMED.replace("Good battery.\n\n[[ ## completed", "Good battery. [[ ## completed"),
        ["inline_marker"],
    ),
    (WELL_FORMED.replace("\n\n[[ ## completed ## ]]", ""), ["missing_completed"]),
    ("Sure! Here you go.\n\n" + WELL_FORMED, ["leading_text"]),
    (WELL_FORMED + "\nLet me know if you need more.", ["trailing_text"]),
    ("```\n" + WELL_FORMED + "\n```", ["code_fence"]),
    ("```text\n" + WELL_FORMED + "\n```\n", ["code_fence"]),
    (WELL_FORMED.replace("positive", "**Positive**"), ["value_case"]),
    (WELL_FORMED.replace("\n7\n", "\nHigh (7/10)\n"), ["number_in_prose"]),
    (WELL_FORMED.replace("\n0.8\n", "\nabout 0.8\n"), ["number_in_prose"]),
    (
        "[[ ## review ## ]]\nGreat battery.\n\n" + WELL_FORMED,
        ["echoed_input"],
    ),
    (
        WELL_FORMED.replace(
            "[[ ## completed ## ]]", "[[ ## summary ## ]]\nGood battery.\n\n[[ ## completed ## ]]"
        ),
        ["duplicate_field"],
    ),
    (
        WELL_FORMED.replace(
            "[[ ## summary ## ]]", "[[ ## notes ## ]]\nextra\n\n[[ ## summary ## ]]"
        ),
        ["marker_variant", "unknown_marker"],
    ),
    (
        "Sentiment: positive\nScore: 7\nConfidence: 0.8\nSummary: Good battery.",
        ["heading_marker"] * 4 + ["missing_completed"],
    ),
    (
        "**Sentiment:** positive\n**Score:** 7\n**Confidence:** 0.8\n**Summary:** Good battery.",
        ["heading_marker"] * 4 + ["missing_completed"],
    ),
    (
        "### Sentiment\npositive\n### Score\n7\n### Confidence\n0.8\n### Summary\nGood battery.",
        ["heading_marker"] * 4 + ["missing_completed"],
    ),
    (
        WELL_FORMED.replace("[[ ## summary ## ]]\n", "summary: ").replace(
            "\n\n[[ ## completed ## ]]", ""
        ),
        ["heading_marker", "missing_completed"],
    ),
    (
        '{"sentiment": "positive", "score": 7, "confidence": 0.8, "summary": "Good battery."}',
        ["json_instead_of_markers"],
    ),
    (
        '```json\n{"sentiment": "positive", "score": 7, "confidence": 0.8, "summary": "Good battery."}\n```',
        ["json_instead_of_markers", "code_fence"],
    ),
]


@pytest.mark.parametrize(("answer", "rules"), VARIANTS)
def test_parses_answers_as_models_write_them(answer: str, rules: list[str]) -> None:
    result = ChatAdapter().parse_with_repairs(Review, answer)
    assert result.values == EXPECTED
    assert [r.rule for r in result.repairs] == rules


def test_multiline_values_keep_their_inner_lines() -> None:
    signature = Signature("question -> reasoning, answer")
    answer = "[[ ## reasoning ## ]]\nFirst line.\n\n  Indented second.\n\n[[ ## answer ## ]]\n4\n\n[[ ## completed ## ]]"
    assert ChatAdapter().parse(signature, answer) == {
        "reasoning": "First line.\n\n  Indented second.",
        "answer": "4",
    }


def test_field_names_in_other_case_and_spacing_are_recognised() -> None:
    signature = Signature("question -> final_answer")
    result = ChatAdapter().parse_with_repairs(
        signature, "[[ ## Final Answer ## ]]\nParis\n[[ ## completed ## ]]"
    )
    assert result.values == {"final_answer": "Paris"}
    assert [(r.rule, r.field) for r in result.repairs] == [("marker_variant", "final_answer")]


def test_missing_optional_fields_become_none() -> None:
    signature = Signature("question -> answer, note: Optional[str]", types={"Optional": Optional})
    result = ChatAdapter().parse_with_repairs(
        signature, "[[ ## answer ## ]]\n4\n\n[[ ## completed ## ]]"
    )
    assert result.values == {"answer": "4", "note": None}
    assert [(r.rule, r.field) for r in result.repairs] == [("missing_optional", "note")]


def test_a_missing_field_names_the_field_and_keeps_what_was_parsed() -> None:
    answer = "[[ ## sentiment ## ]]\npositive\n\n[[ ## score ## ]]\n7\n\n[[ ## completed ## ]]"
    with pytest.raises(AdapterParseError) as info:
        ChatAdapter().parse(Review, answer)
    error = info.value
    assert (error.adapter, error.field, error.expected) == ("ChatAdapter", "confidence", "float")
    assert error.reason == "no [[ ## confidence ## ]] marker in the answer"
    assert error.parsed == {"sentiment": "positive", "score": 7}
    assert error.span is None
    assert error.raw == answer


def test_a_bad_value_is_reported_with_its_span() -> None:
    answer = WELL_FORMED.replace("\n7\n", "\nvery high\n")
    with pytest.raises(AdapterParseError) as info:
        ChatAdapter().parse(Review, answer)
    error = info.value
    assert (error.field, error.expected) == ("score", "int (>= 0, <= 10)")
    assert error.reason == "'very high' contains no number"
    assert error.span is not None
    assert answer[error.span[0] : error.span[1]] == "very high"
    assert error.parsed == {"sentiment": "positive", "confidence": 0.8, "summary": "Good battery."}


def test_a_value_breaking_a_constraint_is_an_error() -> None:
    with pytest.raises(AdapterParseError) as info:
        ChatAdapter().parse(Review, WELL_FORMED.replace("\n7\n", "\n11\n"))
    assert info.value.field == "score"
    assert info.value.reason == "11 breaks the constraint <= 10"


def test_prose_without_markers_is_an_error_not_a_guess() -> None:
    with pytest.raises(AdapterParseError) as info:
        ChatAdapter().parse(Signature("question -> answer"), "The answer is Paris.")
    assert (info.value.field, info.value.reason) == (
        "answer",
        "no [[ ## answer ## ]] marker in the answer",
    )


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        ("", {}),
        ("[[ ## sent", {}),
        ("[[ ## sentiment ## ]]\npos", {"sentiment": "pos"}),
        ("[[ ## sentiment ## ]]\npositive\n\n[[", {"sentiment": "positive"}),
        ("[[ ## sentiment ## ]]\npositive\n\n[[ ## sco", {"sentiment": "positive"}),
        ("[[ ## sentiment ## ]]\npositive\n\n[[ ## score ## ]", {"sentiment": "positive"}),
        (
            "[[ ## sentiment ## ]]\npositive\n\n[[ ## score ## ]]\n7",
            {"sentiment": "positive", "score": "7"},
        ),
        (
            WELL_FORMED,
            {
                "sentiment": "positive",
                "score": "7",
                "confidence": "0.8",
                "summary": "Good battery.",
            },
        ),
    ],
)
def test_partial_fields_while_streaming(text: str, fields: dict[str, str]) -> None:
    assert ChatAdapter().partial_fields(Review, text) == fields


def test_stream_yields_field_deltas_then_the_result() -> None:
    signature = Signature("question -> reasoning, answer: int")
    answer = "[[ ## reasoning ## ]]\nTwo and two.\n\n[[ ## answer ## ]]\n4\n\n[[ ## completed ## ]]"
    events = list(
        ChatAdapter().stream(ScriptedLM([answer], chunk_size=4), signature, {"question": "2+2?"})
    )
    result = events[-1]
    assert isinstance(result, AdapterResult)
    assert result.completions == [{"reasoning": "Two and two.", "answer": 4}]
    deltas = [e for e in events[:-1] if isinstance(e, FieldDelta)]
    assert "".join(d.text for d in deltas if d.field == "reasoning") == "Two and two."
    assert [d.value_so_far for d in deltas if d.field == "answer"] == ["4"]
    assert deltas[0].field == "reasoning"


def test_run_parses_every_choice() -> None:
    lm = ScriptedLM(["[[ ## answer ## ]]\n1\n[[ ## completed ## ]]", "[[ ## answer ## ]]\ntwo (2)"])
    result = ChatAdapter().run(
        lm, Signature("question -> answer: int"), {"question": "?"}, config={"n": 2}
    )
    assert result.completions == [{"answer": 1}, {"answer": 2}]
    assert [r.rule for r in result.repairs] == ["missing_completed", "number_in_prose"]
    assert result.adapter == "ChatAdapter"
    assert lm.requests[0].n == 2


async def test_arun_parses_like_run() -> None:
    lm = ScriptedLM(["[[ ## answer ## ]]\n4\n\n[[ ## completed ## ]]"])
    result = await ChatAdapter().arun(
        lm, Signature("question -> answer: int"), {"question": "2+2?"}
    )
    assert result.completions == [{"answer": 4}]


def test_debug_parse_logs_each_repair_at_info(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="lmbench.adapters")
    with context(debug_parse=True):
        ChatAdapter().parse(Signature("q -> answer: int"), "[[ ## Answer ## ]]\nabout 4")
    messages = [r.getMessage() for r in caplog.records if r.name == "lmbench.adapters"]
    assert messages == [
        "ChatAdapter repaired field answer: marker_variant (read '[[ ## Answer ## ]]' as [[ ## answer ## ]])",
        "ChatAdapter repaired field None: missing_completed (no [[ ## completed ## ]] marker at the end)",
        "ChatAdapter repaired field answer: number_in_prose (read 4 from 'about 4')",
    ]


def test_without_debug_parse_repairs_are_logged_at_debug_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="lmbench.adapters")
    with context(debug_parse=False):
        ChatAdapter().parse(Signature("q -> answer: int"), "[[ ## Answer ## ]]\nabout 4")
    assert not [r for r in caplog.records if r.name == "lmbench.adapters"]


def test_dates_and_lists_in_marked_sections() -> None:
    signature = Signature("q -> when: date, items: list[str]")
    answer = (
        "[[ ## when ## ]]\nMarch 5, 2024\n\n[[ ## items ## ]]\n- a\n- b\n\n[[ ## completed ## ]]"
    )
    result = ChatAdapter().parse_with_repairs(signature, answer)
    assert result.values == {"when": dt.date(2024, 3, 5), "items": ["a", "b"]}
    assert [r.rule for r in result.repairs] == ["date_format", "bullet_list"]


async def test_astream_yields_the_same_events_as_stream() -> None:
    signature = Signature("question -> reasoning, answer: int")
    answer = "[[ ## reasoning ## ]]\nTwo and two.\n\n[[ ## answer ## ]]\n4\n\n[[ ## completed ## ]]"
    sync_events = list(
        ChatAdapter().stream(ScriptedLM([answer], chunk_size=5), signature, {"question": "?"})
    )
    async_events = [
        event
        async for event in ChatAdapter().astream(
            ScriptedLM([answer], chunk_size=5), signature, {"question": "?"}
        )
    ]
    assert async_events[:-1] == sync_events[:-1]
    assert async_events[-1].completions == sync_events[-1].completions


def test_a_parsed_value_that_differs_from_its_text_arrives_whole_at_the_end() -> None:
    signature = Signature("question -> ok: bool")
    events = list(
        ChatAdapter().stream(ScriptedLM(["[[ ## ok ## ]]\nYes"]), signature, {"question": "?"})
    )
    deltas = [e for e in events if isinstance(e, FieldDelta)]
    assert [d.value_so_far for d in deltas] == ["Y", "Yes", "true"]  # chunks of 8 characters
    assert events[-1].completions == [{"ok": True}]
