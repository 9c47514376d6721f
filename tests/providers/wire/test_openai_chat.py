"""OpenAI chat completions: recorded OpenAI, OpenRouter, Mistral, Groq and Ollama (/v1)
exchanges replayed through our code, plus the request building rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from provider_replay import Replay, clean

from lmbench.errors import InputError, ProviderError, RateLimitError
from lmbench.lm.base import LM
from lmbench.lm.types import LMRequest, Message, StreamChunk, ToolCall, ToolSpec, Usage
from lmbench.providers.retry import RetryPolicy
from lmbench.providers.wire.openai_chat import OpenAIChat, is_strict_compatible

Cassette = Callable[[str, str], Replay]
FAST = RetryPolicy(initial_delay=0.001, max_delay=0.002)
CITY_SCHEMA = {
    "properties": {"city": {"type": "string"}, "country": {"type": "string"}},
    "required": ["city", "country"],
    "type": "object",
}


def _tool(name: str, parameters: dict[str, Any], description: str = "") -> ToolSpec:
    return ToolSpec(name=name, description=description, parameters=parameters)


def _answer_tool_call(request: LMRequest, calls: list[ToolCall], result: str) -> LMRequest:
    """``request`` continued by the assistant's tool call and the tool's ``result``."""
    return request.replace(
        messages=(
            *request.messages,
            Message("assistant", "", tool_calls=tuple(calls)),
            Message("tool", result, tool_call_id=calls[0].id),
        )
    )


def _city_request(question: str, schema: dict[str, Any]) -> LMRequest:
    return LMRequest(
        (Message("user", question),), response_schema=schema, response_schema_name="CityLocation"
    )


def _assert_json_schema_as_recorded(replay: Replay, *keys: str) -> None:
    """The first request's ``response_format`` is a JSON schema whose ``keys`` match the recording."""
    sent, recorded = replay.body(0)["response_format"], replay.recorded_body(0)["response_format"]
    assert sent["type"] == recorded["type"] == "json_schema"
    for key in keys:
        assert sent["json_schema"][key] == recorded["json_schema"][key], key


def _collect(chunks: list[StreamChunk]) -> tuple[str, Any]:
    final = chunks[-1].response
    assert final is not None and all(c.response is None for c in chunks[:-1])
    return "".join(c.text for c in chunks), final


def test_plain_text_with_usage(cassette: Cassette) -> None:
    replay = cassette("openai", "test_max_completion_tokensgpt-4o-mini")
    lm = replay.lm("openai/gpt-4o-mini", api_key="sk-test")
    response = lm.generate(LMRequest((Message("user", "hello"),), max_tokens=100))
    replay.assert_request(0, "model", "messages", "max_completion_tokens", "stream")
    assert replay.sent[0].headers["authorization"] == "Bearer sk-test"
    assert response.text == "Hello! How can I assist you today?"
    assert response.usage == Usage(
        input_tokens=8, output_tokens=9, cached_tokens=0, reasoning_tokens=0
    )
    assert response.model == "gpt-4o-mini-2024-07-18"
    assert response.provider == "openai"
    assert response.finish_reason == "stop"
    assert response.request_id == "chatcmpl-Dr3KONlJHqM2OKkn7IPxwgC3ZIEZw"
    assert response.metadata["requested_model"] == "gpt-4o-mini"
    assert [a.status for a in response.attempts] == [200]


def test_tool_call_then_structured_answer(cassette: Cassette) -> None:
    replay = cassette("openai", "test_openai_native_output")
    lm = replay.lm("openai/gpt-4o", api_key="sk-test")
    tool = _tool(
        "get_user_country", {"additionalProperties": False, "properties": {}, "type": "object"}
    )
    request = LMRequest(
        (Message("user", "What is the largest city in the user country?"),),
        tools=(tool,),
        tool_choice="auto",
        response_schema=CITY_SCHEMA,
        response_schema_name="result",
    )
    first = lm.generate(request)
    replay.assert_request(
        0, "model", "messages", "tools", "tool_choice", "response_format", "stream"
    )
    assert first.finish_reason == "tool_calls"
    assert first.tool_calls == [ToolCall("get_user_country", {}, "call_PkRGedQNRFUzJp2R7dO7avWR")]
    assert first.usage == Usage(71, 12)

    second = lm.generate(_answer_tool_call(request, first.tool_calls, "Mexico"))
    replay.assert_request(1, "model", "messages", "tools", "response_format")
    assert second.text == '{"city":"Mexico City","country":"Mexico"}'
    assert second.usage == Usage(92, 15)
    assert second.metadata["structured_output"] == {"mode": "json_schema", "fallbacks": []}


