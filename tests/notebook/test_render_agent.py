"""ReAct trajectories and BestOfN/Refine attempts shown under their prediction."""

from __future__ import annotations

import json
from typing import Any

from paris import paris_best_of_n

from lmbench.lm import ScriptedLM
from lmbench.modules import Predict, ReAct
from lmbench.notebook.render_prediction import prediction_html, prediction_text

from .conftest import chat_answer, unstyled


def temperature(city: str) -> int:
    """The temperature of a city."""
    return {"Paris": 21}[city]


def step(thought: str, tool: str, args: dict[str, Any]) -> str:
    return chat_answer(next_thought=thought, next_tool_name=tool, next_tool_args=json.dumps(args))


def test_a_react_prediction_shows_its_steps_notices_and_stop_reason() -> None:
    lm = ScriptedLM(
        [
            step("Look <up> Paris.", "temperature", {"city": "Paris"}),
            step("Again.", "temperature", {"city": "Paris"}),
            step("Rome?", "temperature", {"city": "Rome"}),
            step("Done.", "finish", {}),
            chat_answer(reasoning="21.", answer="21"),
        ]
    )
    pred = ReAct("question -> answer", tools=[temperature], lm=lm)(question="Paris?")
    html = prediction_html(pred)
    assert "Trajectory (4 steps)" in html
    assert "Look &lt;up&gt; Paris." in html  # escaped
    assert "<code>temperature({&quot;city&quot;: &quot;Paris&quot;})</code>" in html
    assert "repeats step 1" in html and ">error<" in html
    assert "stopped: finish" in html
    assert "stagnation</span> step 2 repeats the call of step 1" in html
    text = prediction_text(pred)
    assert 'step 1: temperature({"city": "Paris"}) -> 21' in text
    assert "(repeats step 1)" in text and "stopped: finish" in text


def test_best_of_n_attempts_show_their_rewards() -> None:
    best = paris_best_of_n("Lyon", "Paris")
    pred = best(question="Capital?")
    html = unstyled(prediction_html(pred))
    assert "Attempts (2)" in html
    assert "<td>1</td><td>0</td>" in html and "<td>2</td><td>1</td>" in html
    assert "attempt 2: 1.0" in prediction_text(pred)


def test_a_plain_prediction_has_no_agent_sections() -> None:
    pred = Predict("question -> answer", lm=ScriptedLM([chat_answer(answer="x")]))(question="q")
    html = prediction_html(pred)
    assert "Trajectory" not in html and "Attempts" not in html


def test_a_program_prediction_lists_each_steps_outputs() -> None:
    from lmbench.modules import Program

    lm = ScriptedLM([chat_answer(outline="a & b"), chat_answer(title="T")])
    program = Program(Predict("topic -> outline", lm=lm), Predict("outline -> title", lm=lm))
    html = prediction_html(program(topic="x"))
    assert "Program steps (2)" in html
    assert "<b>outline</b>: a &amp; b" in html and "<b>title</b>: T" in html
