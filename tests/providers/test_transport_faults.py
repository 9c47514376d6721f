"""Every provider's wire format against a misbehaving server on 127.0.0.1: answers cut off,
bodies that lie or cannot be decoded, redirects, timeouts, absurd Retry-After values and
kept-alive connections dropped between calls.

What must hold: one ``ProviderError`` naming the provider, the status and the fix; retries
only for failures another attempt may cure; a request that got a 2xx is never sent again.
"""

from __future__ import annotations

import gzip
import json
import socket
import time
from typing import Any

import httpx
import pytest
from provider_answers import PROVIDERS, Answers
from provider_faults import (
    FaultServer,
    drop,
    raw,
    redirect,
    reset,
    respond,
    response_bytes,
    slow,
    slow_body,
    sse,
)

import lmbench
from lmbench.errors import ProviderConnectionError, ProviderError, ProviderTimeout
from lmbench.lm.embedding import EmbeddingRequest
from lmbench.lm.types import LMRequest, Message
from lmbench.providers.embedding_catalog import resolve_embedding_model
from lmbench.providers.remote import RemoteLM
from lmbench.providers.retry import RetryPolicy
from lmbench.providers.retry_budget import RetryBudget

FAST = RetryPolicy(initial_delay=0.01, max_delay=0.04, jitter=0.0)
HI = LMRequest((Message("user", "hi"),))
KEY = "k-test-0123456789"
EVERY = pytest.mark.parametrize("answers", list(PROVIDERS.values()), ids=list(PROVIDERS))


def _lm(server: FaultServer, answers: Answers, **options: Any) -> RemoteLM:
    options.setdefault("retry", FAST)
    lm = lmbench.resolve_lm(answers.name, base_url=server.url, api_key=KEY, **options)
    assert isinstance(lm, RemoteLM)
    return lm


def _good(answers: Answers, text: str = "fine") -> Any:
    return respond(200, answers.body(text))


def _body(answers: Answers) -> bytes:
    return json.dumps(answers.body("fine")).encode()


# -- a 2xx is never sent twice -----------------------------------------------------------------


@EVERY
@pytest.mark.parametrize("cut", ["content-length", "chunked"])
def test_a_success_cut_midway_is_one_error_and_never_resent(
    server: FaultServer, answers: Answers, cut: str
) -> None:
    body = _body(answers)
    if cut == "content-length":  # says more than it sends, then closes
        answer = response_bytes(body=body[:25], content_length=len(body) + 50)
    else:  # one whole chunk, then a chunk cut off
        chunks = f"{25:x}\r\n".encode() + body[:25] + b"\r\n40\r\n" + body[25:40]
        answer = response_bytes(body=chunks, headers={"transfer-encoding": "chunked"})
    server.script(raw(answer))
    server.default = _good(answers, "a second, billed answer")
    with pytest.raises(ProviderConnectionError) as info:
        _lm(server, answers).generate(HI)
    error = info.value
    assert server.count == 1
    assert error.status == 200 and not error.retryable
    assert str(error).startswith(f"{answers.name.split('/')[0]} HTTP 200: connection error")
    assert "not sent again after HTTP 200" in str(error)
    assert [(a.status, a.wait_s) for a in error.attempts] == [(200, 0.0)]


@EVERY
def test_a_success_whose_body_stalls_times_out_naming_the_timeout(
    server: FaultServer, answers: Answers
) -> None:
    server.script(slow_body(1.0, answers.body("late")))
    server.default = _good(answers)
    with pytest.raises(ProviderTimeout) as info:
        _lm(server, answers, timeout=0.3).generate(HI)
    message = str(info.value)
    assert server.count == 1 and info.value.status == 200
    assert "no data within the read timeout of 0.3 s" in message
    assert "timeout=" in message and "LMBENCH_TIMEOUT" in message


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_an_undecodable_success_is_one_error_not_resent(server: FaultServer, encoding: str) -> None:
    answers = PROVIDERS["openai-compatible"]
    garbage = b"this is not compressed at all"
    headers = {"content-encoding": encoding}
    server.script(raw(response_bytes(body=garbage, headers=headers, content_length=len(garbage))))
    server.default = _good(answers)
    with pytest.raises(ProviderError) as info:
        _lm(server, answers).generate(HI)
    assert type(info.value) is ProviderError and info.value.status == 200
    assert "undecodable response body (DecodingError" in str(info.value)
    assert "content-encoding" in str(info.value) and server.count == 1


