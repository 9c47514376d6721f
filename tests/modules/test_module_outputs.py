"""``on_module_end`` callbacks get what each module returned, for every kind of module."""

from __future__ import annotations

from typing import Any

import pytest

import lmbench
from lmbench.calls import Callback, CallbackEvent
from lmbench.lm import ScriptedLM

ANSWER = "[[ ## answer ## ]]\n4\n\n[[ ## completed ## ]]"
COT = "[[ ## reasoning ## ]]\n2+2\n\n[[ ## answer ## ]]\n4\n\n[[ ## completed ## ]]"


class Ends(Callback):
    def __init__(self) -> None:
        self.outputs: list[tuple[str, Any]] = []

    def on_module_end(self, event: CallbackEvent) -> None:
        self.outputs.append((event.call.module, event.outputs))


class Plain(lmbench.Module):
    def __init__(self) -> None:
        self.qa = lmbench.Predict("question -> answer")

    def forward(self, **inputs: Any) -> Any:
        return self.qa(**inputs)


def _programs() -> dict[str, Any]:
    return {
        "Predict": lmbench.Predict("question -> answer"),
        "ChainOfThought": lmbench.ChainOfThought("question -> answer"),
        "Plain": Plain(),
        "Program": lmbench.Program(lmbench.Predict("question -> answer")),
        "BestOfN": lmbench.BestOfN(
            lmbench.Predict("question -> answer"), n=1, reward_fn=lambda *_: 1.0, threshold=0.5
        ),
    }


@pytest.mark.parametrize("name", list(_programs()))
@pytest.mark.parametrize("how", ["call", "acall", "stream"])
def test_module_end_carries_the_result(name: str, how: str) -> None:
    program = _programs()[name]
    ends = Ends()
    lm = ScriptedLM([COT if name == "ChainOfThought" else ANSWER], repeat=True)
    with lmbench.context(lm=lm, callbacks=[ends], cache=False):
        if how == "call":
            result = program(question="2+2?")
        elif how == "acall":
            import asyncio

            result = asyncio.run(program.acall(question="2+2?"))
        else:
            result = list(program.stream(question="2+2?"))[-1]
    outer_module, outer_outputs = ends.outputs[-1]
    assert outer_module == type(program).__name__
    assert outer_outputs is result
    assert result.answer == "4"
    assert all(outputs is not None for _, outputs in ends.outputs), ends.outputs


def test_parallel_module_end_carries_every_result() -> None:
    ends = Ends()
    qa = lmbench.Predict("question -> answer")
    with lmbench.context(lm=ScriptedLM([ANSWER], repeat=True), callbacks=[ends], cache=False):
        results = lmbench.Parallel(num_threads=2)(
            [(qa, {"question": "a"}), (qa, {"question": "b"})]
        )
    module, outputs = ends.outputs[-1]
    assert module == "Parallel" and outputs is results
    assert [r.answer for r in outputs] == ["4", "4"]
