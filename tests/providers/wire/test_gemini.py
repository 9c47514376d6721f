"""Gemini generateContent: recorded exchanges (text, SSE stream, JSON output, streamed tool
call with a thought signature) replayed through our code."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from provider_replay import Replay

from lmbench.lm.base import LM
from lmbench.lm.types import LMRequest, Message, ToolSpec, Usage
from lmbench.providers.wire.base import WireError
from lmbench.providers.wire.gemini import GeminiGenerateContent

Cassette = Callable[[str, str], Replay]


def _lm(replay: Replay, model: str) -> LM:
    return replay.lm(f"gemini/{model}", api_key="gemini-test-key")


def test_text_with_thinking_tokens(cassette: Cassette) -> None:
    replay = cassette("gemini", "test_google_model")
    response = _lm(replay, "gemini-2.5-flash").generate(
        LMRequest((Message("system", "You are a chatbot."), Message("user", "Hello!")))
    )
    replay.assert_request(0, "contents")
    assert (
        replay.body(0)["systemInstruction"]["parts"]
        == replay.recorded_body(0)["systemInstruction"]["parts"]
    )
    assert replay.sent[0].headers["x-goog-api-key"] == "gemini-test-key"
    assert "key=" not in str(replay.sent[0].url)
    assert response.text == "Hello! How can I help you today?"
    assert response.usage == Usage(input_tokens=9, output_tokens=43, reasoning_tokens=34)
    assert response.model == "gemini-2.5-flash"
    assert response.request_id == "bzlXaa_EE_aHqtsPi_zw8Ao"
    assert response.finish_reason == "stop"


def test_sse_stream(cassette: Cassette) -> None:
    replay = cassette("gemini", "test_google_model_stream")
    lm = _lm(replay, "gemini-2.0-flash-exp")
    request = LMRequest(
        (
            Message("system", "You are a helpful chatbot."),
            Message("user", "What is the capital of France?"),
        ),
        temperature=0.0,
    )
    chunks = list(lm.stream(request))
    replay.assert_request(0, "contents", "generationConfig")
    assert [c.text for c in chunks[:-1]] == ["The", " capital of France", " is Paris.\n"]
    final = chunks[-1].response
    assert final is not None and final.text == "The capital of France is Paris.\n"
    assert final.usage == Usage(13, 8)


def test_json_output_uses_response_json_schema(cassette: Cassette) -> None:
    replay = cassette("gemini", "test_google_native_output")
    schema = replay.recorded_body(0)["generationConfig"]["responseJsonSchema"]
    request = LMRequest(
        (Message("user", "What is the largest city in Mexico?"),), response_schema=schema
    )
    response = _lm(replay, "gemini-2.0-flash").generate(request)
    replay.assert_request(0, "contents")
    sent, recorded = replay.body(0)["generationConfig"], replay.recorded_body(0)["generationConfig"]
    assert sent["responseJsonSchema"] == recorded["responseJsonSchema"]
    assert sent["responseMimeType"] == recorded["responseMimeType"] == "application/json"
    assert response.text == '{\n  "city": "Mexico City",\n  "country": "Mexico"\n}'
    assert response.usage == Usage(8, 20)


def test_streamed_tool_call_sends_its_thought_signature_back(cassette: Cassette) -> None:
    replay = cassette("gemini", "test_google_streaming_tool_call_thought_signature")
    lm = _lm(replay, "gemini-3-pro-preview")
    declaration = replay.recorded_body(0)["tools"][0]["functionDeclarations"][0]
    tool = ToolSpec(
        declaration["name"], declaration["description"], declaration["parameters_json_schema"]
    )
    question = Message("user", "What is the capital of the user country? Call the tool")
    chunks = list(lm.stream(LMRequest((question,), tools=(tool,))))
    replay.assert_request(0, "contents")
    sent_tool = replay.body(0)["tools"][0]["functionDeclarations"][0]
    assert (
        sent_tool["name"] == "get_country" and sent_tool["parametersJsonSchema"] == tool.parameters
    )
    first = chunks[-1].response
    assert first is not None
    (call,) = first.tool_calls
    assert call.name == "get_country" and call.arguments == {}
    assert call.provider_data is not None and call.provider_data["thought_signature"].startswith(
        "EpwICpkIAXLI2nxl"
    )
    assert first.finish_reason == "tool_calls"
    assert first.usage == Usage(29, 212, reasoning_tokens=202)

    history = (
        question,
        Message("assistant", "", tool_calls=(call,)),
        Message("tool", "Mexico", tool_call_id=call.id),
    )
    final = list(lm.stream(LMRequest(history, tools=(tool,))))[-1].response
    contents = replay.body(1)["contents"]
    assert [c["role"] for c in contents] == ["user", "model", "user"]
    echoed = contents[1]["parts"][0]
    assert echoed["functionCall"] == {"name": "get_country", "args": {}, "id": call.id}
    assert echoed["thoughtSignature"] == call.provider_data["thought_signature"]
    assert contents[2]["parts"][0]["functionResponse"] == {
        "name": "get_country",
        "response": {"result": "Mexico"},
        "id": call.id,
    }
    assert final is not None and final.text == "The capital of Mexico is Mexico City."
    assert final.usage == Usage(257, 8)


def test_build_parameters_images_and_tool_choice() -> None:
    message = Message(
        "user",
        [
            {"type": "text", "text": "Look"},
            {"type": "image", "data": "QUJD", "media_type": "image/jpeg"},
        ],
    )
    request = LMRequest((message,), max_tokens=10, n=2, stop=("Z",), seed=3, tool_choice="none")
    built = GeminiGenerateContent().build(
        request, "models/gemini-x", stream=True, structured_mode=None
    )
    assert built.path == "/models/gemini-x:streamGenerateContent?alt=sse"
    assert built.body["contents"][0]["parts"] == [
        {"text": "Look"},
        {"inlineData": {"mimeType": "image/jpeg", "data": "QUJD"}},
    ]
    assert built.body["generationConfig"] == {
        "maxOutputTokens": 10,
        "candidateCount": 2,
        "stopSequences": ["Z"],
        "seed": 3,
    }
    assert built.body["toolConfig"] == {"functionCallingConfig": {"mode": "NONE"}}


def test_blocked_prompt_is_an_error_naming_the_block_reason() -> None:
    blocked = {"promptFeedback": {"blockReason": "OTHER", "blockReasonMessage": "Not allowed."}}
    with pytest.raises(WireError, match=r"blockReason: OTHER\): Not allowed\.: no answer came"):
        GeminiGenerateContent().parse(blocked)
