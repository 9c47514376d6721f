"""ReAct: the thought/tool/observation loop, finish, errors as observations, extraction."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chat_answers import chat_answer as answer

from lmbench.calls.callbacks import Callback, CallbackEvent
from lmbench.errors import ConfigError, InputError, ProviderError, SignatureError
from lmbench.lm.scripted import ScriptedLM
from lmbench.modules.events import Notice
from lmbench.modules.react import ReAct, ReActStep
from lmbench.settings import context
from lmbench.tools import Tool


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
    assert [name for name, _ in agent.named_predictors()] == ["react", "native", "extract"]
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


# -- stagnation and context overflow ---------------------------------------------------------


def test_a_repeated_call_is_not_run_again_and_the_model_is_told() -> None:
    runs: list[str] = []

    def counted(city: str) -> int:
        """The temperature of a city."""
        runs.append(city)
        return TEMPERATURES[city]

    lm = ScriptedLM(
        [
            step("Paris.", "counted", {"city": "Paris"}),
            step("Paris again.", "counted", {"city": "Paris"}),
            step("Fine, done.", "finish", {}),
            answer(reasoning="21.", answer="21"),
        ]
    )
    pred = ReAct("question -> answer: int", tools=[counted], lm=lm)(question="Paris?")
    assert runs == ["Paris"]  # the repeat was answered without running the tool
    repeat = pred.trajectory[1]
    assert repeat.repeat_of == 1 and repeat.observation.startswith(
        "You already called counted with these arguments at step 1, and it returned: 21"
    )
    assert "observation: You already called counted" in lm.requests[2].messages[-1].text
    (notice,) = pred.notices
    assert (notice.kind, notice.details["repeat_of"], notice.details["stop"]) == (
        "stagnation",
        1,
        False,
    )
    assert pred.stop_reason == "finish" and pred.answer == 21


def test_the_loop_stops_at_the_last_allowed_repeat() -> None:
    paris = step("Paris.", "temperature", {"city": "Paris"})
    agent, lm = make_agent(
        [
            paris,
            paris,
            step("Oslo.", "temperature", {"city": "Oslo"}),
            paris,
            answer(reasoning="Stuck.", answer="21"),
        ],
        max_repeats=2,
        max_iters=8,
    )
    pred = agent(question="?")
    assert pred.stop_reason == "stagnation" and pred.finished is False
    assert [s.repeat_of for s in pred.trajectory] == [None, 1, None, 1]
    assert [n.details["stop"] for n in pred.notices] == [False, True]
    assert len(lm.requests) == 5  # four steps, then the extraction


def test_on_repeat_stop_ends_at_the_first_repeat_and_streams_the_notice() -> None:
    paris = step("Paris.", "temperature", {"city": "Paris"})
    agent, _ = make_agent([paris, paris, answer(reasoning="-", answer="21")], on_repeat="stop")
    events = list(agent.stream(question="?"))
    notices = [e for e in events if isinstance(e, Notice)]
    assert [n.kind for n in notices] == ["stagnation"]
    assert "repeats the call of step 1 (temperature); stopped the loop" in notices[0].text
    assert events[-1].stop_reason == "stagnation"


def overflowing(answers: list[str], limit: int) -> ScriptedLM:
    """A model that rejects prompts over ``limit`` characters as providers do."""
    queue = list(answers)

    def reply(request: Any) -> str:
        prompt = "\n".join(m.text for m in request.messages)
        if len(prompt) > limit:
            raise ProviderError(
                f"This model's maximum context length is 100 tokens; your prompt has {len(prompt)}",
                provider="openai",
                status=400,
            )
        return queue.pop(0)

    return ScriptedLM(reply)


def test_an_overflowing_prompt_hides_the_oldest_steps_and_is_sent_again() -> None:
    long_city = "Paris"
    script = [
        step("First.", "temperature", {"city": long_city}),
        step("Second.", "temperature", {"city": "Oslo"}),
        step("Done.", "finish", {}),
        answer(reasoning="From what is left.", answer="9"),
    ]
    probe = ReAct("question -> answer: int", tools=[temperature], lm=ScriptedLM(list(script)))
    probe(question="Which?")
    sizes = [len("\n".join(m.text for m in r.messages)) for r in probe.react.lm.requests]
    # room for the prompt with one step shown, not with two
    limit = sizes[1] + 40
    lm = overflowing(script, limit)
    agent = ReAct("question -> answer: int", tools=[temperature], lm=lm)
    pred = agent(question="Which?")
    assert pred.answer == 9 and pred.finished
    assert pred.hidden_steps >= 1
    assert [s.thought for s in pred.trajectory] == ["First.", "Second.", "Done."]  # all kept
    truncations = [n for n in pred.notices if n.kind == "truncation"]
    assert truncations and truncations[0].details["reason"] == "context_overflow"
    assert "maximum context length" in truncations[0].details["error"]
    shown = lm.requests[-1].messages[-1].text
    assert "(steps 1-" in shown and "are hidden to fit the context" in shown
    failed = [c for c in pred.lm_calls if c.error]
    assert failed and all("maximum context length" in c.error for c in failed)


def test_other_provider_errors_are_raised_not_truncated() -> None:
    def reply(request: Any) -> str:
        raise ProviderError("invalid api key", provider="openai", status=400)

    agent = ReAct("question -> answer", tools=[temperature], lm=ScriptedLM(reply))
    with pytest.raises(ProviderError, match="invalid api key"):
        agent(question="?")


# Two tool steps and a finish: enough trajectory to overflow a small limit.
THREE_STEPS = [
    step("One.", "temperature", {"city": "Paris"}),
    step("Two.", "temperature", {"city": "Oslo"}),
    step("Three.", "finish", {}),
    answer(reasoning="-", answer="9"),
]


def test_max_trajectory_tokens_hides_old_steps_before_the_model_overflows() -> None:
    agent, lm = make_agent(THREE_STEPS, max_trajectory_tokens=35)
    pred = agent(question="?")
    assert pred.hidden_steps == 1
    third_prompt = lm.requests[2].messages[-1].text
    assert "(steps 1-1 are hidden to fit the context)" in third_prompt
    assert "Step 2\nthought: Two." in third_prompt and "thought: One." not in third_prompt
    (notice,) = pred.notices
    assert notice.details == {"hidden": 1, "reason": "trajectory_limit", "limit": 35}


def test_by_default_the_trajectory_keeps_to_half_the_models_context_window() -> None:
    agent, lm = make_agent(THREE_STEPS)
    lm.context_window = 70  # type: ignore[attr-defined]  # as a provider may declare it
    pred = agent(question="?")
    assert pred.hidden_steps == 1
    assert pred.notices[0].details["limit"] == 35
    unlimited, lm = make_agent(THREE_STEPS)
    assert unlimited(question="?").hidden_steps == 0  # a scripted model has no known window


@pytest.mark.parametrize(
    "message",
    [
        "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens",
        "prompt is too long: 215000 tokens > 200000 maximum",
        "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).",
        "the request exceeds the available context size, try increasing it",
        "Please reduce the length of the messages or completion.",
        "the prompt is 9000 tokens, more than the context window n_ctx=8192 of local/gemma allows",
    ],
)
def test_providers_ways_of_saying_the_prompt_is_too_long_are_recognised(message: str) -> None:
    replies = [
        step("First.", "temperature", {"city": "Paris"}),
        ProviderError(message, provider="p", status=400),
        step("Done.", "finish", {}),
        answer(reasoning="-", answer="21"),
    ]

    def reply(request: Any) -> str:
        answer_or_error = replies.pop(0)
        if isinstance(answer_or_error, Exception):
            raise answer_or_error
        return answer_or_error

    pred = ReAct("question -> answer: int", tools=[temperature], lm=ScriptedLM(reply))(question="?")
    assert pred.answer == 21 and pred.hidden_steps == 1
    assert pred.notices[0].details["reason"] == "context_overflow"


def test_render_shows_the_first_steps_prompt_without_calling() -> None:
    agent, lm = make_agent([])
    text = agent.render(question="How warm is Paris?")
    assert "How warm is Paris?" in text and "(no steps yet)" in text and "- finish:" in text
    native = ReAct("question -> answer", tools=[temperature], lm=ScriptedLM([], tools=True))
    text = native.render(question="How warm is Paris?")
    assert "next_tool_name" not in text and text.endswith("--- tools (native) ---\ntemperature")
    assert lm.requests == []