def test_an_undecodable_error_body_is_decided_by_its_status(server: FaultServer) -> None:
    answers = PROVIDERS["openai-compatible"]
    garbage = b"not gzip"
    headers = {"content-encoding": "gzip"}
    server.script(
        raw(response_bytes(503, garbage, headers=headers, content_length=len(garbage)), close=False)
    )
    server.default = _good(answers, "after the 503")
    response = _lm(server, answers).generate(HI)
    assert response.text == "after the 503" and server.count == 2
    assert [a.status for a in response.attempts] == [503, 200]


def test_a_real_gzip_body_is_read(server: FaultServer) -> None:
    answers = PROVIDERS["openai-compatible"]
    packed = gzip.compress(_body(answers))
    headers = {"content-encoding": "gzip"}
    server.script(raw(response_bytes(body=packed, headers=headers, content_length=len(packed))))
    assert _lm(server, answers).generate(HI).text == "fine"


def test_a_short_content_length_fails_that_call_only(server: FaultServer) -> None:
    answers = PROVIDERS["openai-compatible"]
    body = _body(answers)  # the rest of the body stays on the kept-alive connection
    server.script(raw(response_bytes(body=body, content_length=12), close=False))
    server.default = _good(answers, "next call")
    lm = _lm(server, answers)
    with pytest.raises(ProviderError, match="the response body is not JSON"):
        lm.generate(HI)
    assert lm.generate(HI).text == "next call"  # the stale bytes never become an answer


@EVERY
@pytest.mark.parametrize(
    ("body", "says"),
    [("", "the response body is empty"), ("upstream went away", "the response body is not JSON")],
)
def test_an_empty_or_non_json_success_names_the_fix(
    server: FaultServer, answers: Answers, body: str, says: str
) -> None:
    server.script(respond(200, body))
    server.default = _good(answers)
    with pytest.raises(ProviderError) as info:
        _lm(server, answers).generate(HI)
    assert info.value.status == 200 and server.count == 1
    assert says in str(info.value) and "check that base_url points at the API" in str(info.value)


# -- redirects ----------------------------------------------------------------------------------


@EVERY
def test_a_redirect_loop_is_one_error_naming_where_it_points(
    server: FaultServer, answers: Answers
) -> None:
    server.default = redirect("/elsewhere")
    with pytest.raises(ProviderError) as info:
        _lm(server, answers).generate(HI)
    assert info.value.status == 307 and not info.value.retryable
    assert "redirected to '/elsewhere'" in str(info.value) and "set base_url" in str(info.value)
    assert server.count == 1


def test_a_client_that_follows_redirects_meets_a_loop_as_one_error(server: FaultServer) -> None:
    server.default = redirect("/loop", 308)
    client = httpx.Client(follow_redirects=True, max_redirects=3)
    lm = _lm(server, PROVIDERS["openai-compatible"], http_client=client)
    with pytest.raises(ProviderError) as info:
        lm.generate(HI)
    assert "redirect loop (TooManyRedirects" in str(info.value) and "set base_url" in str(
        info.value
    )
    assert server.count == 4  # the first request and 3 redirects, never retried
    client.close()


# -- timeouts ------------------------------------------------------------------------------------


def test_slow_headers_time_out_naming_the_timeout_and_are_retried(server: FaultServer) -> None:
    answers = PROVIDERS["anthropic"]
    server.default = slow(0.6, _good(answers))
    with pytest.raises(ProviderTimeout) as info:
        _lm(server, answers, timeout=0.2, max_retries=1).generate(HI)
    assert server.count == 2 and info.value.retryable and info.value.status is None
    assert "no data within the read timeout of 0.2 s" in str(info.value)
    assert "gave up after 2 attempts" in str(info.value)


