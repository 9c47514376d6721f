from __future__ import annotations

import pytest

import lmbench
from lmbench.lm import ScriptedLM

ANSWER = "[[ ## reasoning ## ]]\n2 and 2 make 4.\n\n[[ ## answer ## ]]\n4\n\n[[ ## completed ## ]]"


def test_reasoning_comes_before_the_outputs() -> None:
    lm = ScriptedLM([ANSWER])
    cot = lmbench.ChainOfThought("question -> answer: int", lm=lm, adapter="chat")
    pred = cot(question="2+2?")
    assert pred.reasoning == "2 and 2 make 4."
    assert pred.answer == 4
    assert list(pred) == ["reasoning", "answer"]
    prompt = lm.last_prompt
    assert prompt.index("[[ ## reasoning ## ]]") < prompt.index("[[ ## answer ## ]]")
    assert list(cot.signature.output_fields) == ["answer"]  # the user's signature is unchanged


def test_changed_instructions_reach_the_extended_signature() -> None:
    lm = ScriptedLM([ANSWER])
    cot = lmbench.ChainOfThought("question -> answer: int", lm=lm, adapter="chat")
    cot.signature = cot.signature.with_instructions("Count carefully.")
    cot(question="2+2?")
    assert "Count carefully." in lm.last_prompt


def test_a_reasoning_field_of_its_own_is_refused() -> None:
    with pytest.raises(ValueError, match="already has a field named 'reasoning'"):
        lmbench.ChainOfThought("question -> reasoning, answer")