def test_streamed_tool_call_then_streamed_text(cassette: Cassette) -> None:
    replay = cassette("openai", "test_run_stream_sync_streams_real_model")
    lm = replay.lm("openai/gpt-4o-mini", api_key="sk-test")
    tool = _tool(
        "get_capital",
        {
            "additionalProperties": False,
            "properties": {"country": {"type": "string"}},
            "required": ["country"],
            "type": "object",
        },
    )
    question = "What is the capital of the UK? Use the tool, then answer."
    request = LMRequest((Message("user", question),), tools=(tool,), tool_choice="auto")
    text, first = _collect(list(lm.stream(request)))
    replay.assert_request(0, "model", "messages", "stream", "stream_options", "tool_choice")
    assert replay.body(0)["tools"][0]["function"]["parameters"] == tool.parameters
    assert text == ""
    assert first.tool_calls == [
        ToolCall("get_capital", {"country": "UK"}, "call_ZR5UUuTt3pf61kjwAJIYdVMj")
    ]
    assert first.finish_reason == "tool_calls"
    assert first.usage == Usage(53, 15)

    chunks = list(lm.stream(_answer_tool_call(request, first.tool_calls, "London")))
    replay.assert_request(1, "model", "messages", "stream")
    text, second = _collect(chunks)
    assert [c.text for c in chunks[:-1]] == [
        "The",
        " capital",
        " of",
        " the",
        " UK",
        " is",
        " London",
        ".",
    ]
    assert text == second.text == "The capital of the UK is London."
    assert second.usage == Usage(78, 9)
    assert second.finish_reason == "stop"
    assert second.ttft_s is not None and second.ttft_s <= second.latency_s


def test_tool_calls_without_ids_get_generated_ids(
    tool_call_without_id_replay: tuple[Replay, LM],
) -> None:
    replay, lm = tool_call_without_id_replay
    tool = _tool(
        "get_current_time",
        {"additionalProperties": False, "properties": {}, "type": "object"},
        "Get the current time.",
    )
    request = LMRequest(
        (Message("user", "What is the current time?"),), tools=(tool,), tool_choice="auto"
    )
    first = lm.generate(request)
    replay.assert_request(0, "model", "messages", "tools", "tool_choice")
    (call,) = first.tool_calls
    assert call.name == "get_current_time" and call.arguments == {}
    assert call.id and call.id.startswith("call_")
    assert first.usage == Usage(35, 12)

    second = lm.generate(_answer_tool_call(request, [call], "Noon"))
    sent = replay.body(1)["messages"]
    assert sent[1]["tool_calls"][0]["id"] == call.id
    assert sent[2] == {"role": "tool", "content": "Noon", "tool_call_id": call.id}
    assert second.text == "The current time is Noon."
    assert second.usage == Usage(66, 6)


def test_openrouter_tool_call_keeps_vendor_model_id(cassette: Cassette) -> None:
    replay = cassette("openrouter", "test_openrouter_tool_calling")
    lm = replay.lm("openrouter/mistralai/mistral-small", api_key="sk-or-test")
    assert lm.model == "mistralai/mistral-small"
    parameters = replay.recorded_body(0)["tools"][0]["function"]["parameters"]
    request = LMRequest(
        (Message("user", "What is 123 / 456?"),),
        tools=(_tool("divide", parameters, "Divide two numbers."),),
        tool_choice="auto",
    )
    response = lm.generate(request)
    replay.assert_request(0, "model", "messages", "tools", "tool_choice", "stream")
    assert replay.sent[0].headers["x-title"] == "lmbench"
    assert response.tool_calls == [
        ToolCall(
            "divide", {"numerator": 123, "denominator": 456, "on_inf": "infinity"}, "3sniiMddS"
        )
    ]
    assert response.metadata["upstream_provider"] == "Mistral"
    assert response.usage == Usage(134, 43)


