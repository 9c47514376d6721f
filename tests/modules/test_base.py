"""Module: calling a program from async code, with its call tree intact."""

from __future__ import annotations

import asyncio

from chat_answers import chat_answer as answer

from lmbench.lm.scripted import ScriptedLM
from lmbench.lm.types import LMRequest
from lmbench.modules import Module, Predict, ReAct
from lmbench.primitives import Prediction


def echo(request: LMRequest) -> str:
    """Answers with the question it was asked, doubled."""
    question = request.messages[-1].text.split("[[ ## question ## ]]\n", 1)[1].split("\n", 1)[0]
    return answer(answer=question * 2)


class AskTwice(Module):
    """Asks a question, then asks its answer."""

    def __init__(self, lm: ScriptedLM) -> None:
        self.first = Predict("question -> answer", lm=lm, adapter="chat")
        self.second = Predict("question -> answer", lm=lm, adapter="chat")

    def forward(self, question: str) -> Prediction:
        return self.second(question=self.first(question=question).answer)


async def test_acall_runs_forward_and_keeps_the_call_tree() -> None:
    program = AskTwice(ScriptedLM(echo))
    pred = await program.acall(question="ab")
    assert pred.answer == "abababab"
    assert pred.call.module == "AskTwice"
    assert [child.module for child in pred.call.children] == ["Predict", "Predict"]
    assert len(pred.lm_calls) == 2
    assert pred.answer == program(question="ab").answer


async def test_concurrent_acalls_keep_their_trees_apart() -> None:
    program = AskTwice(ScriptedLM(echo))
    preds = await asyncio.gather(*(program.acall(question=q) for q in ("a", "b", "c", "d")))
    assert [p.answer for p in preds] == ["aaaa", "bbbb", "cccc", "dddd"]
    assert len({p.call.call_id for p in preds}) == 4
    for pred in preds:
        assert [len(child.children) for child in pred.call.children] == [1, 1]
        asked = [call.request.messages[-1].text for call in pred.lm_calls]
        letter = pred.answer[0]  # every call of this tree was about this question
        assert all(f"[[ ## question ## ]]\n{letter}" in text for text in asked)


async def test_a_module_may_await_its_calls_in_aforward() -> None:
    class Awaiting(Module):
        def __init__(self) -> None:
            self.qa = Predict("question -> answer", lm=ScriptedLM(echo), adapter="chat")

        async def aforward(self, question: str) -> Prediction:
            return await self.qa.acall(question=question)

        def forward(self, question: str) -> Prediction:
            raise AssertionError("acall must not fall back to forward when aforward is defined")

    pred = await Awaiting().acall(question="xy")
    assert pred.answer == "xyxy"
    assert pred.call.module == "Awaiting"
    assert [child.module for child in pred.call.children] == ["Predict"]


async def test_composite_modules_can_be_awaited() -> None:
    lm = ScriptedLM(
        [
            answer(next_thought="Done already.", next_tool_name="finish", next_tool_args="{}"),
            answer(reasoning="Nothing to look up.", answer="42"),
        ]
    )
    agent = ReAct("question -> answer: int", tools=[], lm=lm)
    pred = await agent.acall(question="The answer?")
    assert pred.answer == 42
    assert pred.call.module == "ReAct" and len(pred.lm_calls) == 2
