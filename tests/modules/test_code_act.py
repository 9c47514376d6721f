"""CodeAct with the ScriptedLM and a real sandbox: code calling tools, trajectory, finishing."""

from __future__ import annotations

from typing import Any

import pytest
from chat_answers import chat_answer as answer

from lmbench.errors import ConfigError, SignatureError
from lmbench.lm.scripted import ScriptedLM
from lmbench.modules.code_act import CodeAct
from lmbench.sandbox import Sandbox, SandboxToolCall
from lmbench.tools import Tool


def step(thought: str, code: str, finished: bool = False) -> str:
    return answer(next_thought=thought, next_code=code, finished=str(finished).lower())


def prompt(lm: ScriptedLM, number: int) -> str:
    return "\n".join(m.text for m in lm.requests[number].messages)


TEMPERATURES = {"Paris": 21.0, "Oslo": 9.5}


def temperature(city: str) -> float:
    """The current temperature of a city, in degrees Celsius."""
    if city not in TEMPERATURES:
        raise KeyError(f"no station in {city}")
    return TEMPERATURES[city]


def make_agent(sandbox: Sandbox, script: list[str], **kwargs: Any) -> tuple[CodeAct, ScriptedLM]:
    lm = ScriptedLM(script)
    return CodeAct("question -> answer: float", [temperature], sandbox=sandbox, lm=lm, **kwargs), lm


def test_code_calls_the_tools_and_the_trajectory_records_it(sandbox: Sandbox) -> None:
    agent, lm = make_agent(
        sandbox,
        [
            step(
                "Fetch both.",
                "```python\ngap = temperature('Paris') - temperature(city='Oslo')\nprint(gap)\n```",
            ),
            step("I have it.", "", finished=True),
            answer(reasoning="Paris is 11.5 warmer.", answer="11.5"),
        ],
    )
    pred = agent(question="How much warmer is Paris than Oslo?")
    assert pred.answer == 11.5 and pred.finished is True
    (first,) = pred.trajectory
    assert first.thought == "Fetch both." and first.code.startswith("gap = ")
    assert first.result.stdout == "11.5\n"
    assert first.result.tool_calls == (
        SandboxToolCall("temperature", {"city": "Paris"}, 21.0),
        SandboxToolCall("temperature", {"city": "Oslo"}, 9.5),
    )
    assert "temperature(city: str)" in prompt(lm, 0)  # the tools are described to the model
    assert "11.5" in prompt(lm, 1) and "11.5" in prompt(lm, 2)


def test_variables_persist_between_steps_and_errors_are_observations(sandbox: Sandbox) -> None:
    agent, lm = make_agent(
        sandbox,
        [
            step("Paris first.", "t = temperature('Paris')"),
            step("Try Atlantis.", "temperature('Atlantis')"),
            step("Use what I have.", "print(t + 1)", finished=True),
            answer(reasoning="r", answer="22"),
        ],
    )
    pred = agent(question="q")
    paris, atlantis, last = pred.trajectory
    assert paris.ok and atlantis.result.error is not None
    assert "ToolError: tool 'temperature' raised KeyError" in atlantis.result.error
    assert "ToolError" in prompt(lm, 2)  # the model saw the failure
    assert last.result.stdout == "22.0\n"  # code given with finished=true still runs
    assert pred.finished is True


def test_max_iters_ends_the_loop_and_each_call_starts_afresh(sandbox: Sandbox) -> None:
    agent, _lm = make_agent(
        sandbox,
        [
            step("Look.", "x = temperature('Oslo')"),
            step("Look again.", "print(x)"),
            answer(reasoning="r", answer="9.5"),
            step("Is x still there?", "print(x)"),
            step("Stop.", "print(question)"),
            answer(reasoning="r", answer="0"),
        ],
        max_iters=2,
    )
    first = agent(question="Oslo?")
    assert first.finished is False and len(first.trajectory) == 2
    second = agent(question="again")
    assert "NameError: name 'x' is not defined" in second.trajectory[0].result.error
    assert second.trajectory[1].result.stdout == "again\n"  # inputs are variables


def test_predictions_render_their_steps(sandbox: Sandbox) -> None:
    agent, _lm = make_agent(
        sandbox,
        [
            step("Fetch.", "print(temperature('Paris'))", finished=True),
            answer(reasoning="r", answer="21"),
        ],
    )
    html = agent(question="Paris?")._repr_html_()
    assert html is not None
    assert "Code runs" in html and "Step 1" in html and "temperature" in html


def test_bad_settings_are_refused() -> None:
    with pytest.raises(SignatureError, match="finished"):
        CodeAct("question -> finished: bool", [temperature])
    with pytest.raises(ConfigError, match="max_iters=0"):
        CodeAct("q -> a", [temperature], max_iters=0)
    with pytest.raises(ConfigError, match="Python identifier"):
        CodeAct("q -> a", [Tool(temperature, name="get-temp")])


def test_a_stream_tells_each_step_tool_call_and_sandbox_run(sandbox: Sandbox) -> None:
    from lmbench.modules import SandboxRun, StepStarted, ToolFinished, ToolStarted

    agent, _lm = make_agent(
        sandbox,
        [
            step("Fetch.", "print(temperature('Paris'))\ntemperature('Atlantis')"),
            step("Done.", "", finished=True),
            answer(reasoning="r", answer="21"),
        ],
    )
    events = list(agent.stream(question="Paris?"))
    status = [
        e for e in events if isinstance(e, (StepStarted, ToolStarted, ToolFinished, SandboxRun))
    ]
    assert [type(e).__name__ for e in status] == [
        "StepStarted",
        "SandboxRun",
        "ToolStarted",
        "ToolFinished",
        "ToolStarted",
        "ToolFinished",
        "SandboxRun",
        "StepStarted",
        "StepStarted",
    ]
    assert status[2] == ToolStarted("CodeAct", "temperature", {"city": "Paris"}, 1)
    assert status[3] == ToolFinished("CodeAct", "temperature", "21.0", False, 1)
    assert status[5].error and "no station in Atlantis" in status[5].observation
    assert status[6].phase == "end" and "ToolError" in (status[6].error or "")
    assert status[8].name == "extract the outputs"
    assert events[-1].answer == 21.0