def test_openrouter_429_is_retried_then_raised(cassette: Cassette) -> None:
    replay = cassette("openrouter", "test_openrouter_errors_raised")
    lm = replay.lm("openrouter/google/gemini-2.0-flash-exp:free", api_key="sk-or-test", retry=FAST)
    request = LMRequest((Message("system", "Be helpful."), Message("user", "Tell me a joke.")))
    with pytest.raises(RateLimitError) as info:
        lm.generate(request)
    error = info.value
    assert len(replay.sent) == 3  # the first try and the two default retries, no more
    replay.assert_request(2, "model", "messages", "stream")
    assert error.status == 429 and error.retryable and error.provider == "openrouter"
    assert "temporarily rate-limited upstream" in error.message
    assert [a.status for a in error.attempts] == [429, 429, 429]
    assert [a.number for a in error.attempts] == [1, 2, 3]
    assert "no retries left" in error.attempts[-1].reason


def test_openrouter_error_inside_stream(cassette: Cassette) -> None:
    replay = cassette("openrouter", "test_openrouter_stream_error")
    lm = replay.lm(
        "openrouter/minimax/minimax-m2:free",
        api_key="sk-or-test",
        max_tokens_field="max_completion_tokens",
    )
    with pytest.raises(ProviderError) as info:
        list(lm.stream(LMRequest((Message("user", "Hello there"),), max_tokens=10)))
    replay.assert_request(
        0, "model", "messages", "stream", "stream_options", "max_completion_tokens"
    )
    assert info.value.status == 400
    assert "Token limit reached" in str(info.value)
    assert not info.value.retryable
    assert len(replay.sent) == 1


def test_openrouter_streamed_reasoning(cassette: Cassette) -> None:
    replay = cassette("openrouter", "test_openrouter_streaming_reasoning")
    lm = replay.lm("openrouter/anthropic/claude-sonnet-4.5", api_key="sk-or-test")
    request = LMRequest((Message("user", "What is 2+2?"),), extra={"reasoning": {"enabled": True}})
    text, response = _collect(list(lm.stream(request)))
    replay.assert_request(0, "model", "messages", "reasoning", "stream", "stream_options")
    assert text == response.text == "2 + 2 = 4"
    assert response.metadata["reasoning"] == "This is a simple arithmetic question. 2+2 equals 4."
    assert response.usage == Usage(43, 36, cached_tokens=0, reasoning_tokens=13)
    assert response.metadata["upstream_provider"] == "Google"
    assert response.finish_reason == "stop"


def test_mistral_forwards_extra_fields_and_correlation_id(cassette: Cassette) -> None:
    replay = cassette("mistral", "test_mistral_forwards_penalties")
    lm = replay.lm("mistral/mistral-large-latest", api_key="test")
    extra = {"frequency_penalty": 0.25, "presence_penalty": 0.5, "top_p": 1.0}
    response = lm.generate(LMRequest((Message("user", "hello"),), extra=extra))
    replay.assert_request(
        0, "model", "messages", "frequency_penalty", "presence_penalty", "top_p", "stream"
    )
    assert response.text.startswith("Hello! \U0001f60a How can I assist you today?")
    assert response.usage == Usage(4, 36)
    assert response.request_id == "019ef358-aa9c-7608-80de-5e23e136b528"


def test_mistral_cached_prompt_tokens(cassette: Cassette) -> None:
    replay = cassette("mistral", "test_mistral_history_uses_prompt_cache")
    lm = replay.lm("mistral/mistral-large-latest", api_key="test")
    system = Message("system", replay.recorded_body(0)["messages"][0]["content"])
    extra = {"prompt_cache_key": "pydantic-ai-test-mistral-history-cache"}
    first = lm.generate(
        LMRequest((system, Message("user", "Reply with exactly: cache probe one.")), extra=extra)
    )
    second = lm.generate(
        LMRequest(
            (
                system,
                Message("user", "Reply with exactly: cache probe one."),
                Message("assistant", first.text),
                Message("user", "Reply with exactly: cache probe two."),
            ),
            extra=extra,
        )
    )
    replay.assert_request(0, "model", "messages", "prompt_cache_key")
    recorded = replay.recorded_body(1)["messages"]
    assert [m["role"] for m in replay.body(1)["messages"]] == [m["role"] for m in recorded]
    assert replay.body(1)["messages"][2]["content"] == recorded[2]["content"][0]["text"]
    assert (first.text, second.text) == ("cache probe one.", "cache probe two.")
    assert second.usage == Usage(268, 5, cached_tokens=224)