def test_a_deadline_that_cuts_an_attempt_is_named_as_the_cause(server: FaultServer) -> None:
    answers = PROVIDERS["gemini"]
    server.default = slow(1.0, _good(answers))
    with pytest.raises(ProviderTimeout) as info:
        _lm(server, answers, deadline=0.3).generate(HI)
    assert "the call's deadline of 0.3 s cut this attempt short" in str(info.value)


def test_a_connection_refused_names_the_fix(unused_port: int) -> None:
    lm = lmbench.resolve_lm(
        "openai-compatible/m", base_url=f"http://127.0.0.1:{unused_port}", retry=FAST
    )
    with pytest.raises(ProviderConnectionError) as info:
        lm.generate(HI)
    assert "check that the server is up" in str(info.value)
    assert len(info.value.attempts) == 3  # refused before any request: retried, never resent free


@pytest.fixture
def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- Retry-After --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "value", "wait", "how"),
    [
        ("retry-after", "nan", 0.01, "exponential backoff"),
        ("retry-after-ms", "NaN", 0.01, "exponential backoff"),
        ("retry-after", "soon", 0.01, "exponential backoff"),
        ("retry-after", "-30", 0.0, "waiting as retry-after asks"),
        ("retry-after", "inf", 0.05, "(capped)"),
        ("retry-after", "1e300", 0.05, "(capped)"),
        ("retry-after", "Fri, 31 Dec 9999 23:59:59 GMT", 0.05, "(capped)"),
        ("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT", 0.0, "waiting as retry-after asks"),
    ],
)
def test_absurd_retry_after_values_are_capped_or_ignored(
    server: FaultServer, header: str, value: str, wait: float, how: str
) -> None:
    answers = PROVIDERS["openai-compatible"]
    server.script(respond(429, {"error": {"message": "slow down"}}, {header: value}))
    server.default = _good(answers)
    lm = _lm(server, answers, retry=FAST.replace(max_retry_after=0.05))
    response = lm.generate(HI)
    assert response.text == "fine" and server.count == 2
    assert response.attempts[0].wait_s == wait and how in response.attempts[0].reason


def test_a_long_retry_after_never_outlasts_the_deadline(server: FaultServer) -> None:
    server.default = respond(503, {}, {"retry-after": "86400"})
    with pytest.raises(ProviderError) as info:
        _lm(server, PROVIDERS["cohere"], deadline=5.0).generate(HI)
    assert server.count == 1 and info.value.retryable
    assert "the deadline of 5 s would pass" in info.value.attempts[-1].reason


# -- kept-alive connections the server dropped ---------------------------------------------------


@EVERY
@pytest.mark.parametrize("how", ["closed", "reset"])
def test_a_dropped_kept_alive_connection_is_resent_once_transparently(
    server: FaultServer, answers: Answers, how: str
) -> None:
    server.script(_good(answers, "first"), drop() if how == "closed" else reset())
    server.default = _good(answers, "second")
    lm = _lm(server, answers, max_retries=0)
    assert lm.generate(HI).text == "first"
    response = lm.generate(HI)  # the kept-alive connection is gone: resent at once
    assert response.text == "second" and server.count == 3
    dropped, ok = response.attempts
    assert (dropped.status, dropped.wait_s) == (None, 0.0)
    assert "resent at once on a new connection" in dropped.reason
    assert ok.reason == "ok"


async def test_the_async_client_resends_a_dropped_connection_too(server: FaultServer) -> None:
    answers = PROVIDERS["anthropic"]
    server.script(_good(answers, "first"), drop())
    server.default = _good(answers, "second")
    lm = _lm(server, answers, max_retries=0)
    assert (await lm.agenerate(HI)).text == "first"
    assert (await lm.agenerate(HI)).text == "second"
    await lm.aclose()


