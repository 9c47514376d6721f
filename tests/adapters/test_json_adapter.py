"""JSONAdapter: structured-output requests, the JSON prompt, and parsing of imperfect JSON."""

from __future__ import annotations

import json
from typing import Literal, Optional

import pytest
from pydantic import BaseModel

from lmbench.adapters import AdapterResult, FieldDelta, JSONAdapter
from lmbench.errors import AdapterParseError
from lmbench.lm.scripted import ScriptedLM
from lmbench.lm.types import Capabilities
from lmbench.signatures import InputField, OutputField, Signature


class StructuredLM(ScriptedLM):
    """A scripted LM that declares structured-output support."""

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(structured_output=True, prefers_structured_output=True)


class Ingredient(BaseModel):
    name: str
    grams: int


class Recipe(Signature):
    """Write a recipe."""

    dish: str = InputField()
    title: str = OutputField()
    servings: int = OutputField(ge=1)
    ingredients: list[Ingredient] = OutputField()
    difficulty: Literal["easy", "hard"] = OutputField()


SMALL = Signature("question -> answer, confidence: float", name="Q&A v2")

GOLDEN = """\
--- system ---
Input fields:
1. `question` (str)

Output fields:
1. `answer` (str): a string
2. `confidence` (float): a number

Inputs come marked like [[ ## name ## ]], each value below its marker:

[[ ## question ## ]]
{question}

Answer with a single JSON object and nothing else:

{
  "answer": {answer},
  "confidence": {confidence}
}

Your task: Given the fields `question`, produce the fields `answer`, `confidence`.

--- user ---
[[ ## question ## ]]
Why?

Respond with a JSON object with the keys `answer` (a string), `confidence` (a number)."""


def test_render_is_the_exact_prompt() -> None:
    assert JSONAdapter().render(SMALL, {"question": "Why?"}) == GOLDEN


def test_demo_answers_are_json_objects() -> None:
    demo = {"question": "Sky?", "answer": "Blue", "confidence": 0.9}
    messages = JSONAdapter().format(SMALL, {"question": "Why?"}, [demo])
    assert messages[2].role == "assistant"
    assert messages[2].content == '{\n  "answer": "Blue",\n  "confidence": 0.9\n}'


def test_structured_output_lms_get_the_output_schema() -> None:
    lm = StructuredLM(['{"answer": "x", "confidence": 1}'])
    adapter = JSONAdapter()
    request = adapter.build_request(
        lm, SMALL, adapter.format(SMALL, {"question": "Why?"}), {"temperature": 0}
    )
    assert request.response_schema == SMALL.output_schema()
    assert request.response_schema["required"] == ["answer", "confidence"]
    assert request.response_schema_name == "Q_A_v2"
    assert request.temperature == 0
    assert adapter.uses_structured_output(lm)


def test_other_lms_are_asked_for_json_in_the_prompt_only() -> None:
    lm = ScriptedLM(["{}"])
    adapter = JSONAdapter()
    request = adapter.build_request(lm, SMALL, adapter.format(SMALL, {"question": "Why?"}), {})
    assert request.response_schema is None
    assert not adapter.uses_structured_output(lm)


def test_structured_output_can_be_turned_off() -> None:
    lm = StructuredLM(["{}"])
    adapter = JSONAdapter(structured_output=False)
    request = adapter.build_request(lm, SMALL, adapter.format(SMALL, {"question": "Why?"}), {})
    assert request.response_schema is None
    assert repr(adapter) == "JSONAdapter(structured_output=False)"


def test_run_sends_the_schema_and_parses_the_answer() -> None:
    lm = StructuredLM(['{"answer": "Because.", "confidence": 0.5}'])
    result = JSONAdapter().run(lm, SMALL, {"question": "Why?"})
    assert result.completions == [{"answer": "Because.", "confidence": 0.5}]
    assert lm.requests[0].response_schema == SMALL.output_schema()


GOOD = {
    "title": "Pancakes",
    "servings": 4,
    "ingredients": [Ingredient(name="flour", grams=200)],
    "difficulty": "easy",
}
RAW = '{"title": "Pancakes", "servings": 4, "ingredients": [{"name": "flour", "grams": 200}], "difficulty": "easy"}'

