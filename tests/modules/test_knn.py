"""KNN picks demos by similarity, with the real local embedder."""

from __future__ import annotations

import pytest

pytest.importorskip("onnxruntime")

from lmbench.errors import ConfigError, InputError
from lmbench.lm.scripted import ScriptedLM
from lmbench.modules import Predict
from lmbench.modules.knn import KNN
from lmbench.primitives import Example

TRAINSET = [
    Example(question="What is 2 + 2?", answer="4").with_inputs("question"),
    Example(question="What is the capital of Italy?", answer="Rome").with_inputs("question"),
    Example(question="How much is 7 times 6?", answer="42").with_inputs("question"),
    Example(question="Which city is the capital of Spain?", answer="Madrid").with_inputs(
        "question"
    ),
]


def test_nearest_examples_first() -> None:
    knn = KNN(2, TRAINSET)
    demos = knn(question="What is the capital of Portugal?")
    assert {d.answer for d in demos} == {"Rome", "Madrid"}
    assert next(d.answer for d in knn(question="What is 9 plus 3?")) in {"4", "42"}


def test_demos_reach_the_prompt() -> None:
    lm = ScriptedLM(["[[ ## answer ## ]]\nLisbon\n\n[[ ## completed ## ]]"])
    qa = Predict("question -> answer", lm=lm)
    knn = KNN(1, TRAINSET)
    question = "Which city is the capital of France?"
    qa(question=question, demos=knn(question=question))
    prompt = "\n".join(m.text for m in lm.requests[0].messages)
    assert "Madrid" in prompt or "Rome" in prompt
    assert "42" not in prompt


def test_bad_input() -> None:
    with pytest.raises(ConfigError, match="k is how many"):
        KNN(0, TRAINSET)
    with pytest.raises(InputError, match="empty"):
        KNN(1, [])
    with pytest.raises(InputError, match="no inputs marked"):
        KNN(1, [Example(question="q", answer="a")])(question="x")
    with pytest.raises(InputError, match="none of the input fields"):
        KNN(1, TRAINSET)(query="x")
    assert (
        len(KNN(1, [{"question": "q", "answer": "a"}], input_keys=["question"])(question="q")) == 1
    )
