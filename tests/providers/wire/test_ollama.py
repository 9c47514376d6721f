"""Ollama's native /api/chat against a real loopback server: JSON bodies and NDJSON streams."""

from __future__ import annotations

import json
from typing import Any

import pytest
from provider_faults import FaultServer, respond, sse

from lmbench.errors import InputError, ProviderError
from lmbench.lm.registry import resolve_lm
from lmbench.lm.types import LMRequest, Message, ToolCall, ToolSpec, Usage

DONE = {
    "done": True,
    "done_reason": "stop",
    "prompt_eval_count": 12,
    "eval_count": 4,
    "total_duration": 123,
}


def _line(message: dict[str, Any], **extra: Any) -> str:
    return (
        json.dumps(
            {
                "model": "qwen3:0.6b",
                "message": {"role": "assistant", **message},
                "done": False,
                **extra,
            }
        )
        + "\n"
    )


def test_generate_with_schema_options_and_thinking(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OLLAMA_API_KEY", raising=False)
    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{server.port}")
    body = {
        "model": "qwen3:0.6b",
        "message": {
            "role": "assistant",
            "content": '{"city": "Paris"}',
            "thinking": "France -> Paris",
        },
        **DONE,
    }
    server.script(respond(200, body))
    lm = resolve_lm("ollama/qwen3:0.6b")
    schema = {"type": "object", "properties": {"city": {"type": "string"}}}
    request = LMRequest(
        (Message("user", "Capital of France?"),),
        temperature=0,
        max_tokens=20,
        seed=1,
        response_schema=schema,
    )
    response = lm.generate(request)
    sent = server.received[0]
    assert sent.path == "/api/chat" and "authorization" not in {k.lower() for k in sent.headers}
    assert sent.body["format"] == schema and sent.body["stream"] is False
    assert sent.body["options"] == {"temperature": 0, "num_predict": 20, "seed": 1}
    assert response.text == '{"city": "Paris"}'
    assert response.metadata["reasoning"] == "France -> Paris"
    assert response.metadata["timings"] == {"total_duration": 123}
    assert response.usage == Usage(12, 4)
    assert response.finish_reason == "stop"
    assert lm.free


def test_ndjson_stream_with_tool_call(server: FaultServer) -> None:
    lines = [
        _line({"content": "Let me "}),
        _line({"content": "check."}),
        _line(
            {
                "content": "",
                "tool_calls": [{"function": {"name": "weather", "arguments": {"city": "Paris"}}}],
            }
        ),
        json.dumps({"model": "qwen3:0.6b", "message": {"role": "assistant", "content": ""}, **DONE})
        + "\n",
    ]
    server.script(sse(lines, content_type="application/x-ndjson"))
    lm = resolve_lm("ollama/qwen3:0.6b", base_url=server.url)
    tool = ToolSpec(
        "weather",
        "Weather in a city",
        {"type": "object", "properties": {"city": {"type": "string"}}},
    )
    chunks = list(lm.stream(LMRequest((Message("user", "Weather in Paris?"),), tools=(tool,))))
    assert [c.text for c in chunks[:-1]] == ["Let me ", "check."]
    final = chunks[-1].response
    assert final is not None and final.text == "Let me check."
    (call,) = final.tool_calls
    assert (call.name, call.arguments) == ("weather", {"city": "Paris"}) and call.id
    assert final.finish_reason == "tool_calls"
    assert server.received[0].body["tools"][0]["function"]["name"] == "weather"


def test_error_body_is_raised_with_the_model_hint(server: FaultServer) -> None:
    server.script(respond(404, {"error": "model 'nope' not found"}))
    lm = resolve_lm("ollama/nope", base_url=server.url)
    with pytest.raises(ProviderError) as info:
        lm.generate(LMRequest((Message("user", "hi"),)))
    assert info.value.status == 404
    assert "model 'nope' not found" in info.value.message
    assert "Check the model name 'nope'" in info.value.message


def test_tool_results_name_their_function_and_images_are_base64(server: FaultServer) -> None:
    server.script(
        respond(200, {"model": "m", "message": {"role": "assistant", "content": "ok"}, **DONE})
    )
    lm = resolve_lm("ollama/m", base_url=server.url)
    call = ToolCall("weather", {"city": "Paris"}, "call_1")
    picture = Message(
        "user",
        [
            {"type": "text", "text": "and this?"},
            {"type": "image", "data": "QUJD", "media_type": "image/png"},
        ],
    )
    history = (
        Message("assistant", "", tool_calls=(call,)),
        Message("tool", "sunny", tool_call_id="call_1"),
        picture,
    )
    lm.generate(LMRequest(history))
    sent = server.received[0].body["messages"]
    assert sent[0]["tool_calls"] == [
        {"function": {"name": "weather", "arguments": {"city": "Paris"}}}
    ]
    assert sent[1] == {"role": "tool", "content": "sunny", "tool_name": "weather"}
    assert sent[2] == {"role": "user", "content": "and this?", "images": ["QUJD"]}


def test_image_urls_are_refused_before_sending(server: FaultServer) -> None:
    lm = resolve_lm("ollama/m", base_url=server.url)
    message = Message("user", [{"type": "image", "url": "https://example.com/x.png"}])
    with pytest.raises(InputError, match="base64 data, not URLs"):
        lm.generate(LMRequest((message,)))
    assert server.count == 0
