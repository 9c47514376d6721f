from __future__ import annotations

import pytest
from pydantic import BaseModel

from lmbench.adapters.base import AdapterAttempt
from lmbench.primitives import Conversation as History
from lmbench.primitives import Prediction
from lmbench.signatures import signature_from_models


def test_fields_by_attribute_and_key_and_completions() -> None:
    pred = Prediction({"answer": "4"}, completions=[{"answer": "4"}, {"answer": "5"}])
    assert pred.answer == "4" and pred["answer"] == "4"
    assert [c["answer"] for c in pred.completions] == ["4", "5"]
    assert pred == {"answer": "4"}
    assert "(2 completions)" in repr(pred)
    with pytest.raises(AttributeError, match="its fields are \\['answer'\\]"):
        _ = pred.answr


def test_without_a_call_usage_is_zero_and_trace_empty() -> None:
    pred = Prediction({"answer": "4"})
    assert pred.usage.total_tokens == 0
    assert pred.trace == {}
    assert pred.lm_calls == []


def test_fell_back_reflects_attempts() -> None:
    ok = Prediction({"a": 1}, attempts=[AdapterAttempt("ChatAdapter")])
    fell = Prediction(
        {"a": 1},
        attempts=[AdapterAttempt("ChatAdapter", error="no markers"), AdapterAttempt("JSONAdapter")],
    )
    assert not ok.fell_back
    assert fell.fell_back


def test_as_model_for_typed_signatures() -> None:
    class In(BaseModel):
        text: str

    class Out(BaseModel):
        label: str

    pred = Prediction({"label": "spam"}, signature=signature_from_models(In, Out))
    assert pred.as_model() == Out(label="spam")
    with pytest.raises(TypeError, match="typed\\(\\)"):
        Prediction({"label": "x"}).as_model()


def test_history_is_immutable_and_appends() -> None:
    history = History([{"question": "hi", "answer": "hello"}])
    longer = history.append({"question": "and?", "answer": "bye"})
    assert len(history) == 1 and len(longer) == 2
    assert list(longer)[1] == {"question": "and?", "answer": "bye"}


def test_from_inner_keeps_the_step_outputs_and_details_with_the_module_inputs() -> None:
    inner = Prediction(
        {"answer": "4"},
        completions=[{"answer": "4"}, {"answer": "5"}],
        inputs={"question": "2+2?", "trajectory": "steps"},
        adapter="JSONAdapter",
        attempts=[AdapterAttempt("ChatAdapter", error="no markers"), AdapterAttempt("JSONAdapter")],
    )
    outer = Prediction.from_inner(inner, inputs={"question": "2+2?"})
    assert outer == {"answer": "4"} and outer is not inner
    assert outer.completions == inner.completions
    assert outer.inputs == {"question": "2+2?"}
    assert outer.adapter == "JSONAdapter"
    assert [a.adapter for a in outer.attempts] == ["ChatAdapter", "JSONAdapter"]
    assert outer.signature is inner.signature and outer.call is None
