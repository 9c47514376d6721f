"""A sweep of malformed whole answers: several fields, and the paths around the parse.

- answers to a two-field signature with fields out of order, missing, empty, written twice,
  under headings, in fences of any language, with reasoning, or in another adapter's format;
- answers stopped at the token limit (finish_reason "length"), on every adapter;
- streamed runs, sync and async, which must end as the run does (same values, same refusal);
- native structured output whose content does not fit the schema;
- native tool calls whose arguments are not a JSON object.

Each outcome is the true value, or an ``AdapterParseError`` naming a field of the signature,
its expected type and the raw text: never another value.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any, Optional

import pytest

from lmbench.adapters import (
    Adapter,
    ChatAdapter,
    FallbackAdapter,
    JSONAdapter,
    TwoStepAdapter,
    XMLAdapter,
)
from lmbench.adapters.results import AdapterResult
from lmbench.errors import AdapterParseError
from lmbench.lm.scripted import ScriptedLM
from lmbench.lm.types import Capabilities, LMRequest, LMResponse, ToolCall
from lmbench.modules import ReAct
from lmbench.providers.wire.base import Draft
from lmbench.signatures import InputField, OutputField, Signature

NO: Any = object()  # no one reading: only a refusal is right
RIGHT = {"answer": "Paris", "score": 3}


class City(Signature):
    """Name the city and score it."""

    question: str = InputField()
    answer: str = OutputField()
    score: int = OutputField()


class Hinted(Signature):
    """Answer, with an optional hint."""

    question: str = InputField()
    answer: str = OutputField()
    hint: Optional[int] = OutputField()  # noqa: UP045


ADAPTERS: list[Adapter] = [ChatAdapter(), JSONAdapter(), XMLAdapter(), FallbackAdapter()]

# (answer text, what it means: RIGHT, NO, or other values)
ANSWERS: list[tuple[str, Any]] = [
    ("[[ ## score ## ]]\n3\n[[ ## answer ## ]]\nParis\n[[ ## completed ## ]]", RIGHT),
    ("[[ ## answer ## ]]\nParis\n[[ ## answer ## ]]\nLyon\n[[ ## score ## ]]\n3", NO),
    ("[[ ## answer ## ]]\nParis\n[[ ## score ## ]]\n3\n[[ ## score ## ]]\n3", RIGHT),
    # a marker in a code block inside a value is the value's text
    (
        "[[ ## answer ## ]]\n```\n[[ ## score ## ]]\n9\n```\n[[ ## score ## ]]\n3",
        {"answer": "```\n[[ ## score ## ]]\n9\n```", "score": 3},
    ),
    ("[[ ## answer ## ]]\n```python\nx = 1\n[[ ## score ## ]]\n3", NO),  # block left open
    ("[[ ## answer ## ]]\nParis\n[[ ## completed ## ]]", NO),
    ("Answer: Paris\nScore: 3\nAnswer: Lyon", NO),  # a heading written twice, two values
    ("Answer: Paris\nScore: 3", RIGHT),
    ("**Answer:** Paris\n**Score:** 3", RIGHT),
    ("### Answer\r\nParis\r\n### Score\r\n3\r\n", RIGHT),  # Windows line ends
    ("[[ ## answer ## ]]\r\nParis\r\n[[ ## score ## ]]\r\n3\r\n[[ ## completed ## ]]", RIGHT),
    ("Reasoning: the score is 9.\nAnswer: Paris\nScore: 3", RIGHT),
    ('{"answer": "Paris", "score": 3, "answer": "Lyon"}', NO),
    ('{"answer": "Paris", "Score": 3, "score": 4}', NO),
    ('{"answer": "Paris", // the capital\n "score": 3,}', RIGHT),
    ('{"answer": "Paris", "score": NaN}', NO),
    ('{"answer": "Paris", "score": true}', NO),
    ('{"answer": "Paris", "score": "3k"}', NO),
    ('{"answer": "Paris", "score": 3.7}', NO),
    ('{"answer": null, "score": 3}', NO),
    ('{"answer": "Paris"}', NO),
    ('{"answer": "Paris", "sco', NO),
    ('{"answer": "Par', NO),
    ('[{"answer": "Paris", "score": 3}]', NO),
    ('"Paris"', NO),
    ('{"result": {"answer": "Paris", "score": 3}}', RIGHT),
    ('```json title="answer.json"\n{"answer": "Paris", "score": 3}\n```', RIGHT),
    ('~~~json\n{"answer": "Paris", "score": 3}\n~~~', RIGHT),
    ('```js\n{answer: "Paris", score: 3}\n```', RIGHT),
    ('```\n{"answer": "Paris", "score": 3}\n```\n```\n{"answer": "Lyon", "score": 3}\n```', NO),
    ('{"answer": "Paris", "score": 3}\n{"answer": "Paris", "score": 4}', NO),
    (
        '{"answer": "{\\"answer\\": \\"Lyon\\"}", "score": 3}',
        {**RIGHT, "answer": '{"answer": "Lyon"}'},
    ),
    # JSON inside a field written in another format is that field's text, never the answer
    ('[[ ## answer ## ]]\n{"answer": "Lyon", "score": 1}\n[[ ## answer ## ]]\nParis', NO),
    ('[[ ## answer ## ]]\nLike {"answer": "Lyon", "score": 1}\n[[ ## score ## ]]\n3 or 4', NO),
    ('<answer>{"answer": "Lyon", "score": 1}</answer><score>3k</score>', NO),
    ('Here: {"answer": "use <answer> tags", "score": 3}', {**RIGHT, "answer": "use <answer> tags"}),
    ("<answer>Paris</answer><score>3</score><answer>Lyon</answer>", NO),
    ("<answer>Paris</answer><score>3</scor>", NO),
    ("<answer>Paris<score>3</score></answer>", NO),
    ("<ANSWER>Paris</ANSWER><Score>3</Score>", RIGHT),
    ("```xml\n<answer>Paris</answer>\n<score>3</score>\n```", RIGHT),
    ("<answer>Paris</answer><score>&#51;</score>", RIGHT),
    ("<answer>Paris</answer> <score/>", NO),
    ('<think>score 9</think>\n<think>more</think>\n{"answer": "Paris", "score": 3}', RIGHT),
    (
        '<think>{"answer": "Lyon", "score": 1}</think>\n```json\n{"answer": "Paris", "score": 3}\n```',
        RIGHT,
    ),
    ('{"answer": "Paris", "score": 3}\n<think>no: {"answer": "Lyon", "score": 1}</think>', NO),
    ("<think>[[ ## answer ## ]]\nLyon\n[[ ## score ## ]]\n1", NO),  # only reasoning
]


def _outcome(adapter: Adapter, text: str) -> Any:
    try:
        return adapter.parse(City, text)
    except AdapterParseError as exc:
        assert exc.field in ("answer", "score"), f"{adapter.name}: the error names no field"
        assert exc.expected and exc.raw == text
        return NO


@pytest.mark.parametrize(("text", "means"), ANSWERS, ids=[repr(t[:40]) for t, _ in ANSWERS])
@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda a: a.name)
def test_every_adapter_reads_the_whole_answer_or_refuses(
    adapter: Adapter, text: str, means: Any
) -> None:
    got = _outcome(adapter, text)
    if got is not NO:
        assert means is not NO, f"{adapter.name}: {text!r} must be refused, got {got}"
        assert got == means


# -- answers that only the adapter's own format can hold (optional fields) ---------------------

OWN_FORM = {
    "ChatAdapter": "[[ ## hint ## ]]\n0\n\n[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]",
    "JSONAdapter": '{"answer": "Paris", "hint": 0}',
    "XMLAdapter": "<answer>Paris</answer><hint>0</hint>",
}


@pytest.mark.parametrize("form", list(OWN_FORM))
@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda a: a.name)
def test_an_answer_in_another_format_never_reads_as_missing_optional_fields(
    adapter: Adapter, form: str
) -> None:
    """``hint`` is optional: an adapter that finds no field at all in an answer written in
    another format refuses it, rather than reading hint (and all else) as absent."""
    text = OWN_FORM[form]
    try:
        values = adapter.parse(Hinted, text)
    except AdapterParseError as exc:
        assert exc.field in ("answer", "hint")
        return
    assert values == {"answer": "Paris", "hint": 0}


# -- stopped at the token limit, on every adapter ----------------------------------------------


class CutOffLM(ScriptedLM):
    """Answers stop at the token limit (finish_reason "length")."""

    def generate(self, request: LMRequest) -> LMResponse:
        return dataclasses.replace(super().generate(request), finish_reason="length")


# (adapter, answer, True when it must be refused as possibly cut short)
CUT_OFF: list[tuple[Adapter, str, bool]] = [
    (XMLAdapter(), "<answer>Paris</answer>", True),  # hint not reached yet
    (XMLAdapter(), "<answer>Paris</answer><hint>4</hint>", False),
    (XMLAdapter(), "<answer>Paris</answer><hint>4", True),
    (JSONAdapter(), '{"answer": "Paris"}', True),
    (JSONAdapter(), '{"answer": "Paris", "hint": 4}', False),
    (JSONAdapter(), '{"answer": "Paris", "hint": 4', True),
    (ChatAdapter(), "[[ ## answer ## ]]\nParis", True),
    (ChatAdapter(), "[[ ## answer ## ]]\nParis\n[[ ## hint ## ]]\n4\n[[ ## completed ## ]]", False),
    (FallbackAdapter(), "[[ ## answer ## ]]\nParis\n[[ ## hint ## ]]\n4", True),
]


@pytest.mark.parametrize(("adapter", "text", "refused"), CUT_OFF)
def test_an_answer_at_the_token_limit_is_read_only_when_nothing_is_missing(
    adapter: Adapter, text: str, refused: bool
) -> None:
    if not refused:
        values = adapter.run(CutOffLM([text]), Hinted, {"question": "q"}).completions[0]
        assert values == {"answer": "Paris", "hint": 4}
        return
    with pytest.raises(AdapterParseError) as info:
        adapter.run(CutOffLM([text], repeat=True), Hinted, {"question": "q"})
    assert info.value.field in ("answer", "hint")


class FilteredLM(ScriptedLM):
    """Answers stopped by the provider's content filter (finish_reason "content_filter")."""

    def generate(self, request: LMRequest) -> LMResponse:
        return dataclasses.replace(super().generate(request), finish_reason="content_filter")


