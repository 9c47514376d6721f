"""ReAct: the thought/tool/observation loop, finish, errors as observations, extraction."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lmbench.calls.callbacks import Callback, CallbackEvent
from lmbench.errors import ConfigError, InputError, SignatureError
from lmbench.lm.scripted import ScriptedLM
from lmbench.modules.react import ReAct, ReActStep
from lmbench.settings import context
from lmbench.tools import Tool


def answer(**fields: Any) -> str:
    """A model answer in the chat format: one ``[[ ## field ## ]]`` block per field."""
    blocks = [f"[[ ## {name} ## ]]\n{value}" for name, value in fields.items()]
    return "\n\n".join([*blocks, "[[ ## completed ## ]]"])


def step(thought: str, tool: str, args: dict[str, Any]) -> str:
    return answer(next_thought=thought, next_tool_name=tool, next_tool_args=json.dumps(args))


TEMPERATURES = {"Paris": 21, "Oslo": 9}


def temperature(city: str) -> int:
    """The current temperature of a city, in degrees Celsius."""
    if city not in TEMPERATURES:
        raise KeyError(f"no station in {city}")
    return TEMPERATURES[city]


def make_agent(script: list[str], **kwargs: Any) -> tuple[ReAct, ScriptedLM]:
    lm = ScriptedLM(script)
    return ReAct("question -> answer: int", tools=[temperature], lm=lm, **kwargs), lm


def test_runs_tools_until_finish_then_extracts_the_outputs() -> None:
    agent, lm = make_agent(
        [
            step("I need the temperature in Paris.", "temperature", {"city": "Paris"}),
            step("I know it now.", "finish", {}),
            answer(reasoning="The tool said 21.", answer="21"),
        ]
    )
    pred = agent(question="How warm is it in Paris?")
    assert pred.answer == 21
    assert pred.reasoning == "The tool said 21."
    assert pred.finished is True
    assert pred.trajectory == [
        ReActStep("I need the temperature in Paris.", "temperature", {"city": "Paris"}, "21"),
        ReActStep("I know it now.", "finish", {}, "Done."),
    ]
    assert pred.inputs == {"question": "How warm is it in Paris?"}
    assert len(lm.requests) == 3


def test_each_step_sees_the_trajectory_so_far_and_the_tools() -> None:
    agent, lm = make_agent(
        [
            step("Look it up.", "temperature", {"city": "Oslo"}),
            step("Done.", "finish", {}),
            answer(reasoning="9 degrees.", answer="9"),
        ]
    )
    agent(question="How warm is Oslo?")
    first, second, extraction = ("\n".join(m.text for m in r.messages) for r in lm.requests)
    assert "temperature: The current temperature of a city, in degrees Celsius." in first
    assert '"city": {"type": "string"}' in first
    assert "- finish:" in first
    assert "(no steps yet)" in first
    assert (
        'Step 1\nthought: Look it up.\ntool: temperature\narguments: {"city": "Oslo"}\nobservation: 9'
        in second
    )
    assert "Step 2\nthought: Done.\ntool: finish" in extraction


def test_a_tool_error_becomes_an_observation_and_the_loop_goes_on() -> None:
    agent, lm = make_agent(
        [
            step("Try Rome.", "temperature", {"city": "Rome"}),
            step("Wrong argument name.", "temperature", {"town": "Paris"}),
            step("Paris then.", "temperature", {"city": "Paris"}),
            step("Enough.", "finish", {}),
            answer(reasoning="Paris is at 21.", answer="21"),
        ]
    )
    pred = agent(question="How warm is it?")
    raised, bad_args, good, _ = pred.trajectory
    assert raised.error and raised.observation.startswith(
        "Error: tool 'temperature' raised KeyError: 'no station in Rome'"
    )
    assert bad_args.error and "unexpected argument 'town'" in bad_args.observation
    assert "missing argument 'city' (str)" in bad_args.observation
    assert (good.error, good.observation) == (False, "21")
    prompt = "\n".join(m.text for m in lm.requests[2].messages)
    assert "observation: Error: tool 'temperature' raised KeyError" in prompt
    assert pred.answer == 21


def test_reaching_max_iters_still_extracts_an_answer() -> None:
    agent, lm = make_agent(
        [
            step("Paris?", "temperature", {"city": "Paris"}),
            step("Oslo too?", "temperature", {"city": "Oslo"}),
            answer(reasoning="Paris is warmer, at 21.", answer="21"),
        ],
        max_iters=2,
    )
    pred = agent(question="Which is warmer?")
    assert pred.answer == 21
    assert pred.finished is False
    assert [s.observation for s in pred.trajectory] == ["21", "9"]
    assert len(lm.requests) == 3


def test_every_step_and_the_extraction_are_in_the_call_tree() -> None:
    agent, lm = make_agent(
        [
            step("Look.", "temperature", {"city": "Paris"}),
            step("Done.", "finish", {}),
            answer(reasoning="21.", answer="21"),
        ]
    )
    pred = agent(question="How warm is Paris?")
    assert pred.call.module == "ReAct"
    assert [call.request for call in pred.lm_calls] == lm.requests
    assert [child.module for child in pred.call.children] == [
        "Predict",
        "Predict",
        "ChainOfThought",
    ]
    assert pred.usage.input_tokens > 0


class _Events(Callback):
    def __init__(self) -> None:
        self.tools: list[CallbackEvent] = []
        self.lm_calls = 0

    def on_tool_end(self, event: CallbackEvent) -> None:
        self.tools.append(event)

    def on_lm_end(self, event: CallbackEvent) -> None:
        self.lm_calls += 1


def test_tool_calls_are_attributed_to_the_react_call() -> None:
    agent, _ = make_agent(
        [
            step("Look.", "temperature", {"city": "Oslo"}),
            step("Done.", "finish", {}),
            answer(reasoning="9.", answer="9"),
        ]
    )
    recorder = _Events()
    with context(callbacks=(recorder,)):
        pred = agent(question="How warm is Oslo?")
    [event] = recorder.tools
    assert (event.tool, event.result, event.call_id) == ("temperature", 9, pred.call.call_id)


def test_callbacks_given_to_react_see_every_step_and_tool() -> None:
    recorder = _Events()
    lm = ScriptedLM(
        [
            step("Look.", "temperature", {"city": "Paris"}),
            step("Done.", "finish", {}),
            answer(reasoning="21.", answer="21"),
        ]
    )
    agent = ReAct("question -> answer: int", tools=[temperature], lm=lm, callbacks=[recorder])
    agent(question="How warm is Paris?")
    assert ([e.tool for e in recorder.tools], recorder.lm_calls) == (["temperature"], 3)


def test_tools_may_be_tool_objects_with_their_own_names() -> None:
    lm = ScriptedLM(
        [
            step("Look.", "weather", {"city": "Oslo"}),
            step("Done.", "finish", {}),
            answer(reasoning="9.", answer="9"),
        ]
    )
    agent = ReAct("question -> answer: int", tools=[Tool(temperature, name="weather")], lm=lm)
    assert agent(question="Oslo?").trajectory[0].observation == "9"
    assert list(agent.tools) == ["weather"]


def test_results_that_are_not_text_are_shown_as_json() -> None:
    def forecast(city: str) -> dict[str, Any]:
        """Tomorrow's forecast."""
        return {"city": city, "high": 23, "sky": "clear"}

    lm = ScriptedLM(
        [
            step("Forecast.", "forecast", {"city": "Paris"}),
            step("Done.", "finish", {}),
            answer(reasoning="23.", answer="23"),
        ]
    )
    pred = ReAct("question -> answer: int", tools=[forecast], lm=lm)(question="Tomorrow?")
    assert pred.trajectory[0].observation == '{"city": "Paris", "high": 23, "sky": "clear"}'


def test_inputs_are_checked_before_any_lm_call() -> None:
    agent, lm = make_agent([])
    with pytest.raises(InputError, match="missing input"):
        agent()
    with pytest.raises(InputError, match="unexpected input"):
        agent(question="q", trajectory="forged")
    assert lm.requests == []


def test_bad_constructions_are_refused() -> None:
    def finish() -> str:
        return "x"

    with pytest.raises(ConfigError, match="named 'finish'"):
        ReAct("question -> answer", tools=[finish])
    with pytest.raises(ConfigError, match="two tools are named 'temperature'"):
        ReAct("question -> answer", tools=[temperature, temperature])
    with pytest.raises(SignatureError, match="trajectory"):
        ReAct("question, trajectory -> answer", tools=[temperature])
    with pytest.raises(ConfigError, match="max_iters=0"):
        ReAct("question -> answer", tools=[temperature], max_iters=0)


def test_its_predictors_are_discoverable() -> None:
    agent, _ = make_agent([])
    assert [name for name, _ in agent.named_predictors()] == ["react", "extract"]
    assert repr(agent) == "ReAct(question -> answer: int, tools=['temperature'], max_iters=5)"


def test_works_with_the_json_adapter() -> None:
    lm = ScriptedLM(
        [
            json.dumps(
                {
                    "next_thought": "Look.",
                    "next_tool_name": "temperature",
                    "next_tool_args": {"city": "Oslo"},
                }
            ),
            json.dumps({"next_thought": "Done.", "next_tool_name": "finish", "next_tool_args": {}}),
            json.dumps({"reasoning": "Oslo is at 9.", "answer": 9}),
        ]
    )
    agent = ReAct("question -> answer: int", tools=[temperature], lm=lm, adapter="json")
    pred = agent(question="How warm is Oslo?")
    assert (pred.answer, pred.trajectory[0].observation, pred.adapter) == (9, "9", "JSONAdapter")
