"""Cohere v2 chat: recorded exchanges replayed, and the stream events."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
from provider_replay import Replay

from lmbench.lm.registry import resolve_lm
from lmbench.lm.types import LMRequest, Message, ToolCall, ToolSpec, Usage
from lmbench.providers.wire.cohere import CohereChat

Cassette = Callable[[str, str], Replay]


def test_system_and_user_messages(cassette: Cassette) -> None:
    replay = cassette("cohere", "test_cohere_model_instructions")
    lm = replay.lm("cohere/command-r7b-12-2024", api_key="co-test-key")
    request = LMRequest(
        (
            Message("system", "You are a helpful assistant."),
            Message("user", "What is the capital of France?"),
        )
    )
    response = lm.generate(request)
    replay.assert_request(0, "model", "messages", "stream")
    assert replay.sent[0].headers["authorization"] == "Bearer co-test-key"
    assert response.text.startswith(
        "The capital of France is Paris. It is the country's largest city"
    )
    assert response.usage == Usage(13, 61)  # billed units
    assert response.metadata["usage"]["tokens"] == {"input_tokens": 542, "output_tokens": 63}
    assert response.finish_reason == "stop"
    assert response.request_id == "cf7be73f-dcee-4589-9eea-2dca902b27ec"
    assert response.model == "command-r7b-12-2024"


def test_simple_success(cassette: Cassette) -> None:
    replay = cassette("cohere", "test_request_simple_success_with_vcr")
    lm = replay.lm("cohere/command-r7b-12-2024", api_key="co-test-key")
    response = lm.generate(LMRequest((Message("user", "hello"),)))
    replay.assert_request(0, "model", "messages", "stream")
    assert response.text == "Hello! How can I assist you today?"
    assert response.usage == Usage(1, 9)


def _event(kind: str, **payload: object) -> str:
    return f"event: {kind}\ndata: {json.dumps({'type': kind, **payload})}\n\n"


def test_stream_of_text_and_tool_call() -> None:
    events = [
        _event("message-start", id="msg-1", delta={"message": {"role": "assistant"}}),
        _event("tool-plan-delta", delta={"message": {"tool_plan": "I will look it up."}}),
        _event(
            "tool-call-start",
            index=0,
            delta={
                "message": {
                    "tool_calls": {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "lookup", "arguments": ""},
                    }
                }
            },
        ),
        _event(
            "tool-call-delta",
            index=0,
            delta={"message": {"tool_calls": {"function": {"arguments": '{"q": "Par'}}}},
        ),
        _event(
            "tool-call-delta",
            index=0,
            delta={"message": {"tool_calls": {"function": {"arguments": 'is"}'}}}},
        ),
        _event("tool-call-end", index=0),
        _event(
            "content-start", index=0, delta={"message": {"content": {"type": "text", "text": ""}}}
        ),
        _event("content-delta", index=0, delta={"message": {"content": {"text": "Done"}}}),
        _event("content-end", index=0),
        _event(
            "message-end",
            delta={
                "finish_reason": "TOOL_CALL",
                "usage": {"billed_units": {"input_tokens": 5, "output_tokens": 7}},
            },
        ),
    ]
    transport = httpx.MockTransport(
        lambda request: httpx.Response(
            200, headers={"content-type": "text/event-stream"}, content="".join(events).encode()
        )
    )
    lm = resolve_lm(
        "cohere/command-a", api_key="co-test-key", http_client=httpx.Client(transport=transport)
    )
    chunks = list(
        lm.stream(
            LMRequest(
                (Message("user", "find Paris"),),
                tools=(ToolSpec("lookup", "", {"type": "object"}),),
            )
        )
    )
    assert [c.text for c in chunks[:-1]] == ["Done"]
    final = chunks[-1].response
    assert final is not None
    assert final.tool_calls == [ToolCall("lookup", {"q": "Paris"}, "call_1")]
    assert final.metadata["tool_plan"] == "I will look it up."
    assert final.finish_reason == "tool_calls"
    assert final.usage == Usage(5, 7)
    assert final.request_id == "msg-1"


def test_build_tool_messages_and_json_schema() -> None:
    call = ToolCall("lookup", {"q": "x"}, "call_1")
    request = LMRequest(
        (
            Message("user", "q"),
            Message("assistant", "", tool_calls=(call,)),
            Message("tool", "42", tool_call_id="call_1"),
        ),
        response_schema={"type": "object"},
        tool_choice="required",
    )
    body = (
        CohereChat()
        .build(request, "command-a", stream=False, structured_mode="json_object_schema")
        .body
    )
    assert body["messages"][1] == {
        "role": "assistant",
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "lookup", "arguments": '{"q":"x"}'},
            }
        ],
    }
    assert body["messages"][2] == {"role": "tool", "content": "42", "tool_call_id": "call_1"}
    assert body["response_format"] == {"type": "json_object", "json_schema": {"type": "object"}}
    assert body["tool_choice"] == "REQUIRED"