@pytest.mark.parametrize("adapter", ADAPTERS[:3], ids=lambda a: a.name)
def test_an_answer_stopped_by_a_content_filter_is_refused_like_one_cut_off(
    adapter: Adapter,
) -> None:
    text = {
        "ChatAdapter": "[[ ## answer ## ]]\nParis",
        "JSONAdapter": '{"answer": "Paris"}',
        "XMLAdapter": "<answer>Paris</answer>",
    }[adapter.name]
    with pytest.raises(AdapterParseError, match="content filter") as info:
        adapter.run(FilteredLM([text]), Hinted, {"question": "q"})
    assert info.value.field in ("answer", "hint")
    assert adapter.run(ScriptedLM([text]), Hinted, {"question": "q"}).completions[0]["answer"]


def test_two_step_never_extracts_from_a_reply_stopped_at_the_token_limit() -> None:
    extractor = ScriptedLM(['{"answer": "Paris", "hint": 4}'])
    adapter = TwoStepAdapter(extraction_lm=extractor)
    with pytest.raises(AdapterParseError) as info:
        adapter.run(CutOffLM(["It is Paris, and the hint is 4"]), Hinted, {"question": "q"})
    assert info.value.field in ("answer", "hint") and "token limit" in info.value.reason
    assert not extractor.requests  # nothing extracted from a cut reply
    done = adapter.run(ScriptedLM(["It is Paris, and the hint is 4"]), Hinted, {"question": "q"})
    assert done.completions == [{"answer": "Paris", "hint": 4}]


