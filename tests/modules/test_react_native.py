"""ReAct with native tool calling: scripted, replayed against recorded provider exchanges
(OpenAI-compatible, Anthropic, Gemini streaming) and against a real loopback server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from chat_answers import chat_answer as answer
from provider_faults import FaultServer, respond
from provider_replay import Replay

from lmbench.lm.base import LM
from lmbench.lm.registry import resolve_lm
from lmbench.lm.scripted import Reply, ScriptedLM
from lmbench.lm.types import ToolCall
from lmbench.modules import ReAct, ReActStep, StatusEvent, ToolFinished, ToolStarted
from lmbench.primitives.prediction import Prediction

Cassette = Callable[[str, str], Replay]


def temperature(city: str) -> int:
    """The current temperature of a city, in degrees Celsius."""
    return {"Paris": 21, "Oslo": 9}[city]


def test_native_tool_calls_drive_the_loop_and_go_back_as_messages() -> None:
    lm = ScriptedLM(
        [
            Reply("I need both cities.", [ToolCall("temperature", {"city": "Paris"})]),
            [ToolCall("temperature", {"city": "Oslo"}), ToolCall("temperature", {"city": "Rome"})],
            Reply("Paris is warmer."),
            answer(reasoning="21 > 9.", answer="Paris"),
        ]
    )
    agent = ReAct("question -> answer", tools=[temperature], lm=lm)
    pred = agent(question="Which is warmer, Paris or Oslo?")
    assert pred.native_tools is True
    assert pred.answer == "Paris" and pred.finished and pred.stop_reason == "finish"
    paris, oslo, rome, done = pred.trajectory
    assert paris == ReActStep("I need both cities.", "temperature", {"city": "Paris"}, "21")
    assert (oslo.observation, oslo.error) == ("9", False)
    assert rome.error and "KeyError" in rome.observation
    assert (done.tool_name, done.thought) == ("finish", "Paris is warmer.")

    first, second, third, extraction = lm.requests
    assert [t.name for t in first.tools] == ["temperature"]
    assert first.tools[0].parameters["properties"] == {"city": {"type": "string"}}
    assert first.tool_choice == "auto" and first.response_schema is None
    sent = third.messages[len(first.messages) :]
    assert [m.role for m in sent] == ["assistant", "tool", "assistant", "tool", "tool"]
    assert sent[0].tool_calls == (ToolCall("temperature", {"city": "Paris"}, "call_1"),)
    assert (sent[1].tool_call_id, sent[1].content) == ("call_1", "21")
    assert [m.tool_call_id for m in sent[3:]] == ["call_2", "call_3"]
    assert not extraction.tools  # the outputs are written without tools
    assert "Step 3\nthought: \ntool: temperature" in extraction.messages[-1].text
    assert len(second.messages) == len(first.messages) + 2


def test_field_tools_are_used_when_the_model_has_no_tool_calling_or_when_asked() -> None:
    step = answer(next_thought="Done.", next_tool_name="finish", next_tool_args="{}")
    lm = ScriptedLM([step, answer(reasoning="-", answer="x")])
    pred = ReAct("question -> answer", tools=[temperature], lm=lm)(question="?")
    assert pred.native_tools is False and not lm.requests[0].tools

    lm = ScriptedLM([step, answer(reasoning="-", answer="x")], tools=True)
    agent = ReAct("question -> answer", tools=[temperature], lm=lm, native_tools=False)
    assert agent(question="?").native_tools is False
    assert "next_tool_name" in lm.requests[0].messages[0].text


def test_native_stream_and_async_report_each_tool() -> None:
    def script() -> ScriptedLM:
        return ScriptedLM(
            [
                [ToolCall("temperature", {"city": "Oslo"})],
                Reply("Got it."),
                answer(reasoning="-", answer="9"),
            ]
        )

    events = list(
        ReAct("question -> answer", tools=[temperature], lm=script()).stream(question="?")
    )
    tools = [e for e in events if isinstance(e, (ToolStarted, ToolFinished))]
    assert tools == [
        ToolStarted("ReAct", "temperature", {"city": "Oslo"}, 1),
        ToolFinished("ReAct", "temperature", "9", False, 1),
    ]
    assert isinstance(events[-1], Prediction) and events[-1].answer == "9"

    async def run() -> Prediction:
        return await ReAct("question -> answer", tools=[temperature], lm=script()).acall(
            question="?"
        )

    pred = asyncio.run(run())
    assert [s.observation for s in pred.trajectory] == ["9", "Done."]


def extraction_lm(text: str) -> ScriptedLM:
    return ScriptedLM([answer(reasoning="From the trajectory.", answer=text)])


def test_replayed_openai_compatible_exchange(
    tool_call_without_id_replay: tuple[Replay, LM],
) -> None:
    replay, lm = tool_call_without_id_replay

    def get_current_time() -> str:
        """Get the current time."""
        return "Noon"

    agent = ReAct("question -> answer", tools=[get_current_time], lm=lm)
    agent.extract.lm = extraction_lm("Noon")
    pred = agent(question="What is the current time?")
    assert pred.native_tools is True
    replay.assert_request(0, "model", "tools", "tool_choice")  # as the recording sent them
    call, done = pred.trajectory
    assert (call.tool_name, call.tool_args, call.observation) == ("get_current_time", {}, "Noon")
    assert done.tool_name == "finish" and done.thought == "The current time is Noon."
    sent = replay.body(1)["messages"]
    call_id = sent[-2]["tool_calls"][0]["id"]
    assert call_id.startswith("call_")  # the provider sent none; the wire format made one
    assert sent[-1] == {"role": "tool", "content": "Noon", "tool_call_id": call_id}
    assert pred.answer == "Noon"
    assert pred.usage.input_tokens >= 35 + 66  # both recorded turns, plus the extraction


def test_replayed_anthropic_parallel_tool_calls(cassette: Cassette) -> None:
    replay = cassette("anthropic", "test_multiple_parallel_tool_calls")
    lm = replay.lm("anthropic/claude-haiku-4-5", api_key="sk-ant-test")
    recorded = replay.recorded_body(1)["messages"][2]["content"]
    facts = dict(
        zip(["Alice", "Bob", "Charlie", "Daisy"], [b["content"] for b in recorded], strict=True)
    )

    def retrieve_entity_info(name: str) -> str:
        """Get the knowledge about the given entity."""
        return facts[name]

    agent = ReAct("question -> answer", tools=[retrieve_entity_info], lm=lm)
    agent.extract.lm = extraction_lm("Daisy")
    pred = agent(question="Alice, Bob, Charlie and Daisy are a family. Who is the youngest?")
    replay.assert_request(0, "model", "tools", "tool_choice")
    assert [s.tool_args["name"] for s in pred.trajectory[:4]] == list(facts)
    assert [s.observation for s in pred.trajectory[:4]] == list(facts.values())
    assert pred.trajectory[0].thought.startswith("I'll help you find out who is the youngest")
    # all four results go back in one user turn, each naming its call
    results = replay.body(1)["messages"][-1]["content"]
    assert [r["tool_use_id"] for r in results] == [b["tool_use_id"] for b in recorded]
    assert [r["content"] for r in results] == list(facts.values())
    assert pred.trajectory[-1].thought.startswith("Based on the retrieved information")
    assert pred.stop_reason == "finish" and pred.answer == "Daisy"


def test_replayed_gemini_stream_sends_the_thought_signature_back(cassette: Cassette) -> None:
    replay = cassette("gemini", "test_google_streaming_tool_call_thought_signature")
    lm = replay.lm("gemini/gemini-3-pro-preview", api_key="gemini-test-key")

    def get_country() -> str:
        """The user's country."""
        return "Mexico"

    agent = ReAct("question -> answer", tools=[get_country], lm=lm)
    agent.extract.lm = extraction_lm("Mexico City")
    events = list(agent.stream(question="What is the capital of the user country? Call the tool"))
    assert [e.text for e in events if isinstance(e, StatusEvent)][:3] == [
        "ReAct · step 1/5: step",
        "ReAct · running get_country({})",
        "ReAct · get_country returned: Mexico",
    ]
    contents = replay.body(1)["contents"]
    echoed = next(p for p in contents[-2]["parts"] if "functionCall" in p)
    assert echoed["thoughtSignature"].startswith("EpwICpkIAXLI2nxl")
    assert contents[-1]["parts"][0]["functionResponse"]["response"] == {"result": "Mexico"}
    pred = events[-1]
    assert pred.trajectory[-1].thought == "The capital of Mexico is Mexico City."
    assert [c.streamed for c in pred.lm_calls[:2]] == [True, True]