def test_groq_structured_output_strict_schema(cassette: Cassette) -> None:
    replay = cassette("groq", "test_groq_native_output")
    lm = replay.lm("groq/openai/gpt-oss-120b", api_key="gsk-test")
    schema = {**CITY_SCHEMA, "additionalProperties": False}
    response = lm.generate(_city_request("What is the largest city in Mexico?", schema))
    replay.assert_request(0, "model", "messages", "stream")
    _assert_json_schema_as_recorded(replay, "name", "schema", "strict")
    assert response.text == '{"city":"Mexico City","country":"Mexico"}'
    assert response.metadata["reasoning"].startswith(
        'The user asks: "What is the largest city in Mexico?"'
    )
    assert response.usage == Usage(178, 94)


def test_groq_404_is_mapped_and_not_retried(cassette: Cassette) -> None:
    replay = cassette("groq", "test_tool_regular_error")
    lm = replay.lm("groq/non-existent", api_key="gsk-test")
    with pytest.raises(ProviderError) as info:
        lm.generate(LMRequest((Message("user", "hello"),)))
    error = info.value
    assert type(error) is ProviderError and error.status == 404 and not error.retryable
    assert "The model `non-existent` does not exist" in error.message
    assert "(model_not_found)" in error.message
    assert "Check the model name 'non-existent'" in error.message
    assert len(replay.sent) == 1 and len(error.attempts) == 1


def test_groq_tool_error_then_tool_call_with_reasoning_tokens(cassette: Cassette) -> None:
    replay = cassette("groq", "test_tool_use_failed_error")
    lm = replay.lm("groq/openai/gpt-oss-120b", api_key="gsk-test")
    recorded = replay.recorded_body(1)["messages"]
    tool = _tool(
        "get_something_by_name", replay.recorded_body(0)["tools"][0]["function"]["parameters"]
    )
    opening = (Message("system", recorded[0]["content"]), Message("user", recorded[1]["content"]))
    with pytest.raises(ProviderError) as info:
        lm.generate(LMRequest(opening, tools=(tool,), tool_choice="auto"))
    assert info.value.status == 400
    assert "Tool call validation failed" in info.value.message
    bad_call = ToolCall("get_something_by_name", {"foo": "bar"}, recorded[2]["tool_calls"][0]["id"])
    history = (
        *opening,
        Message("assistant", "", tool_calls=(bad_call,)),
        Message("tool", recorded[3]["content"], tool_call_id=bad_call.id),
    )
    response = lm.generate(LMRequest(history, tools=(tool,), tool_choice="auto"))
    replay.assert_request(1, "model", "messages", "tools", "tool_choice")
    assert response.tool_calls == [
        ToolCall(
            "get_something_by_name", {"name": "test"}, "fc_311ba17b-89f9-48d3-8fd9-7e74a1264855"
        )
    ]
    assert response.usage == Usage(301, 52, reasoning_tokens=22)


def test_ollama_openai_api_json_mode(cassette: Cassette) -> None:
    replay = cassette("ollama", "test_ollama_cloud_prompted_output")
    lm = replay.lm(
        "ollama/gpt-oss:20b",
        api="openai",
        base_url="https://ollama.com",
        api_key="ollama-test",
        structured_modes=("json_object",),
    )
    recorded = replay.recorded_body(0)["messages"]
    request = LMRequest(
        (Message("system", recorded[0]["content"]), Message("user", recorded[1]["content"])),
        response_schema={"type": "object"},
    )
    response = lm.generate(request)
    replay.assert_request(0, "model", "messages", "response_format", "stream")
    assert response.text == '{"name":"Loki","animal":"cat","age":3}'
    assert response.metadata["reasoning"].startswith("We need to output JSON")
    assert response.usage == Usage(172, 88)


def test_ollama_openai_api_tool_call(cassette: Cassette) -> None:
    replay = cassette("ollama", "test_ollama_cloud_tool_output")
    lm = replay.lm(
        "ollama/gpt-oss:20b", api="openai", base_url="https://ollama.com", api_key="k-test-1234"
    )
    tool = _tool(
        "final_result",
        {**CITY_SCHEMA, "additionalProperties": False},
        "The final response which ends this conversation",
    )
    recorded = replay.recorded_body(1)["messages"]
    first = lm.generate(
        LMRequest((Message("user", recorded[0]["content"]),), tools=(tool,), tool_choice="auto")
    )
    replay.assert_request(0, "model", "messages", "tools", "tool_choice")
    assert first.text == "Paris." and first.finish_reason == "stop"
    history = (
        Message("user", recorded[0]["content"]),
        Message("assistant", "Paris."),
        Message("user", recorded[2]["content"]),
    )
    second = lm.generate(LMRequest(history, tools=(tool,), tool_choice="auto"))
    assert [(m["role"], m["content"]) for m in replay.body(1)["messages"]] == [
        (m["role"], m["content"]) for m in recorded
    ]
    assert second.tool_calls == [
        ToolCall("final_result", {"city": "Paris", "country": "France"}, "call_o2vnpxrw")
    ]
    assert second.finish_reason == "tool_calls"
    assert second.usage == Usage(206, 194)