VARIANTS: list[tuple[str, list[str]]] = [
    (RAW, []),
    ("```json\n" + RAW + "\n```", ["code_fence"]),
    ("```\n" + RAW + "\n```", ["code_fence"]),
    ("Here is the recipe:\n" + RAW + "\nEnjoy!", ["json_in_prose"]),
    (RAW.replace("}]", "},]").replace('"easy"}', '"easy",}'), ["json_repair"]),
    (RAW[:-1], ["json_repair"]),  # cut off before the closing brace
    (RAW.replace('"', "'"), ["python_literal"]),
    (RAW.replace('"easy"', '"Easy"'), ["value_case"]),
    (RAW.replace('"servings": 4', '"Servings": "4 people"'), ["key_case", "number_in_prose"]),
    (RAW.replace('"grams": 200', '"grams": "200g"'), ["number_in_prose"]),
    (RAW.replace('"servings": 4', '"servings": 4.0'), ["whole_float"]),
    (RAW.replace('{"title"', '{"dish": "pancakes", "title"'), ["ignored_keys"]),
    ('{"recipe": ' + RAW + "}", ["unwrapped_object"]),
    (
        "{'title': 'Pancakes', 'servings': 4, 'ingredients': [{'name': 'flour', 'grams': 200}], 'difficulty': 'easy', 'vegan': True}",
        ["python_literal", "ignored_keys"],
    ),
]


@pytest.mark.parametrize(("answer", "rules"), VARIANTS)
def test_parses_imperfect_json(answer: str, rules: list[str]) -> None:
    result = JSONAdapter().parse_with_repairs(Recipe, answer)
    assert result.values == GOOD
    assert [r.rule for r in result.repairs] == rules


def test_no_json_at_all_is_a_structure_error() -> None:
    with pytest.raises(AdapterParseError) as info:
        JSONAdapter().parse(Recipe, "I'd make pancakes.")
    error = info.value
    assert (error.adapter, error.field) == (
        "JSONAdapter",
        "title",
    )  # the first field: an error names one
    assert error.expected == "a JSON object with the keys title, servings, ingredients, difficulty"
    assert error.span == (0, len("I'd make pancakes."))


def test_a_json_array_for_several_fields_is_an_error() -> None:
    with pytest.raises(AdapterParseError) as info:
        JSONAdapter().parse(SMALL, '["yes", 0.9]')
    assert info.value.reason == "the answer is a JSON list, not an object"


def test_a_bare_json_value_is_accepted_for_a_single_field() -> None:
    result = JSONAdapter().parse_with_repairs(Signature("q -> items: list[int]"), "[1, 2, 3]")
    assert result.values == {"items": [1, 2, 3]}
    assert [r.rule for r in result.repairs] == ["bare_value"]


def test_a_lone_object_output_answered_with_its_own_fields_is_accepted() -> None:
    signature = Signature("dish -> ingredient: Ingredient", types={"Ingredient": Ingredient})
    result = JSONAdapter().parse_with_repairs(signature, '{"name": "salt", "grams": 5}')
    assert result.values == {"ingredient": Ingredient(name="salt", grams=5)}
    assert [r.rule for r in result.repairs] == ["bare_value"]
    wrapped = JSONAdapter().parse_with_repairs(
        signature, '{"ingredient": {"name": "salt", "grams": 5}}'
    )
    assert wrapped.values == result.values
    assert wrapped.repairs == []


def test_a_missing_key_is_reported_for_its_field() -> None:
    with pytest.raises(AdapterParseError) as info:
        JSONAdapter().parse(SMALL, '{"answer": "x"}')
    error = info.value
    assert (error.field, error.expected, error.reason) == (
        "confidence",
        "float",
        "the JSON object has no key 'confidence'",
    )
    assert error.parsed == {"answer": "x"}


def test_a_bad_value_is_reported_with_the_span_of_its_json() -> None:
    answer = RAW.replace('"difficulty": "easy"', '"difficulty": "medium"')
    with pytest.raises(AdapterParseError) as info:
        JSONAdapter().parse(Recipe, answer)
    error = info.value
    assert (error.field, error.expected) == ("difficulty", "Literal['easy', 'hard']")
    assert error.span is not None
    assert answer[error.span[0] : error.span[1]] == '"medium"'


def test_a_constraint_inside_the_signature_is_checked() -> None:
    with pytest.raises(AdapterParseError) as info:
        JSONAdapter().parse(Recipe, RAW.replace('"servings": 4', '"servings": 0'))
    assert (info.value.field, info.value.expected) == ("servings", "int (>= 1)")


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        ("", {}),
        ("Sure", {}),
        ('{"tit', {}),
        ('{"title": "Panc', {"title": "Panc"}),
        ('```json\n{"title": "Pancakes", "servings": 4', {"title": "Pancakes", "servings": "4"}),
        (
            '{"title": "P", "ingredients": [{"name": "egg"',
            {"title": "P", "ingredients": '[{"name": "egg"}]'},
        ),
    ],
)
def test_partial_fields_read_incomplete_json(text: str, fields: dict[str, str]) -> None:
    assert JSONAdapter().partial_fields(Recipe, text) == fields


def test_stream_yields_deltas_of_string_fields() -> None:
    lm = ScriptedLM(['{"answer": "Because it is.", "confidence": 0.5}'], chunk_size=6)
    events = list(JSONAdapter().stream(lm, SMALL, {"question": "Why?"}))
    assert isinstance(events[-1], AdapterResult)
    assert events[-1].completions == [{"answer": "Because it is.", "confidence": 0.5}]
    answer_deltas = [e for e in events if isinstance(e, FieldDelta) and e.field == "answer"]
    assert len(answer_deltas) > 1
    assert answer_deltas[-1].value_so_far == "Because it is."


