"""Anthropic Messages: recorded exchanges and raw SSE streams replayed through our code."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from provider_replay import Replay

from lmbench.errors import InputError, ProviderError
from lmbench.lm.registry import resolve_lm
from lmbench.lm.types import LMRequest, LMResponse, Message, ToolCall, ToolSpec, Usage
from lmbench.providers.wire.anthropic import AnthropicMessages

Cassette = Callable[[str, str], Replay]
Stream = Callable[[str], Replay]


def _stream(
    replay: Replay, request: LMRequest | None = None, model: str = "claude-sonnet-4-5"
) -> tuple[str, LMResponse]:
    lm = replay.lm(f"anthropic/{model}", api_key="sk-ant-test")
    chunks = list(lm.stream(request or LMRequest((Message("user", "hi"),))))
    final = chunks[-1].response
    assert final is not None
    return "".join(c.text for c in chunks), final


def test_system_prompt_and_default_max_tokens(cassette: Cassette) -> None:
    replay = cassette("anthropic", "test_anthropic_model_instructions")
    lm = replay.lm("anthropic/claude-3-opus-latest", api_key="sk-ant-test")
    request = LMRequest(
        (
            Message("system", replay.recorded_body(0)["system"]),
            Message("user", "What is the capital of France?"),
        )
    )
    response = lm.generate(request)
    replay.assert_request(0, "model", "max_tokens", "messages", "system", "stream")
    headers = replay.sent[0].headers
    assert headers["x-api-key"] == "sk-ant-test" and headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in headers
    assert response.text == "The capital of France is Paris."
    assert response.usage == Usage(20, 10)
    assert response.model == "claude-3-opus-20240229"
    assert response.finish_reason == "stop"
    assert response.metadata["native_finish_reason"] == "end_turn"
    assert response.request_id == "msg_01Fg1JVgvCYUHWsxrj9GkpEv"


def test_structured_output_uses_output_config(cassette: Cassette) -> None:
    replay = cassette("anthropic", "test_anthropic_native_output_decimal_strict")
    lm = replay.lm("anthropic/claude-sonnet-4-5", api_key="sk-ant-test")
    schema = replay.recorded_body(0)["output_config"]["format"]["schema"]
    request = LMRequest(
        (Message("user", "Return exactly this payment amount: 12.34"),), response_schema=schema
    )
    response = lm.generate(request)
    replay.assert_request(0, "model", "max_tokens", "messages", "output_config", "stream")
    assert response.text == '{"amount":12.34}'
    assert response.usage == Usage(222, 10)
    assert response.metadata["structured_output"] == {"mode": "output_config", "fallbacks": []}
    assert lm.capabilities.structured_output


def test_parallel_tool_calls_and_tool_results(cassette: Cassette) -> None:
    replay = cassette("anthropic", "test_multiple_parallel_tool_calls")
    lm = replay.lm("anthropic/claude-haiku-4-5", api_key="sk-ant-test")
    recorded = replay.recorded_body(0)
    tool = ToolSpec(
        "retrieve_entity_info",
        recorded["tools"][0]["description"],
        recorded["tools"][0]["input_schema"],
    )
    opening = (
        Message("system", recorded["system"]),
        Message("user", recorded["messages"][0]["content"][0]["text"]),
    )
    first = lm.generate(LMRequest(opening, tools=(tool,), tool_choice="auto"))
    replay.assert_request(0, "model", "messages", "system", "tools", "tool_choice", "max_tokens")
    assert first.text.startswith("I'll help you find out who is the youngest")
    assert [(c.name, c.arguments["name"]) for c in first.tool_calls] == [
        ("retrieve_entity_info", "Alice"),
        ("retrieve_entity_info", "Bob"),
        ("retrieve_entity_info", "Charlie"),
        ("retrieve_entity_info", "Daisy"),
    ]
    assert first.tool_calls[0].id == "toolu_0167cfEnoQaPviGdVXA95zcu"
    assert first.finish_reason == "tool_calls"
    assert first.usage == Usage(423, 202)

    results = [block["content"] for block in replay.recorded_body(1)["messages"][2]["content"]]
    history = (
        *opening,
        Message("assistant", first.text, tool_calls=tuple(first.tool_calls)),
        *(
            Message("tool", text, tool_call_id=call.id)
            for text, call in zip(results, first.tool_calls, strict=True)
        ),
    )
    second = lm.generate(LMRequest(history, tools=(tool,), tool_choice="auto"))
    expected = replay.recorded_body(1)["messages"]
    for block in expected[2]["content"]:
        block.pop("is_error")
    assert replay.body(1)["messages"] == expected  # four results merged into one user turn
    assert second.text.endswith("she is the youngest among the four family members.")
    assert second.usage == Usage(771, 77)


def test_stream_with_redacted_thinking(cassette: Cassette) -> None:
    replay = cassette("anthropic", "test_anthropic_model_thinking_part_redacted_stream")
    prompt = replay.recorded_body(0)["messages"][0]["content"][0]["text"]
    request = LMRequest(
        (Message("user", prompt),), extra={"thinking": {"budget_tokens": 1024, "type": "enabled"}}
    )
    text, response = _stream(replay, request, model="claude-sonnet-4-5-20250929")
    replay.assert_request(0, "model", "messages", "thinking", "stream", "max_tokens")
    assert text == response.text
    assert text.startswith("I notice that you've sent what appears to be some kind of test string")
    assert text.endswith("How can I assist you today with a legitimate task or question?")
    assert response.usage == Usage(92, 189)
    assert response.metadata["redacted_thinking_blocks"] == 2
    assert response.model == "claude-sonnet-4-5-20250929"


def test_sse_basic_text(sse_fixture: Stream) -> None:
    text, response = _stream(sse_fixture("basic_response"))
    assert text == response.text == "Hello there!"
    assert response.usage == Usage(11, 6)
    assert response.finish_reason == "stop"
    assert response.request_id == "msg_4QpJur2dWWDjF6C758FbBw5vm12BaVipnK"


def test_sse_tool_use(sse_fixture: Stream) -> None:
    text, response = _stream(sse_fixture("tool_use_response"))
    assert text == "I'll check the current weather in Paris for you."
    assert response.tool_calls == [
        ToolCall("get_weather", {"location": "Paris"}, "toolu_01NRLabsLyVHZPKxbKvkfSMn")
    ]
    assert response.finish_reason == "tool_calls"
    assert response.usage == Usage(377, 65)


def test_sse_tool_input_cut_by_max_tokens_is_repaired_and_flagged(sse_fixture: Stream) -> None:
    text, response = _stream(sse_fixture("incomplete_partial_json_response"))
    assert text.startswith("I'll create a comprehensive tax guide")
    (call,) = response.tool_calls
    assert call.name == "make_file" and call.arguments["filename"] == "taxes.txt"
    assert call.arguments["lines_of_text"][:3] == [
        "# COMPREHENSIVE TAX GUIDE FOR INDIVIDUALS WITH MULTIPLE W-2s",
        "",
        "## INTRODUCTION",
    ]
    assert response.metadata["repaired_tool_arguments"] == ["make_file"]
    assert response.finish_reason == "length"


def test_sse_refusal_with_no_text_is_an_error(sse_fixture: Stream) -> None:
    with pytest.raises(
        ProviderError, match=r"Claude refused \(stop_reason: refusal, category cyber"
    ):
        _stream(sse_fixture("refusal_response"))


# -- request building -------------------------------------------------------------------------


def _build(request: LMRequest) -> Any:
    return AnthropicMessages().build(request, "claude", stream=False, structured_mode=None)


def test_images_documents_and_parameters() -> None:
    message = Message(
        "user",
        [
            {"type": "text", "text": "Compare"},
            {"type": "image", "url": "https://example.com/a.png"},
            {"type": "document", "data": "JVBE", "media_type": "application/pdf"},
        ],
    )
    built = _build(
        LMRequest(
            (message,), temperature=0, max_tokens=9, stop=("X",), seed=1, tool_choice="required"
        )
    )
    assert built.body["messages"][0]["content"] == [
        {"type": "text", "text": "Compare"},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}},
        {
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBE"},
        },
    ]
    assert built.body["max_tokens"] == 9 and built.body["stop_sequences"] == ["X"]
    assert built.body["tool_choice"] == {"type": "any"}
    assert built.ignored == ("seed",)


def test_more_than_one_choice_is_refused() -> None:
    with pytest.raises(InputError, match="n=2: the Anthropic Messages API returns one choice"):
        _build(LMRequest((Message("user", "hi"),), n=2))


def test_older_models_report_no_structured_output() -> None:
    lm = resolve_lm("anthropic/claude-3-5-haiku-latest", api_key="sk-ant-test")
    assert not lm.capabilities.structured_output and lm.capabilities.tools


# -- thinking blocks of a tool-calling turn go back verbatim -----------------------------------

THINKING = {"type": "thinking", "thinking": "Paris first, then Oslo.", "signature": "sig-abc"}
REDACTED = {"type": "redacted_thinking", "data": "EncryptedBlob=="}
TOOL_TURN = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5",
    "content": [
        THINKING,
        REDACTED,
        {"type": "text", "text": "Checking both."},
        {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Paris"}},
        {"type": "tool_use", "id": "toolu_2", "name": "weather", "input": {"city": "Oslo"}},
    ],
    "stop_reason": "tool_use",
    "usage": {"input_tokens": 50, "output_tokens": 40},
}


def _next_turn(response: LMResponse) -> list[dict[str, Any]]:
    """The messages sent after the tool results of ``response``'s calls come back."""
    history = (
        Message("user", "Weather in Paris and Oslo?"),
        Message("assistant", response.text, tool_calls=tuple(response.tool_calls)),
        *(
            Message("tool", "mild", tool_call_id=call.id, name=call.name)
            for call in response.tool_calls
        ),
    )
    return _build(LMRequest(history)).body["messages"]


