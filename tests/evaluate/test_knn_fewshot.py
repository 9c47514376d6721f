"""KNNFewShot: each call gets the training examples nearest to its inputs as demos
(real local embedder; a scripted LM records the prompts)."""

from __future__ import annotations

import pytest

pytest.importorskip("onnxruntime")

from lmbench.errors import ConfigError
from lmbench.evaluate import KNNFewShot
from lmbench.lm.scripted import ScriptedLM
from lmbench.modules import ChainOfThought, Module, Predict
from lmbench.primitives import Example

TRAINSET = [
    Example(question="What is 12 times 3?", answer="36").with_inputs("question"),
    Example(question="Which river runs through Paris?", answer="The Seine").with_inputs("question"),
    Example(question="How much is 15 plus 27?", answer="42").with_inputs("question"),
    Example(question="What is the capital of Japan?", answer="Tokyo").with_inputs("question"),
]
ANSWER = "[[ ## answer ## ]]\nok\n\n[[ ## completed ## ]]"


def test_each_call_gets_its_nearest_examples_as_demos() -> None:
    lm = ScriptedLM(lambda request: ANSWER)
    program = Predict("question -> answer", lm=lm)
    compiled = KNNFewShot(k=2).compile(program, TRAINSET)
    compiled(question="What is 7 plus 8?")
    compiled(question="What is the capital of Italy?")
    maths, places = lm.requests[0], lm.requests[1]
    maths_prompt = "\n".join(m.text for m in maths.messages)
    places_prompt = "\n".join(m.text for m in places.messages)
    assert "15 plus 27" in maths_prompt and "capital of Japan" not in maths_prompt
    assert "capital of Japan" in places_prompt and "12 times 3" not in places_prompt
    assert program.demos == []  # the original program is untouched
    assert compiled.demos_for(question="9 times 4?")[0].labels["answer"] == "36"


def test_multi_step_programs_and_bad_input() -> None:
    lm = ScriptedLM(lambda request: "[[ ## reasoning ## ]]\nr\n\n" + ANSWER)

    class Twice(Module):
        def __init__(self) -> None:
            self.first = ChainOfThought("question -> answer", lm=lm)

        def forward(self, question: str):
            return self.first(question=question)

    compiled = KNNFewShot(k=1).compile(Twice(), TRAINSET)
    assert compiled(question="Which river crosses London?").answer == "ok"
    assert "The Seine" in "\n".join(m.text for m in lm.requests[0].messages)
    with pytest.raises(ConfigError, match="k is the number of demos"):
        KNNFewShot(k=0)
    with pytest.raises(ConfigError, match="empty"):
        KNNFewShot().compile(Predict("question -> answer"), [])