# -- what comes before the JSON, quotes, bare values -------------------------------------------

QA = Signature("question -> answer")
NUMBER = Signature("question -> answer: int")


@pytest.mark.parametrize(
    "text",
    [
        'Let me think about {x} and {y}. Then:\n{"answer": "Paris"}',
        'Here is my reasoning: [step 1] [step 2]\n\n{"answer": "Paris"}',
        '```python\nprint([1, 2])\n```\nThe answer:\n{"answer": "Paris"}',
        '```python\nd = {"answer": "Lyon"}\n```\nSo:\n```json\n{"answer": "Paris"}\n```',
        '```\nsome notes\n```\n{"answer": "Paris"}',
        'Note: the format is {"key": value}.\nAnswer: {"answer": "Paris"}',
        '[[ ## question ## ]]\nCapital?\n\n{"answer": "Paris"}',
    ],
)
def test_prose_or_code_before_the_json_object(text: str) -> None:
    assert JSONAdapter().parse(QA, text) == {"answer": "Paris"}


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("{'answer': 'It's Paris'}", {"answer": "It's Paris"}),
        ("{'answer': 'Don't know, isn't it'}", {"answer": "Don't know, isn't it"}),
        ("{'answer': 'the 'best' one'}", {"answer": "the 'best' one"}),
        ("{'answer': 'O\\'Brien's'}", {"answer": "O'Brien's"}),
        ("Sure: {'answer': 'It's \"quoted\"'} done", {"answer": 'It\'s "quoted"'}),
    ],
)
def test_single_quoted_json_with_apostrophes_in_values(text: str, values: dict[str, str]) -> None:
    result = JSONAdapter().parse_with_repairs(QA, text)
    assert result.values == values
    assert "python_literal" in [r.rule for r in result.repairs]


def test_single_quoted_json_with_several_fields_and_python_words() -> None:
    signature = Signature(
        "q -> answer, ok: bool, note: Optional[str]", types={"Optional": Optional}
    )
    text = "{'answer': 'It's 4', 'ok': True, 'note': None}"
    assert JSONAdapter().parse(signature, text) == {"answer": "It's 4", "ok": True, "note": None}


@pytest.mark.parametrize(
    ("signature", "text", "value"),
    [
        (NUMBER, "42", 42),
        (NUMBER, " 42\n", 42),
        (NUMBER, "```json\n42\n```", 42),
        (NUMBER, "42.0", 42),
        (QA, '"Paris"', "Paris"),
        (Signature("q -> ok: bool"), "true", True),
        (Signature("q -> n: Optional[int]", types={"Optional": Optional}), "null", None),
    ],
)
def test_a_bare_scalar_for_a_single_output(signature: Signature, text: str, value: object) -> None:
    result = JSONAdapter().parse_with_repairs(signature, text)
    assert list(result.values.values()) == [value]
    assert "bare_value" in [r.rule for r in result.repairs]


@pytest.mark.parametrize(
    ("signature", "text"),
    [
        (NUMBER, "The answer is 42"),
        (NUMBER, "42 or 43"),
        (QA, "Paris"),
        (SMALL, "42"),  # two outputs: a bare value names neither
        (Signature("q -> items: list[int]"), "I count [1, 2, 3] here"),
        (QA, "[[ ## answer ## ]]\nParis"),
    ],
)
def test_values_that_are_not_a_whole_json_answer_are_refused(
    signature: Signature, text: str
) -> None:
    with pytest.raises(AdapterParseError) as info:
        JSONAdapter().parse(signature, text)
    error = info.value
    assert error.adapter == "JSONAdapter" and error.raw == text
    assert error.expected.startswith("a JSON object with the keys")
    single = list(signature.output_fields)
    assert error.field == single[0]  # no field written: the first one is named


@pytest.mark.parametrize(
    ("value", "joined"),
    [
        (["Paris"], "Paris"),
        (["Paris", "Lyon"], "Paris\nLyon"),
        (["one", 2, 3.5], "one\n2\n3.5"),
    ],
)
def test_a_list_for_a_text_field_is_joined_and_recorded(value: list[object], joined: str) -> None:
    text = json.dumps({"answer": value})
    result = JSONAdapter().parse_with_repairs(QA, text)
    assert result.values == {"answer": joined}
    assert [(r.rule, r.field) for r in result.repairs] == [("list_joined", "answer")]


def test_a_nested_list_for_a_text_field_is_kept_as_json() -> None:
    result = JSONAdapter().parse_with_repairs(QA, '{"answer": [["a"], {"b": 1}]}')
    assert result.values == {"answer": '[["a"], {"b": 1}]'}
    assert [r.rule for r in result.repairs] == ["value_to_string"]