def tool_call_body(name: str, arguments: dict[str, Any], call_id: str) -> dict[str, Any]:
    message = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": call_id,
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(arguments)},
            }
        ],
    }
    return {
        "id": "chatcmpl-1",
        "model": "m",
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}],
        "usage": {"prompt_tokens": 50, "completion_tokens": 10},
    }


def text_body(text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-2",
        "model": "m",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 60, "completion_tokens": 5},
    }


def test_a_real_openai_compatible_server_on_loopback(server: FaultServer) -> None:
    server.script(
        respond(200, tool_call_body("temperature", {"city": "Oslo"}, "c1")),
        respond(200, text_body("It is 9 degrees in Oslo.")),
        respond(200, text_body(answer(reasoning="The tool said 9.", answer="9"))),
    )
    lm = resolve_lm("openai-compatible/m", base_url=f"{server.url}/v1", api_key="k")
    pred = ReAct("question -> answer: int", tools=[temperature], lm=lm)(question="Oslo?")
    assert pred.answer == 9 and pred.native_tools
    first, second, third = (r.body for r in server.received)
    assert first["tools"][0]["function"]["name"] == "temperature"
    assert second["messages"][-1] == {"role": "tool", "content": "9", "tool_call_id": "c1"}
    assert "tools" not in third
    assert pred.usage.input_tokens == 50 + 60 + 60


