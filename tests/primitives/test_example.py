from __future__ import annotations

import pytest

from lmbench.primitives import Example


def test_fields_by_attribute_and_key() -> None:
    ex = Example(question="2+2?", answer="4")
    assert ex.question == "2+2?"
    assert ex["answer"] == "4"
    assert dict(ex) == {"question": "2+2?", "answer": "4"}


def test_with_inputs_splits_inputs_and_labels() -> None:
    ex = Example({"question": "2+2?"}, answer="4").with_inputs("question")
    assert ex.inputs().to_dict() == {"question": "2+2?"}
    assert ex.labels().to_dict() == {"answer": "4"}
    assert ex.input_keys == frozenset({"question"})


def test_errors_name_the_problem() -> None:
    ex = Example(question="q")
    with pytest.raises(ValueError, match="with_inputs"):
        ex.inputs()
    with pytest.raises(KeyError, match="'context'"):
        ex.with_inputs("context")
    with pytest.raises(AttributeError, match="no field 'answer'"):
        _ = ex.answer
    with pytest.raises(AttributeError, match="immutable"):
        ex.question = "other"


def test_equality_and_repr() -> None:
    a = Example(q="x").with_inputs("q")
    assert a == Example(q="x").with_inputs("q")
    assert a != Example(q="x")
    assert repr(a) == "Example(q='x') inputs=['q']"