def test_only_one_free_resend_per_call(server: FaultServer) -> None:
    server.default = drop()
    with pytest.raises(ProviderConnectionError) as info:
        _lm(server, PROVIDERS["ollama"], max_retries=0).generate(HI)
    assert server.count == 2 and len(info.value.attempts) == 2


def test_no_free_resend_to_a_provider_whose_retry_budget_is_drained(server: FaultServer) -> None:
    server.default = drop()
    lm = _lm(server, PROVIDERS["openai-compatible"], max_retries=3)
    with lmbench.context(retry_budget=RetryBudget(max_tokens=2)):
        with pytest.raises(ProviderConnectionError):
            lm.generate(HI)  # 1 free resend, then 1 token spent: at half, drained
        sent = server.count
        with pytest.raises(ProviderConnectionError) as info:
            lm.generate(HI)
    assert server.count - sent == 1 and len(info.value.attempts) == 1


# -- streams ------------------------------------------------------------------------------------


@EVERY
def test_a_stream_that_stalls_times_out_naming_the_timeout(
    server: FaultServer, answers: Answers
) -> None:
    server.script(_stalled(answers.events("partial")[:1], answers.content_type))
    server.default = _good(answers)
    with pytest.raises(ProviderTimeout) as info:
        list(_lm(server, answers, timeout=0.3).stream(HI))
    assert "no data within the read timeout of 0.3 s" in str(info.value)
    assert "a started stream is not retried" in str(info.value) and server.count == 1


def _stalled(events: list[str], content_type: str) -> Any:
    """Send the headers and ``events``, then nothing for a second (the connection open)."""

    def step(handler: Any) -> None:
        handler.send_response(200)
        handler.send_header("content-type", content_type)
        handler.send_header("transfer-encoding", "chunked")
        handler.end_headers()
        for event in events:
            data = event.encode()
            handler.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        handler.wfile.flush()
        time.sleep(1.0)

    return step


@EVERY
def test_every_stream_format_reads_its_good_answer(server: FaultServer, answers: Answers) -> None:
    server.script(sse(answers.events("streamed"), content_type=answers.content_type))
    chunks = list(_lm(server, answers).stream(HI))
    final = chunks[-1].response
    assert final is not None and final.text == "streamed"


@EVERY
def test_a_stream_cut_before_its_end_is_one_error_never_resent(
    server: FaultServer, answers: Answers
) -> None:
    events = answers.events("cut")
    server.script(sse(events, cut_after=len(events) - 1, content_type=answers.content_type))
    server.default = _good(answers)
    with pytest.raises(ProviderError) as info:
        list(_lm(server, answers).stream(HI))
    assert server.count == 1 and not info.value.retryable


def _until_text(events: list[str]) -> list[str]:
    """The events up to the one carrying the text "partial": no end marker or finish yet."""
    last = next(i for i, event in enumerate(events) if "partial" in event)
    return events[: last + 1]


_GEMINI_PART = {"candidates": [{"content": {"parts": [{"text": "partial"}]}, "index": 0}]}
PARTIAL: dict[str, list[str]] = {
    name: _until_text(answers.events("partial"))
    for name, answers in PROVIDERS.items()
    if name != "gemini"
}
PARTIAL["gemini"] = [f"data: {json.dumps(_GEMINI_PART)}\n\n"]

# an error event of each API, sent after the first event
ERROR_EVENTS: dict[str, str] = {
    "openai-compatible": 'data: {"error": {"message": "boom mid-stream"}}\n\n',
    "mistral": 'data: {"error": {"message": "boom mid-stream", "code": 500}}\n\n',
    "openrouter": 'data: {"error": {"message": "boom mid-stream", "code": 502}}\n\n',
    "anthropic": (
        "event: error\ndata: "
        '{"type": "error", "error": {"type": "overloaded_error", "message": "boom mid-stream"}}\n\n'
    ),
    "gemini": 'data: {"error": {"code": 503, "message": "boom mid-stream"}}\n\n',
    "cohere": 'event: message-end\ndata: {"type": "message-end", "delta": {"error": "boom mid-stream"}}\n\n',
    "ollama": '{"error": "boom mid-stream"}\n',
}


