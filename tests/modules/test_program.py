"""Program: steps fed by name, outputs merged, one usage total, wiring errors before any call."""

from __future__ import annotations

import asyncio

import pytest
from chat_answers import chat_answer as answer

from lmbench.errors import ConfigError, InputError
from lmbench.lm.scripted import ScriptedLM
from lmbench.modules import BestOfN, ChainOfThought, Module, Predict, Program
from lmbench.primitives.prediction import Prediction


def writer(lm: ScriptedLM) -> Program:
    return Program(
        ChainOfThought("topic -> outline", lm=lm),
        Predict("topic, outline -> article", lm=lm),
        Predict("article -> title", lm=lm),
    )


def script() -> ScriptedLM:
    return ScriptedLM(
        [
            answer(reasoning="Cover life and tides.", outline="1. life 2. tides"),
            answer(article="Tide pools teem with life."),
            answer(title="Life Between Tides"),
        ]
    )


def test_each_step_gets_its_inputs_by_name_and_the_outputs_are_merged() -> None:
    lm = script()
    pred = writer(lm)(topic="tide pools")
    assert dict(pred) == {
        "reasoning": "Cover life and tides.",
        "outline": "1. life 2. tides",
        "article": "Tide pools teem with life.",
        "title": "Life Between Tides",
    }
    second, third = lm.requests[1].messages[-1].text, lm.requests[2].messages[-1].text
    assert "tide pools" in second and "1. life 2. tides" in second
    assert "Tide pools teem with life." in third and "tide pools" not in third
    assert [type(s).__name__ for s in pred.steps] == ["Prediction"] * 3
    assert pred.inputs == {"topic": "tide pools"}


def test_the_prediction_totals_the_usage_and_cost_of_every_step() -> None:
    pred = writer(script())(topic="tide pools")
    assert pred.call.module == "Program"
    assert len(pred.lm_calls) == 3
    steps_usage = [s.usage.total_tokens for s in pred.steps]
    assert pred.usage.total_tokens == sum(steps_usage) > 0
    assert pred.cost == 0.0  # scripted models are free


def test_a_missing_input_names_the_input_and_the_step_before_any_call() -> None:
    lm = script()
    program = Program(
        ChainOfThought("topic -> outline", lm=lm), Predict("outline, audience -> article", lm=lm)
    )
    with pytest.raises(InputError) as caught:
        program(topic="tide pools")
    message = str(caught.value)
    assert "Program step 2 (Predict(outline, audience -> article))" in message
    assert "needs input(s) ['audience']" in message
    assert "available: ['outline', 'reasoning', 'topic']" in message
    assert lm.requests == []  # nothing ran

    with pytest.raises(InputError, match=r"step 1 .* needs input\(s\) \['topic'\]"):
        writer(script())(subject="tide pools")


class Shout(Module):
    """A user module with a plain forward and no declared outputs."""

    def forward(self, title: str) -> dict[str, str]:
        return {"shout": title.upper()}


def test_user_modules_functions_and_wrappers_are_steps() -> None:
    lm = ScriptedLM([answer(title="Calm Seas")], repeat=True)

    def exclaim(shout: str, suffix: str = "!") -> dict[str, str]:
        return {"final": shout + suffix}

    best = BestOfN(Predict("topic -> title", lm=lm), n=2, reward_fn=lambda i, p: 1.0, threshold=1)
    pred = Program(best, Shout(), exclaim)(topic="sea")
    assert pred.title == "Calm Seas" and pred.shout == "CALM SEAS" and pred.final == "CALM SEAS!"

    def needs_more(missing: str) -> dict[str, str]:
        return {}

    with pytest.raises(
        InputError, match=r"Program step 3 \(needs_more\) needs input\(s\) \['missing'\]"
    ):
        Program(best, Shout(), needs_more)(topic="sea")


def test_a_step_returning_something_without_names_is_a_clear_error() -> None:
    def number(topic: str) -> int:
        return 3

    with pytest.raises(ConfigError, match=r"Program step 1 \(number\) returned 3 \(int\)"):
        Program(number)(topic="x")
    with pytest.raises(ConfigError, match="at least one step"):
        Program()
    with pytest.raises(ConfigError, match="Program step 2 is 'oops'"):
        Program(Shout(), "oops")  # type: ignore[arg-type]


def test_program_can_be_awaited_and_its_predictors_are_found() -> None:
    program = writer(script())

    async def run() -> Prediction:
        return await program.acall(topic="tide pools")

    assert asyncio.run(run()).title == "Life Between Tides"
    assert [name for name, _ in program.named_predictors()] == [
        "steps[0]",
        "steps[1]",
        "steps[2]",
    ]
