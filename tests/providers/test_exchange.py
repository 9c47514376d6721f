"""One call's life: structured-output fallbacks, raw exchanges, odd bodies and content types."""

from __future__ import annotations

import gc
import json
from typing import Any

import httpx
import pytest
from provider_faults import FaultServer, chat_body, chat_events, respond, sse

from lmbench.errors import ProviderError
from lmbench.lm.registry import resolve_lm
from lmbench.lm.types import LMRequest, Message
from lmbench.providers.exchange import Exchange
from lmbench.providers.retry import RetryPolicy
from lmbench.secrets import REDACTED
from lmbench.settings import context

SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
STRUCTURED = LMRequest(
    (Message("user", "hi"),), response_schema=SCHEMA, response_schema_name="Answer"
)
PLAIN = LMRequest((Message("user", "hi"),))
FAST = RetryPolicy(initial_delay=0.001, jitter=0.0)


def _rejected(mode: str) -> dict[str, Any]:
    return {
        "error": {
            "message": f"response_format type {mode} is not supported by this model",
            "code": 400,
        }
    }


def test_openrouter_falls_back_json_schema_then_json_object_then_text(server: FaultServer) -> None:
    server.script(
        respond(400, _rejected("json_schema")),
        respond(400, _rejected("json_object")),
        respond(200, chat_body('{"answer": "4"}')),
    )
    lm = resolve_lm("openrouter/vendor/model", base_url=f"{server.url}/v1", api_key="sk-or-x")
    response = lm.generate(STRUCTURED)
    formats = [r.body.get("response_format") for r in server.received]
    assert formats[0]["type"] == "json_schema" and formats[0]["json_schema"]["name"] == "Answer"
    assert formats[1] == {"type": "json_object"}
    assert formats[2] is None
    fallback = response.metadata["structured_output"]
    assert fallback["mode"] == "text"
    assert [f["mode"] for f in fallback["fallbacks"]] == ["json_schema", "json_object"]
    assert "not supported" in fallback["fallbacks"][0]["error"]
    assert [a.number for a in response.attempts] == [1, 2, 3]
    assert (
        "structured output mode 'json_schema' rejected, trying 'json_object'"
        in response.attempts[0].reason
    )
    assert response.text == '{"answer": "4"}'


def test_a_422_from_a_strict_server_falls_back_to_the_schema_in_json_object(
    server: FaultServer,
) -> None:
    detail = {
        "detail": [
            {
                "loc": ["body", "response_format", "type"],
                "msg": "Input should be 'text' or 'json_object'",
            }
        ]
    }
    server.script(respond(422, detail), respond(200, chat_body("{}")))
    lm = resolve_lm("openai-compatible/m", base_url=f"{server.url}/v1")
    response = lm.generate(STRUCTURED)
    assert server.received[1].body["response_format"] == {"type": "json_object", "schema": SCHEMA}
    assert response.metadata["structured_output"]["mode"] == "json_object_schema"


def test_a_500_refusing_the_mode_falls_back_without_retrying(server: FaultServer) -> None:
    # llama-cpp-python's server reports its request validation errors as HTTP 500.
    body = {
        "error": {
            "message": "1 validation error: {'loc': ('body', 'response_format', 'type'), "
            "'msg': \"Input should be 'text' or 'json_object'\"}",
            "type": "internal_server_error",
        }
    }
    server.script(respond(500, body), respond(200, chat_body('{"answer": "x"}')))
    lm = resolve_lm("openai-compatible/m", base_url=f"{server.url}/v1")
    response = lm.generate(STRUCTURED)
    assert server.count == 2  # the refusal is not retried as it stands
    assert response.metadata["structured_output"]["mode"] == "json_object_schema"
    assert response.attempts[0].reason.startswith("HTTP 500: the server refuses this request")


def test_a_500_on_the_last_mode_is_retried_as_usual(server: FaultServer) -> None:
    server.script(
        respond(500, {"error": {"message": "response_format broke"}}), respond(200, chat_body("{}"))
    )
    lm = resolve_lm("openai/gpt-4o", base_url=f"{server.url}/v1", retry=FAST)
    response = lm.generate(STRUCTURED)
    assert [a.status for a in response.attempts] == [500, 200]
    assert "retrying" in response.attempts[0].reason


def test_other_400s_do_not_fall_back(server: FaultServer) -> None:
    server.script(respond(400, {"error": {"message": "messages must not be empty"}}))
    lm = resolve_lm("openrouter/vendor/model", base_url=f"{server.url}/v1", api_key="sk-or-x")
    with pytest.raises(ProviderError, match="messages must not be empty"):
        lm.generate(STRUCTURED)
    assert server.count == 1


def test_streams_fall_back_too(server: FaultServer) -> None:
    server.script(respond(400, _rejected("json_schema")), sse(chat_events('{"a"', ": 1}")))
    lm = resolve_lm("openrouter/vendor/model", base_url=f"{server.url}/v1", api_key="sk-or-x")
    final = list(lm.stream(STRUCTURED))[-1].response
    assert final is not None and final.text == '{"a": 1}'
    assert final.metadata["structured_output"]["mode"] == "json_object"