@EVERY
def test_a_stream_that_stops_without_finishing_is_one_error(
    server: FaultServer, answers: Answers
) -> None:
    provider = answers.name.split("/")[0]
    server.script(sse(PARTIAL[provider], content_type=answers.content_type))
    server.default = _good(answers)
    with pytest.raises(ProviderConnectionError, match="without its end marker or finish reason"):
        list(_lm(server, answers).stream(HI))
    assert server.count == 1


@EVERY
def test_an_error_event_mid_stream_is_one_error_after_the_text_so_far(
    server: FaultServer, answers: Answers
) -> None:
    provider = answers.name.split("/")[0]
    events = [*PARTIAL[provider], ERROR_EVENTS[provider], *answers.events("never")]
    server.script(sse(events, content_type=answers.content_type))
    server.default = _good(answers)
    received: list[str] = []
    with pytest.raises(ProviderError) as info:
        for chunk in _lm(server, answers).stream(HI):
            received.append(chunk.text)
    assert "".join(received) == "partial"
    after = f"error inside the stream after {len(PARTIAL[provider])} events: boom mid-stream"
    assert after in str(info.value)
    assert server.count == 1


def test_a_finish_reason_without_done_completes_the_stream(server: FaultServer) -> None:
    events = PROVIDERS["openai-compatible"].events("whole")
    server.script(sse(events[:-1]))  # everything but "data: [DONE]"
    final = list(_lm(server, PROVIDERS["openai-compatible"]).stream(HI))[-1].response
    assert final is not None and final.text == "whole" and final.finish_reason == "stop"


# -- embeddings ---------------------------------------------------------------------------------

EMBEDDING = {"data": [{"index": 0, "embedding": [1.0, 0.0]}], "usage": {"prompt_tokens": 2}}


def test_an_embedding_cut_midway_is_not_resent(server: FaultServer) -> None:
    body = json.dumps(EMBEDDING).encode()
    server.script(raw(response_bytes(body=body[:20], content_length=len(body))))
    server.default = respond(200, EMBEDDING)
    model = resolve_embedding_model(
        "openai/text-embedding-3-small", base_url=server.url, api_key=KEY, retry=FAST
    )
    with pytest.raises(ProviderConnectionError, match="not sent again after HTTP 200"):
        model.embed(EmbeddingRequest(("a",)))
    assert server.count == 1


def test_embeddings_resend_a_dropped_connection_and_refuse_redirects(server: FaultServer) -> None:
    server.script(respond(200, EMBEDDING), drop(), respond(200, EMBEDDING), redirect("/x"))
    model = resolve_embedding_model(
        "openai/text-embedding-3-small", base_url=server.url, api_key=KEY, retry=FAST, max_retries=0
    )
    model.embed(EmbeddingRequest(("a",)))
    assert model.embed(EmbeddingRequest(("a",))).vectors.tolist() == [[1.0, 0.0]]
    with pytest.raises(ProviderError, match="redirected to '/x'"):
        model.embed(EmbeddingRequest(("a",)))
    assert server.count == 4


@pytest.mark.parametrize(
    ("status", "body", "fix"),
    [
        (429, {"error": {"message": "slow down"}}, "Make fewer calls at once"),
        (
            429,
            {"error": {"message": "out", "code": "insufficient_quota"}},
            "quota, credits or billing",
        ),
        (503, {"error": {"message": "overloaded"}}, "try again later"),
        (413, {"error": {"message": "too big"}}, "shorten the prompt"),
        (401, {"error": {"message": "bad key"}}, "Check the API key"),
    ],
)
def test_an_error_status_names_the_fix(
    server: FaultServer, status: int, body: dict[str, Any], fix: str
) -> None:
    server.default = respond(status, body)
    with pytest.raises(ProviderError) as info:
        _lm(server, PROVIDERS["mistral"], max_retries=0).generate(HI)
    assert str(info.value).startswith(f"mistral HTTP {status}: ") and fix in str(info.value)