def test_ollama_local_json_schema_needs_no_key(
    cassette: Cassette, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OLLAMA_API_KEY", raising=False)
    replay = cassette("ollama", "test_ollama_local_native_output_uses_json_schema")
    lm = replay.lm("ollama/qwen3:0.6b", api="openai")
    schema = {**CITY_SCHEMA, "title": "CityLocation"}
    response = lm.generate(_city_request("What is the capital of France?", schema))
    replay.assert_request(0, "model", "messages", "stream")
    assert "authorization" not in replay.sent[0].headers
    _assert_json_schema_as_recorded(replay, "schema", "name")
    assert response.text == '{ "city": "Paris", "country": "France" }'
    assert response.usage == Usage(136, 15)
    assert lm.free


# -- request building -------------------------------------------------------------------------


def _build(request: LMRequest, wire: OpenAIChat | None = None, **kw: Any) -> dict[str, Any]:
    wire = wire or OpenAIChat()
    return wire.build(
        request, "m", stream=kw.pop("stream", False), structured_mode=kw.pop("mode", None)
    ).body


def test_images_become_image_url_parts() -> None:
    message = Message(
        "user",
        [
            {"type": "text", "text": "What is this?"},
            {"type": "image", "url": "https://example.com/cat.png"},
            {"type": "image", "data": "QUJD", "media_type": "image/png"},
        ],
    )
    content = _build(LMRequest((message,)))["messages"][0]["content"]
    assert content == [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,QUJD"}},
    ]


def test_audio_url_is_refused_clearly() -> None:
    message = Message("user", [{"type": "audio", "url": "https://example.com/a.wav"}])
    with pytest.raises(
        InputError, match=r"OpenAI chat API does not fetch audio URLs.*Audio.from_url"
    ):
        _build(LMRequest((message,)))


def test_parameters_and_named_tool_choice() -> None:
    request = LMRequest(
        (Message("user", "hi"),),
        temperature=0.2,
        max_tokens=5,
        n=3,
        stop=("END",),
        seed=7,
        tools=(_tool("f", {"type": "object"}),),
        tool_choice="f",
    )
    body = _build(request, OpenAIChat(max_tokens_field="max_completion_tokens"), stream=True)
    assert body["temperature"] == 0.2 and body["max_completion_tokens"] == 5 and body["n"] == 3
    assert body["stop"] == ["END"] and body["seed"] == 7
    assert body["tool_choice"] == {"type": "function", "function": {"name": "f"}}
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("json_object_schema", {"type": "json_object", "schema": CITY_SCHEMA}),
        ("json_object", {"type": "json_object"}),
        ("text", None),
    ],
)
def test_structured_modes(mode: str, expected: dict[str, Any] | None) -> None:
    body = _build(LMRequest((Message("user", "hi"),), response_schema=CITY_SCHEMA), mode=mode)
    assert body.get("response_format") == expected


def test_strict_only_for_closed_fully_required_schemas() -> None:
    closed = {**CITY_SCHEMA, "additionalProperties": False}
    assert is_strict_compatible(closed)
    assert not is_strict_compatible(CITY_SCHEMA)
    nested = {
        **closed,
        "properties": {"city": {"type": "object", "properties": {"x": {"type": "string"}}}},
    }
    assert not is_strict_compatible(nested)


def test_n_choices_are_parsed_in_order() -> None:
    data = {
        "choices": [
            {"index": 1, "message": {"content": "b"}, "finish_reason": "stop"},
            {"index": 0, "message": {"content": "a"}, "finish_reason": "length"},
        ]
    }
    response = OpenAIChat().parse(data)
    assert response.texts == ["a", "b"]
    assert response.finish_reason == "length"


def test_clean_drops_nulls_only() -> None:
    assert clean({"a": None, "b": [{"c": None, "d": 0}]}) == {"b": [{"d": 0}]}
