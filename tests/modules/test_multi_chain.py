"""MultiChainComparison: M attempts shown side by side, a final answer with reasoning."""

from __future__ import annotations

import pytest
from chat_answers import chat_answer as answer

from lmbench.errors import ConfigError, InputError, SignatureError
from lmbench.lm.scripted import ScriptedLM
from lmbench.lm.types import LMRequest, LMResponse
from lmbench.modules.multi_chain import MultiChainComparison
from lmbench.settings import context


def prompt(request: LMRequest) -> str:
    return "\n".join(m.text for m in request.messages)


VERDICT = answer(reasoning="Attempts 1 and 3 agree; 17 * 3 = 51.", answer="51")


def test_compares_given_completions_in_one_call() -> None:
    lm = ScriptedLM([VERDICT])
    compare = MultiChainComparison("question -> answer: int", M=3, lm=lm)
    completions = [
        {"reasoning": "17 * 3 = 51", "answer": 51},
        {"reasoning": "17 * 3 = 41", "answer": 41},
        {"reasoning": "10*3 + 7*3 = 51", "answer": 51},
    ]
    pred = compare(question="What is 17 * 3?", completions=completions)
    assert (pred.reasoning, pred.answer) == ("Attempts 1 and 3 agree; 17 * 3 = 51.", 51)
    [request] = lm.requests
    text = prompt(request)
    assert "reasoning: 17 * 3 = 41\nanswer: 41" in text
    assert "reasoning: 10*3 + 7*3 = 51\nanswer: 51" in text
    assert "3 independent attempts" in text
    assert pred.call.module == "MultiChainComparison"


def test_makes_its_own_attempts_with_one_request_for_m_choices() -> None:
    attempts = [answer(reasoning=f"try {i}", answer=str(50 + i)) for i in range(3)]
    lm = ScriptedLM([*attempts, VERDICT])
    pred = MultiChainComparison("question -> answer: int", M=3, lm=lm)(question="17 * 3?")
    assert pred.answer == 51
    generation, comparison = lm.requests
    assert (generation.n, generation.temperature) == (3, 1.0)
    assert "reasoning: try 2\nanswer: 52" in prompt(comparison)
    assert [c.request for c in pred.lm_calls] == lm.requests


class OneChoiceLM(ScriptedLM):
    """An LM that ignores ``n`` and always returns a single choice."""

    def generate(self, request: LMRequest) -> LMResponse:
        return super().generate(request.replace(n=1))


def test_asks_again_when_the_lm_returns_fewer_choices() -> None:
    attempts = [answer(reasoning=f"try {i}", answer=str(i)) for i in range(3)]
    lm = OneChoiceLM([*attempts, VERDICT])
    with context(temperature=0.5):
        pred = MultiChainComparison("question -> answer: int", M=3, lm=lm)(question="17 * 3?")
    assert pred.answer == 51
    assert len(lm.requests) == 4
    assert all(r.temperature == 0.5 for r in lm.requests)
    comparison = prompt(lm.requests[-1])
    assert all(f"reasoning: try {i}\nanswer: {i}" in comparison for i in range(3))


def test_the_number_of_completions_must_be_m() -> None:
    compare = MultiChainComparison("question -> answer", M=2, lm=ScriptedLM([]))
    with pytest.raises(InputError, match="has 1 completions to compare; it needs exactly 2"):
        compare(question="q", completions=[{"answer": "a"}])
    with pytest.raises(InputError, match="none of the output fields \\['answer'\\]"):
        compare(question="q", completions=[{"answer": "a"}, {"verdict": "b"}])


def test_bad_constructions_are_refused() -> None:
    with pytest.raises(SignatureError, match="attempt_2"):
        MultiChainComparison("question, attempt_2 -> answer", M=3)
    with pytest.raises(ConfigError, match="M=0"):
        MultiChainComparison("question -> answer", M=0)
