from __future__ import annotations

import datetime
import enum
from typing import Literal, Optional

import pytest
from pydantic import BaseModel

from lmbench.errors import SignatureError
from lmbench.signatures import InputField, OutputField, Signature, ensure_signature


class Money(BaseModel):
    amount: float
    currency: str


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


def test_string_signature_fields_and_types() -> None:
    sig = Signature("question, context: list[str] -> answer, confidence: float")
    assert list(sig.input_fields) == ["question", "context"]
    assert list(sig.output_fields) == ["answer", "confidence"]
    assert sig.fields["context"].annotation == list[str]
    assert sig.fields["confidence"].annotation is float
    assert sig.fields["question"].annotation is str


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("int", int),
        ("bool", bool),
        ("dict[str, int]", dict[str, int]),
        ("Literal['a', 'b']", Literal["a", "b"]),
        ("Optional[int]", Optional[int]),  # noqa: UP045
        ("int | None", int | None),
        ("datetime", datetime.datetime),
        ("date", datetime.date),
        ("list[dict[str, float]]", list[dict[str, float]]),
    ],
)
def test_string_signature_type_expressions(text: str, expected: object) -> None:
    sig = Signature(f"x -> y: {text}")
    assert sig.fields["y"].annotation == expected


def test_user_types_are_passed_explicitly() -> None:
    sig = Signature("text -> price: Money, color: Color", types={"Money": Money, "Color": Color})
    assert sig.fields["price"].annotation is Money
    assert sig.fields["color"].annotation is Color


def test_unknown_type_names_the_fix() -> None:
    with pytest.raises(SignatureError) as info:
        Signature("text -> price: Money")
    message = str(info.value)
    assert "unknown type 'Money'" in message
    assert "types={'Money': Money}" in message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("question answer", "exactly one '->'"),
        ("a -> b -> c", "exactly one '->'"),
        ("question ->", "no output fields"),
        ("a, a -> b", "more than once"),
        ("a b -> c", "not a valid identifier"),
        ("a -> b: __import__('os')", "not allowed"),
        ("a -> b: list[", "not a valid type expression"),
    ],
)
def test_bad_string_signatures(text: str, fragment: str) -> None:
    with pytest.raises(SignatureError, match=None) as info:
        Signature(text)
    assert fragment in str(info.value)


def test_class_signature_is_a_signature_value() -> None:
    class QA(Signature):
        """Answer the question briefly."""

        question: str = InputField(desc="a question")
        answer: int = OutputField(ge=0, desc="a count")

    assert isinstance(QA, Signature)
    assert QA.name == "QA"
    assert QA.instructions == "Answer the question briefly."
    assert QA.fields["question"].desc == "a question"
    assert QA.fields["answer"].constraint_dict() == {"ge": 0}
    assert str(QA) == "question -> answer: int"


def test_class_signature_needs_field_markers() -> None:
    with pytest.raises(SignatureError, match="InputField\\(\\) or OutputField\\(\\)"):

        class Bad(Signature):
            question: str

    with pytest.raises(SignatureError, match="need a type annotation"):

        class Bad2(Signature):
            question = InputField()
            answer: str = OutputField()


def test_unknown_field_option() -> None:
    with pytest.raises(TypeError, match="unknown field option"):
        OutputField(maximum=3)


def test_default_instructions_name_the_fields() -> None:
    sig = Signature("question, context -> answer")
    assert (
        sig.instructions == "Given the fields `question`, `context`, produce the fields `answer`."
    )


def test_signatures_are_immutable_values() -> None:
    a = Signature("question -> answer")
    b = Signature("question -> answer")
    assert a == b and hash(a) == hash(b)
    assert a != a.with_instructions("Be terse.")
    with pytest.raises(AttributeError, match="immutable"):
        a.foo = 1  # type: ignore[attr-defined]


def test_with_instructions_append_prepend_delete_update() -> None:
    sig = Signature("question -> answer")
    assert sig.with_instructions("Be terse.").instructions == "Be terse."
    appended = sig.append("confidence", OutputField(desc="0-1"), float)
    assert list(appended.output_fields) == ["answer", "confidence"]
    prepended = sig.prepend("reasoning", OutputField(), str)
    assert list(prepended.output_fields) == ["reasoning", "answer"]
    with_input = sig.append("context", InputField(), list[str])
    assert list(with_input.input_fields) == ["question", "context"]
    assert list(with_input.fields) == ["question", "context", "answer"]
    assert list(appended.delete("confidence").fields) == ["question", "answer"]
    updated = sig.with_updated_fields("answer", desc="one word", type_=int)
    assert updated.fields["answer"].desc == "one word"
    assert updated.fields["answer"].annotation is int
    assert sig.fields["answer"].annotation is str  # the original is unchanged


def test_changes_name_missing_fields() -> None:
    sig = Signature("question -> answer")
    with pytest.raises(SignatureError, match="no field 'answr'"):
        sig.delete("answr")
    with pytest.raises(SignatureError, match="cannot update"):
        sig.with_updated_fields("answer", colour="red")
    with pytest.raises(SignatureError, match="at least one output"):
        sig.delete("answer")


def test_repr_and_str() -> None:
    sig = Signature("question, k: int -> answer", instructions="Answer well.\nMore text.")
    assert str(sig) == "question, k: int -> answer"
    assert repr(sig) == "Signature(question, k: int -> answer)\n    instructions='Answer well.'"


def test_output_schema_carries_types_descriptions_constraints() -> None:
    class Rate(Signature):
        text: str = InputField()
        label: Literal["good", "bad"] = OutputField(desc="verdict")
        score: float = OutputField(ge=0, le=1)
        tags: list[str] = OutputField()

    schema = Rate.output_schema()
    props = schema["properties"]
    assert props["label"] == {
        "description": "verdict",
        "enum": ["good", "bad"],
        "title": "Label",
        "type": "string",
    }
    assert props["score"]["minimum"] == 0 and props["score"]["maximum"] == 1
    assert props["tags"] == {"items": {"type": "string"}, "title": "Tags", "type": "array"}
    assert schema["required"] == ["label", "score", "tags"]


def test_ensure_signature() -> None:
    sig = Signature("a -> b")
    assert ensure_signature(sig) is sig
    assert ensure_signature("a -> b") == sig
    with pytest.raises(SignatureError, match="expected a Signature"):
        ensure_signature(42)  # type: ignore[arg-type]
