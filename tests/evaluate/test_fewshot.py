"""LabeledFewShot and BootstrapFewShot: compiled copies carry demos, save and load as JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from evaluate_helpers import chat, items

import lmbench
from lmbench import metrics
from lmbench.errors import ConfigError
from lmbench.evaluate import BootstrapFewShot, LabeledFewShot
from lmbench.lm.scripted import ScriptedLM
from lmbench.lm.types import LMRequest
from lmbench.modules.base import Module
from lmbench.modules.chain_of_thought import ChainOfThought
from lmbench.modules.predict import Predict


def learner(request: LMRequest) -> str:
    """Answers 'answer-N' when the prompt shows a demo of that format, else 'N'."""
    prompt = "\n".join(m.text for m in request.messages)
    number = re.findall(r"item (\d+)", request.messages[-1].text)[-1]
    return chat(answer=f"answer-{number}" if "answer-" in prompt else number)


def test_labeled_few_shot_gives_k_demos_to_a_copy() -> None:
    qa = Predict("question -> answer", lm=ScriptedLM(learner))
    compiled = LabeledFewShot(k=3).compile(qa, items(10))
    assert qa.demos == [] and len(compiled.demos) == 3
    assert all(set(d) == {"question", "answer"} for d in compiled.demos)
    assert compiled.lm is qa.lm  # the LM object is shared, not copied
    assert LabeledFewShot(k=3).compile(qa, items(10)).demos == compiled.demos  # fixed seed
    with pytest.raises(ConfigError, match="no training example has the outputs"):
        LabeledFewShot(k=2).compile(Predict("question -> label"), items(3))


def test_a_score_goes_up_with_demos_and_the_compiled_program_saves_as_json(tmp_path: Path) -> None:
    qa = Predict("question -> answer", lm=ScriptedLM(learner))
    before = lmbench.evaluate(qa, items(10, start=50), metrics.exact_match, progress=False)
    compiled = LabeledFewShot(k=2).compile(qa, items(5))
    after = lmbench.evaluate(compiled, items(10, start=50), metrics.exact_match, progress=False)
    assert before.score == 0.0 and after.score == 1.0
    path = compiled.save(tmp_path / "qa.json")
    saved = json.loads(path.read_text())
    assert saved["state"]["self"]["demos"] == compiled.demos
    reloaded = Predict("question -> answer", lm=ScriptedLM(learner)).load(path)
    assert reloaded.demos == compiled.demos


def test_bootstrap_keeps_traces_of_examples_that_passed_the_metric() -> None:
    def teacher_answer(request: LMRequest) -> str:
        text = request.messages[-1].text
        number = int(re.findall(r"item (\d+)", text)[-1])
        reasoning = f"item {number} maps to answer-{number}"
        return chat(reasoning=reasoning, answer="wrong" if number % 2 else f"answer-{number}")

    program = ChainOfThought("question -> answer", lm=ScriptedLM(teacher_answer))
    optimizer = BootstrapFewShot(metrics.exact_match, max_demos=2)
    compiled = optimizer.compile(program, items(8))
    assert optimizer.passed == [1, 3]  # items 2 and 4: the odd items failed the metric
    assert [d["answer"] for d in compiled.demos] == ["answer-2", "answer-4"]
    assert compiled.demos[0]["reasoning"] == "item 2 maps to answer-2"  # the teacher's trace
    assert program.demos == [] and type(compiled) is ChainOfThought


def test_bootstrap_gives_inner_steps_demos_the_data_does_not_have() -> None:
    class TwoSteps(Module):
        def __init__(self, lm: Any = None) -> None:
            self.draft = Predict("question -> draft", lm=lm)
            self.final = Predict("question, draft -> answer", lm=lm)

        def forward(self, question: str) -> Any:
            draft = self.draft(question=question).draft
            return self.final(question=question, draft=draft)

    def answer(request: LMRequest) -> str:
        text = request.messages[-1].text
        number = re.findall(r"item (\d+)", text)[-1]
        if "maybe" in text:  # the final step sees the draft
            return chat(answer=f"answer-{number}")
        return chat(draft=f"maybe {number}")

    lm = ScriptedLM(answer)
    compiled = BootstrapFewShot("exact_match", max_demos=1, teacher=TwoSteps(lm)).compile(
        TwoSteps(lm), items(3)
    )
    assert compiled.draft.demos == [{"question": "What is item 1?", "draft": "maybe 1"}]
    assert compiled.final.demos[0]["answer"] == "answer-1"
    with pytest.raises(ConfigError, match="teacher has predictors"):
        BootstrapFewShot("exact_match", teacher=Predict("question -> answer")).compile(
            TwoSteps(lm), items(1)
        )
