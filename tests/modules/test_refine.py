"""Refine: advice written after a miss reaches the next attempt through a ``hint`` input."""

from __future__ import annotations

from typing import Any

import pytest
from chat_answers import chat_answer as answer
from paris import is_paris

from lmbench.errors import ConfigError, SignatureError
from lmbench.lm.scripted import ScriptedLM
from lmbench.modules.base import Module
from lmbench.modules.chain_of_thought import ChainOfThought
from lmbench.modules.predict import Predict
from lmbench.modules.refine import Refine
from lmbench.primitives.prediction import Prediction


def prompt(request: Any) -> str:
    return "\n".join(m.text for m in request.messages)


def test_advice_after_a_miss_is_the_next_attempts_hint() -> None:
    lm = ScriptedLM(
        [
            answer(answer="Lyon"),
            answer(advice="Give the capital, not the largest city you think of."),
            answer(answer="Paris"),
        ]
    )
    qa = Predict("question -> answer", lm=lm)
    pred = Refine(qa, n=3, reward_fn=is_paris, threshold=1.0)(question="Capital of France?")
    assert pred.answer == "Paris"
    assert [r.inputs["hint"] for r in pred.rollouts] == [
        "",
        "Give the capital, not the largest city you think of.",
    ]
    first, advice, second = (prompt(r) for r in lm.requests)
    assert "hint" in first
    assert '{"question": "Capital of France?"}' in advice
    assert '{"answer": "Lyon"}' in advice
    assert "Give the capital, not the largest city you think of." in second
    assert [c.request for c in pred.lm_calls] == lm.requests


def test_the_given_predict_is_left_unchanged() -> None:
    qa = ChainOfThought("question -> answer")
    refine = Refine(qa, n=2, reward_fn=is_paris, threshold=1.0)
    assert "hint" not in qa.signature.fields
    assert list(refine.module.signature.input_fields) == ["question", "hint"]
    assert isinstance(refine.module, ChainOfThought)
    assert [name for name, _ in refine.named_predictors()] == ["module", "advise"]


def test_no_advice_is_asked_for_when_the_first_attempt_succeeds() -> None:
    lm = ScriptedLM([answer(answer="Paris")])
    pred = Refine(Predict("question -> answer", lm=lm), n=3, reward_fn=is_paris, threshold=1.0)(
        question="Capital of France?"
    )
    assert pred.answer == "Paris"
    assert len(lm.requests) == 1


class HintedProgram(Module):
    """A user program taking the hint itself."""

    def __init__(self, outcomes: list[Any]) -> None:
        self.outcomes = list(outcomes)
        self.hints: list[str] = []

    def forward(self, question: str, hint: str = "") -> Prediction:
        self.hints.append(hint)
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return Prediction({"answer": outcome})


def test_a_failed_attempt_gets_advice_from_its_error() -> None:
    lm = ScriptedLM([answer(advice="Answer in one word.")])
    program = HintedProgram([ValueError("could not parse 'answer'"), "Paris"])
    refine = Refine(program, n=3, reward_fn=is_paris, threshold=1.0, advice_lm=lm)
    pred = refine(question="Capital of France?")
    assert pred.answer == "Paris"
    assert program.hints == ["", "Answer in one word."]
    assert "error: ValueError: could not parse 'answer'" in prompt(lm.requests[0])


def test_a_module_that_cannot_take_a_hint_is_refused() -> None:
    class NoHint(Module):
        def forward(self, question: str) -> Prediction:
            return Prediction({"answer": question})

    with pytest.raises(ConfigError, match="forward\\(\\) has no `hint` parameter"):
        Refine(NoHint(), n=2, reward_fn=is_paris, threshold=1.0)
    with pytest.raises(SignatureError, match="already has a field named 'hint'"):
        Refine(Predict("question, hint -> answer"), n=2, reward_fn=is_paris, threshold=1.0)