def test_raw_exchange_is_kept_only_when_asked(server: FaultServer) -> None:
    server.default = respond(200, chat_body("raw"), {"x-ratelimit-remaining-requests": "99"})
    lm = resolve_lm("openai-compatible/m", base_url=f"{server.url}/v1", api_key="secret-key-123456")
    assert lm.generate(PLAIN).raw is None
    with context(save_raw=True):
        response = lm.generate(PLAIN)
    raw = response.raw
    assert raw["request"]["method"] == "POST"
    assert raw["request"]["url"] == f"{server.url}/v1/chat/completions"
    assert raw["request"]["headers"]["authorization"] == REDACTED
    assert raw["request"]["body"]["messages"] == [{"role": "user", "content": "hi"}]
    assert (
        raw["response"]["status"] == 200
        and raw["response"]["body"]["choices"][0]["message"]["content"] == "raw"
    )
    assert response.metadata["rate_limits"] == {"x-ratelimit-remaining-requests": "99"}
    json.dumps(raw)  # a raw exchange is plain JSON


def test_raw_stream_keeps_every_event(server: FaultServer) -> None:
    server.script(sse(chat_events("a", "b")))
    lm = resolve_lm("openai-compatible/m", base_url=f"{server.url}/v1")
    with context(save_raw=True):
        final = list(lm.stream(PLAIN))[-1].response
    assert final is not None
    assert final.raw["response"]["body"][-1] == "[DONE]"
    assert len(final.raw["response"]["body"]) == 4


def test_a_server_that_ignores_stream_still_streams_one_chunk(server: FaultServer) -> None:
    server.script(respond(200, chat_body("whole answer")))
    lm = resolve_lm("openai-compatible/m", base_url=f"{server.url}/v1")
    chunks = list(lm.stream(PLAIN))
    assert [c.text for c in chunks[:-1]] == ["whole answer"]
    final = chunks[-1].response
    assert final is not None and final.text == "whole answer" and final.ttft_s is not None


def test_a_stream_of_the_wrong_type_is_explained(server: FaultServer) -> None:
    server.script(respond(200, "<html>login</html>"))
    lm = resolve_lm("openai-compatible/m", base_url=f"{server.url}/v1")
    with pytest.raises(
        ProviderError, match="expected a stream of events, got content-type 'text/plain'"
    ):
        list(lm.stream(PLAIN))


def test_a_body_that_is_not_json_is_explained(server: FaultServer) -> None:
    server.script(respond(200, "<html>proxy</html>"))
    lm = resolve_lm("openai-compatible/m", base_url=f"{server.url}/v1")
    with pytest.raises(
        ProviderError, match="an HTML page titled 'proxy', not the API's JSON"
    ) as info:
        lm.generate(PLAIN)
    assert [a.status for a in info.value.attempts] == [200]
    assert info.value.body == "<html>proxy</html>"


def test_a_body_that_is_neither_json_nor_html_is_quoted(server: FaultServer) -> None:
    server.script(respond(200, "upstream says: no"))
    lm = resolve_lm("openai-compatible/m", base_url=f"{server.url}/v1")
    with pytest.raises(ProviderError, match=r"the response body is not JSON .*upstream says"):
        lm.generate(PLAIN)


def test_an_error_inside_a_200_body(server: FaultServer) -> None:
    server.script(respond(200, {"error": {"message": "upstream failed", "code": 502}}))
    lm = resolve_lm("openrouter/a/b", base_url=f"{server.url}/v1", api_key="sk-or-x", retry=FAST)
    with pytest.raises(ProviderError, match="upstream failed") as info:
        lm.generate(PLAIN)
    assert info.value.status == 502 and info.value.retryable


def test_ignored_parameters_are_recorded() -> None:
    body = {
        "id": "msg_1",
        "model": "claude",
        "content": [{"type": "text", "text": "hi"}],
        "stop_reason": "end_turn",
    }
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json=body)

    client = httpx.Client(transport=httpx.MockTransport(answer))
    lm = resolve_lm("anthropic/claude-haiku-4-5", api_key="sk-ant-x", http_client=client)
    response = lm.generate(LMRequest((Message("user", "hi"),), seed=3))
    assert response.metadata["ignored_params"] == ["seed"]
    assert "seed" not in json.loads(sent[0].content)


def test_an_exchange_is_freed_when_its_call_ends(server: FaultServer) -> None:
    """No reference cycle through the retry state: the exchange goes with the call, not when
    the garbage collector runs."""
    server.default = respond(200, chat_body("pong"))
    lm = resolve_lm("groq/m", base_url=f"{server.url}/v1")
    request = LMRequest(messages=(Message("user", "hi"),))
    gc.collect()
    gc.disable()
    try:
        assert lm.generate(request).text == "pong"
        assert not [o for o in gc.get_objects() if isinstance(o, Exchange)]
    finally:
        gc.enable()