def test_a_bare_value_at_the_token_limit_is_refused() -> None:
    single = Signature("question -> score: int")
    assert JSONAdapter().run(ScriptedLM(["42"]), single, {"question": "q"}).completions == [
        {"score": 42}
    ]
    with pytest.raises(AdapterParseError):
        JSONAdapter().run(CutOffLM(["42"]), single, {"question": "q"})


# -- streaming ends as the run does -----------------------------------------------------------

STREAMED = [text for text, _ in ANSWERS[::3]]


def _final(events: list[Any]) -> Any:
    return events[-1].completions[0]


def _streamed(adapter: Adapter, text: str, chunk: int) -> Any:
    try:
        events = list(
            adapter.stream(
                ScriptedLM([text], repeat=True, chunk_size=chunk), City, {"question": "q"}
            )
        )
    except AdapterParseError as exc:
        return ("refused", exc.field)
    assert isinstance(events[-1], AdapterResult)
    return _final(events)


def _astreamed(adapter: Adapter, text: str) -> Any:
    async def collect() -> list[Any]:
        lm = ScriptedLM([text], repeat=True, chunk_size=5)
        return [event async for event in adapter.astream(lm, City, {"question": "q"})]

    try:
        events = asyncio.run(collect())
    except AdapterParseError as exc:
        return ("refused", exc.field)
    return _final(events)