def test_thinking_blocks_of_a_tool_turn_are_sent_back_before_its_tool_calls() -> None:
    response = AnthropicMessages().parse(TOOL_TURN)
    first, second = response.tool_calls
    assert first.provider_data == {"thinking_blocks": [THINKING, REDACTED]}
    assert second.provider_data is None
    assert response.metadata["reasoning"] == "Paris first, then Oslo."
    assistant = _next_turn(response)[1]
    assert assistant["role"] == "assistant"
    assert assistant["content"] == [
        THINKING,
        REDACTED,
        {"type": "text", "text": "Checking both."},
        {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Paris"}},
        {"type": "tool_use", "id": "toolu_2", "name": "weather", "input": {"city": "Oslo"}},
    ]


def test_streamed_thinking_is_assembled_with_its_signature() -> None:
    events = [
        {"type": "message_start", "message": {"id": "msg_2", "model": "claude-sonnet-4-5"}},
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "thinking", "thinking": "", "signature": ""},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "thinking_delta", "thinking": "Paris first, "},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "thinking_delta", "thinking": "then Oslo."},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "signature_delta", "signature": "sig-abc"},
        },
        {"type": "content_block_stop", "index": 0},
        {"type": "content_block_start", "index": 1, "content_block": REDACTED},
        {"type": "content_block_stop", "index": 1},
        {
            "type": "content_block_start",
            "index": 2,
            "content_block": {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {}},
        },
        {
            "type": "content_block_delta",
            "index": 2,
            "delta": {"type": "input_json_delta", "partial_json": '{"city": "Paris"}'},
        },
        {"type": "content_block_stop", "index": 2},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "tool_use"},
            "usage": {"output_tokens": 30},
        },
        {"type": "message_stop"},
    ]
    parser = AnthropicMessages().stream_parser()
    for event in events:
        parser.feed(event["type"], json.dumps(event))
    response = parser.result()
    (call,) = response.tool_calls
    assert call.arguments == {"city": "Paris"}
    assert call.provider_data == {"thinking_blocks": [THINKING, REDACTED]}
    assert response.metadata["reasoning"] == "Paris first, then Oslo."
    assert _next_turn(response)[1]["content"][:2] == [THINKING, REDACTED]


def test_a_turn_without_thinking_sends_no_thinking_blocks() -> None:
    plain = {**TOOL_TURN, "content": TOOL_TURN["content"][2:]}
    response = AnthropicMessages().parse(plain)
    assert [call.provider_data for call in response.tool_calls] == [None, None]
    assert [block["type"] for block in _next_turn(response)[1]["content"]] == [
        "text",
        "tool_use",
        "tool_use",
    ]
