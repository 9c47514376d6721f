"""Types and field options that cannot work are refused when the signature is built."""

from __future__ import annotations

import enum
from typing import Any, Literal, Optional

import pytest
from pydantic import BaseModel

from lmbench.adapters import ChatAdapter, JSONAdapter
from lmbench.errors import SignatureError
from lmbench.signatures import FieldSpec, InputField, OutputField, Signature


class Plain:
    """A class pydantic cannot read from JSON."""


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Point(BaseModel):
    x: int


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("x: str.__class__ -> y", "__class__"),
        ("x -> y: str.__class__", "__class__"),
        ("x -> y: int.__mro__", "__mro__"),
        ("x: dict[str] -> y", "dict[str]"),
        ("x -> y: dict[str]", "dict[str]"),
        ("x -> y: list[int, str]", "list[int, str]"),
        ("x -> y: list[dict[int]]", "dict[int]"),
        ("x -> y: Optional[dict[str]]", "dict[str]"),
        ("x -> y: set[int, int]", "set[int, int]"),
    ],
)
def test_impossible_types_in_string_signatures(text: str, named: str) -> None:
    with pytest.raises(SignatureError) as info:
        Signature(text, types={"Optional": Optional})
    assert named in str(info.value)


@pytest.mark.parametrize(
    ("annotation", "kind", "words"),
    [
        (type, "output", "type of classes"),
        (type, "input", "type of classes"),
        (type[int], "output", "type of classes"),
        (dict[str], "output", "two type arguments"),  # type: ignore[misc]
        (dict[str], "input", "two type arguments"),  # type: ignore[misc]
        (list[int, str], "output", "one type argument"),  # type: ignore[misc]
        (Plain, "output", "cannot be read from a model's answer"),
        (list[Plain], "output", "cannot be read from a model's answer"),
        ("int", "output", "is a string, not a type"),
        (42, "output", "not a type"),
    ],
)
def test_impossible_types_in_field_specs(annotation: Any, kind: str, words: str) -> None:
    specs = [FieldSpec("a", kind, annotation)]  # type: ignore[arg-type]
    if kind == "input":
        specs.append(FieldSpec("b", "output", str))
    with pytest.raises(SignatureError) as info:
        Signature(specs)
    assert words in str(info.value)
    assert f"{kind} field 'a'" in str(info.value)


def test_impossible_types_in_class_signatures() -> None:
    with pytest.raises(SignatureError, match="field 'answer'"):

        class Broken(Signature):
            question: str = InputField()
            answer: dict[str] = OutputField()  # type: ignore[type-arg]


@pytest.mark.parametrize(
    "annotation",
    [str, int, list[str], dict[str, int], list[Point] | None, Literal["a", "b"], Color, Any],
)
def test_usable_types_are_accepted(annotation: Any) -> None:
    Signature([FieldSpec("q", "input", Plain), FieldSpec("a", "output", annotation)])


# -- qualitative and aliases ---------------------------------------------------------------------


class Rating(Signature):
    review: str = InputField()
    confidence: float = OutputField(qualitative=True, ge=0, le=1)
    stars: int = OutputField(qualitative={"great": 5, "poor": 1})
    mood: Literal["positive", "negative"] = OutputField(aliases={"pos": "positive"})
    color: Color | None = OutputField(aliases={"crimson": "red", "verde": Color.GREEN})


def test_field_options_reach_every_adapter() -> None:
    chat = (
        "[[ ## confidence ## ]]\nHigh\n[[ ## stars ## ]]\ngreat\n[[ ## mood ## ]]\npos\n"
        "[[ ## color ## ]]\ncrimson\n[[ ## completed ## ]]"
    )
    result = ChatAdapter().parse_with_repairs(Rating, chat)
    assert result.values == {"confidence": 0.9, "stars": 5, "mood": "positive", "color": Color.RED}
    assert [r.rule for r in result.repairs] == [
        "qualitative_number",
        "qualitative_number",
        "enum_alias",
        "enum_alias",
    ]
    obj = '{"confidence": "very low", "stars": "poor", "mood": "negative", "color": "verde"}'
    assert JSONAdapter().parse(Rating, obj) == {
        "confidence": 0.05,
        "stars": 1,
        "mood": "negative",
        "color": Color.GREEN,
    }


def test_options_can_be_set_on_string_signatures() -> None:
    signature = Signature("q -> confidence: float").with_updated_fields(
        "confidence", qualitative=True
    )
    assert JSONAdapter().parse(signature, '{"confidence": "medium"}') == {"confidence": 0.5}


@pytest.mark.parametrize(
    ("annotation", "options", "words"),
    [
        (str, {"qualitative": True}, "must be a number"),
        (bool, {"qualitative": True}, "must be a number"),
        (int, {"qualitative": True}, "whole numbers"),
        (str, {"aliases": {"x": "y"}}, "Literal or an Enum"),
        (Literal["a", "b"], {"aliases": {"x": "c"}}, "not allowed"),
        (Color, {"aliases": {"x": "blue"}}, "not allowed"),
    ],
)
def test_options_that_cannot_apply_are_refused(
    annotation: Any, options: dict[str, Any], words: str
) -> None:
    with pytest.raises(SignatureError) as info:
        Signature("q -> a").with_updated_fields("a", annotation=annotation, **options)
    assert words in str(info.value) and "'a'" in str(info.value)


def test_options_on_inputs_are_refused() -> None:
    with pytest.raises(SignatureError, match="output fields only"):

        class Wrong(Signature):
            level: float = InputField(qualitative=True)
            answer: str = OutputField()


def test_bad_option_values_are_refused() -> None:
    with pytest.raises(TypeError, match="qualitative"):
        OutputField(qualitative="high")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="aliases"):
        OutputField(aliases=["pos"])  # type: ignore[arg-type]