def test_unknown_tool_names_become_error_observations() -> None:
    lm = ScriptedLM(
        [ToolCall("weather", {"city": "Oslo"}), Reply("ok"), answer(reasoning="-", answer="?")]
    )
    pred = ReAct("question -> answer", tools=[temperature], lm=lm)(question="?")
    assert pred.trajectory[0].error
    assert "no tool named 'weather'" in pred.trajectory[0].observation
    assert "['temperature']" in pred.trajectory[0].observation


@pytest.mark.parametrize("on_repeat", ["nudge", "stop"])
def test_a_repeated_native_call_is_stagnation(on_repeat: str) -> None:
    call = ToolCall("temperature", {"city": "Oslo"})
    calls = [call, call, call] if on_repeat == "nudge" else [call, call]
    lm = ScriptedLM([*calls, answer(reasoning="-", answer="9")])
    agent = ReAct("question -> answer", tools=[temperature], lm=lm, on_repeat=on_repeat)
    pred = agent(question="?")
    assert pred.stop_reason == "stagnation" and not pred.finished
    assert [s.repeat_of for s in pred.trajectory] == [None, *[1] * (len(calls) - 1)]
    assert pred.notices[-1].details["stop"] is True
    # the nudge went back to the model as the repeated call's result
    if on_repeat == "nudge":
        nudge = lm.requests[2].messages[-1]
        assert nudge.role == "tool" and "You already called temperature" in nudge.text


def test_ollama_native_chat_on_loopback(server: FaultServer) -> None:
    done = {"done": True, "done_reason": "stop", "prompt_eval_count": 12, "eval_count": 4}
    call = {"function": {"name": "temperature", "arguments": {"city": "Paris"}}}
    server.script(
        respond(
            200,
            {"model": "m", "message": {"role": "assistant", "content": "", "tool_calls": [call]}}
            | done,
        ),
        respond(
            200, {"model": "m", "message": {"role": "assistant", "content": "21 then."}} | done
        ),
        respond(
            200,
            {
                "model": "m",
                "message": {"role": "assistant", "content": answer(reasoning="-", answer="21")},
            }
            | done,
        ),
    )
    lm = resolve_lm("ollama/m", base_url=server.url)
    pred = ReAct("question -> answer: int", tools=[temperature], lm=lm)(question="Paris?")
    assert pred.native_tools and pred.answer == 21
    first, second, _ = (r.body for r in server.received)
    assert first["tools"][0]["function"]["name"] == "temperature"
    assert second["messages"][-1] == {"role": "tool", "content": "21", "tool_name": "temperature"}
    assert second["messages"][-2]["tool_calls"] == [call]
    assert pred.trajectory[-1].thought == "21 then."