@pytest.mark.parametrize("text", STREAMED, ids=[repr(t[:40]) for t in STREAMED])
@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda a: a.name)
def test_a_streamed_answer_ends_as_the_run_does(adapter: Adapter, text: str) -> None:
    try:
        ran = adapter.run(ScriptedLM([text], repeat=True), City, {"question": "q"}).completions[0]
    except AdapterParseError as exc:
        ran = ("refused", exc.field)
    assert _streamed(adapter, text, 1) == ran
    assert _streamed(adapter, text, 7) == ran
    assert _astreamed(adapter, text) == ran


# -- native structured output ------------------------------------------------------------------


class SchemaLM(ScriptedLM):
    """A scripted model that takes a response schema (its content is still what it says)."""

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(structured_output=True)


@pytest.mark.parametrize(
    "content",
    [
        '{"answer": "Paris", "score": "3 or 4"}',
        '{"answer": "Paris", "score": true}',
        '{"answer": "Paris"}',
        '{"answer": "Paris", "score": 3',
        "",
        '{"answer": ["Paris", "Lyon"], "score": {"value": 3}}',
    ],
)
def test_structured_output_that_does_not_fit_the_schema_is_refused(content: str) -> None:
    lm = SchemaLM([content])
    with pytest.raises(AdapterParseError) as info:
        JSONAdapter().run(lm, City, {"question": "q"})
    assert lm.requests[0].response_schema is not None
    assert info.value.field in ("answer", "score") and info.value.raw == content


# -- native tool calls -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fragments", "arguments", "readable"),
    [
        (['{"city": "Paris"}'], {"city": "Paris"}, True),
        (['"{\\"city\\": \\"Paris\\"}"'], {"city": "Paris"}, True),  # encoded twice
        (['{"city": "Par'], None, False),  # cut off
        (["{'city': 'Paris'}"], None, False),
        (['["Paris"]'], {}, False),
        (["Paris"], None, False),
    ],
)
def test_tool_call_arguments_that_are_not_a_json_object_say_so(
    fragments: list[str], arguments: dict[str, Any] | None, readable: bool
) -> None:
    draft = Draft({"stop": "stop"})
    for fragment in fragments:
        draft.extend_call(0, fragment, name="weather", id="t1")
    draft.native_finish = "stop"
    (call,) = draft.build().tool_calls
    assert (call.arguments_error is None) is readable
    if arguments is not None:
        assert call.arguments == arguments
    assert ("arguments_error" in call.to_dict()) is not readable


def test_react_never_runs_a_tool_on_arguments_the_model_did_not_send() -> None:
    ran: list[str] = []

    def weather(city: str) -> str:
        """The weather in a city."""
        ran.append(city)
        return "sunny"

    broken = ToolCall(
        "weather", {"city": "Par"}, arguments_error='not valid JSON: \'{"city": "Par\''
    )
    lm = ScriptedLM(
        [
            [broken],
            [ToolCall("weather", {"city": "Paris"})],
            "Sunny.",
            "[[ ## reasoning ## ]]\n-\n[[ ## answer ## ]]\nsunny\n[[ ## completed ## ]]",
        ]
    )
    pred = ReAct("question -> answer", tools=[weather], lm=lm)(question="Weather in Paris?")
    first, second, _ = pred.trajectory
    assert ran == ["Paris"]
    assert first.error and "not valid JSON" in first.observation
    assert second.observation == "sunny" and pred.answer == "sunny"


def test_an_empty_json_object_leaves_every_optional_field_out() -> None:
    """``{}`` is the JSON form of an answer with every field left out; anything else with no
    field at all (another format, keys that name no field) is refused, never read as Nones."""
    optional = Signature("question -> answer: str | None, n: int | None")
    assert JSONAdapter().parse(optional, "{}") == {"answer": None, "n": None}
    for text in ('{"foo": 1}', "[[ ## answer ## ]]\nx", "<n>4</n>", "just text"):
        with pytest.raises(AdapterParseError) as info:
            JSONAdapter().parse(optional, text)
        assert info.value.field in ("answer", "n")
    for adapter in (ChatAdapter(), XMLAdapter()):
        with pytest.raises(AdapterParseError):
            adapter.parse(optional, '{"foo": 1}')


@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda a: a.name)
def test_braces_in_an_answer_of_only_reasoning_are_text(adapter: Adapter) -> None:
    """The reason given for a missing field quotes the reasoning; braces in it are text."""
    text = "Hmm}\n<think>the set is {1, 2} or {3}"
    with pytest.raises(AdapterParseError) as info:
        adapter.parse(City, text)
    assert info.value.field in ("answer", "score") and "reasoning" in info.value.reason
