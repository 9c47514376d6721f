"""The retry loop against a real HTTP server on 127.0.0.1 injecting faults.

Waits are asserted as computed (``Attempt.wait_s``), never as wall time; the backoff base is
tiny so the tests stay fast.
"""

from __future__ import annotations

import socket
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import pytest
from provider_faults import FaultServer, chat_body, chat_events, reset, respond, slow, sse

from lmbench.errors import ProviderConnectionError, ProviderError, ProviderTimeout, RateLimitError
from lmbench.lm.registry import resolve_lm
from lmbench.lm.types import LMRequest, Message
from lmbench.providers.remote import RemoteLM
from lmbench.providers.retry import RetryPolicy

FAST = RetryPolicy(initial_delay=0.01, max_delay=0.04, jitter=0.0)
REQUEST = LMRequest((Message("user", "hi"),))


def _lm(server: FaultServer, **kwargs: Any) -> RemoteLM:
    kwargs.setdefault("retry", FAST)
    lm = resolve_lm("openai-compatible/m", base_url=f"{server.url}/v1", **kwargs)
    assert isinstance(lm, RemoteLM)
    return lm


def test_429_with_retry_after_ms_then_success(server: FaultServer) -> None:
    server.script(
        respond(429, {"error": {"message": "slow down"}}, {"retry-after-ms": "20"}),
        respond(200, chat_body("done")),
    )
    response = _lm(server).generate(REQUEST)
    assert response.text == "done"
    assert server.count == 2
    first, second = response.attempts
    assert (first.number, first.status, first.wait_s) == (1, 429, 0.02)
    assert "retry-after-ms" in first.reason and first.error == "HTTP 429"
    assert (second.number, second.status, second.reason) == (2, 200, "ok")
    assert [r.body for r in server.received] == [
        server.received[0].body
    ] * 2  # the same request resent


def test_a_retry_delay_in_the_error_body_sets_the_wait(server: FaultServer) -> None:
    retry_info = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "0.05s"}
    server.script(
        respond(
            429, {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "details": [retry_info]}}
        ),
        respond(200, chat_body("done")),
    )
    response = _lm(server).generate(REQUEST)
    assert response.text == "done" and server.count == 2
    assert response.attempts[0].wait_s == 0.05
    assert "the body's retryDelay" in response.attempts[0].reason


def test_retry_after_seconds_is_capped(server: FaultServer) -> None:
    server.script(respond(429, {}, {"retry-after": "30"}), respond(200, chat_body()))
    response = _lm(server, retry=FAST.replace(max_retry_after=0.03)).generate(REQUEST)
    assert response.attempts[0].wait_s == 0.03
    assert "waiting as retry-after asks (capped)" in response.attempts[0].reason
    assert server.count == 2


def test_retry_after_http_date(server: FaultServer) -> None:
    when = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    server.script(respond(503, {}, {"retry-after": when}), respond(200, chat_body()))
    response = _lm(server, retry=FAST.replace(max_retry_after=0.02)).generate(REQUEST)
    assert response.attempts[0].wait_s == 0.02 and "retry-after" in response.attempts[0].reason
    assert server.count == 2


@pytest.mark.parametrize("status", [503, 529])
def test_overload_statuses_back_off_then_succeed(server: FaultServer, status: int) -> None:
    server.script(
        respond(status, {"error": {"message": "Overloaded", "type": "overloaded_error"}}),
        respond(200, chat_body()),
    )
    response = _lm(server).generate(REQUEST)
    assert [a.status for a in response.attempts] == [status, 200]
    assert (
        response.attempts[0].wait_s == 0.01 and "exponential backoff" in response.attempts[0].reason
    )
    assert server.count == 2


def test_backoff_doubles_between_attempts_then_gives_up(server: FaultServer) -> None:
    server.default = respond(500, {"error": {"message": "boom"}})
    with pytest.raises(ProviderError) as info:
        _lm(server).generate(REQUEST)
    error = info.value
    assert server.count == 3
    assert [a.wait_s for a in error.attempts] == [0.01, 0.02, 0.0]
    assert error.status == 500 and error.retryable
    assert "boom" in error.message and "gave up after 3 attempts" in str(error)
    assert "no retries left (max_retries=2)" in error.attempts[-1].reason


def test_max_retries_is_configurable(server: FaultServer) -> None:
    server.default = respond(503, {})
    with pytest.raises(ProviderError):
        _lm(server, max_retries=0).generate(REQUEST)
    assert server.count == 1


def test_x_should_retry_false_stops_at_once(server: FaultServer) -> None:
    server.script(respond(500, {"error": {"message": "do not retry"}}, {"x-should-retry": "false"}))
    with pytest.raises(ProviderError) as info:
        _lm(server).generate(REQUEST)
    assert server.count == 1 and not info.value.retryable
    assert "x-should-retry: false" in info.value.attempts[0].reason


def test_exhausted_quota_is_not_retried(server: FaultServer) -> None:
    body = {
        "error": {
            "message": "You exceeded your current quota.",
            "type": "insufficient_quota",
            "code": "insufficient_quota",
        }
    }
    server.script(respond(429, body))
    with pytest.raises(RateLimitError) as info:
        _lm(server).generate(REQUEST)
    assert server.count == 1 and not info.value.retryable
    assert "(insufficient_quota)" in info.value.message


def test_connection_reset_is_retried(server: FaultServer) -> None:
    server.script(reset(), respond(200, chat_body("after reset")))
    response = _lm(server).generate(REQUEST)
    assert response.text == "after reset"
    first = response.attempts[0]
    assert (
        first.status is None
        and first.error is not None
        and first.error.startswith("connection error")
    )
    assert server.count == 2


def test_slow_response_times_out_and_is_retried(server: FaultServer) -> None:
    server.script(slow(1.0, respond(200, chat_body("late"))), respond(200, chat_body("on time")))
    response = _lm(server, timeout=0.3).generate(REQUEST)
    assert response.text == "on time"
    assert response.attempts[0].error is not None and response.attempts[0].error.startswith(
        "timeout (ReadTimeout"
    )
    assert server.count == 2


def test_timeouts_every_time_raise_provider_timeout(server: FaultServer) -> None:
    server.default = slow(0.6, respond(200, chat_body()))
    with pytest.raises(ProviderTimeout) as info:
        _lm(server, timeout=0.2, max_retries=1).generate(REQUEST)
    assert [a.status for a in info.value.attempts] == [None, None]
    assert info.value.retryable


def test_connection_refused(server: FaultServer) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    lm = resolve_lm(
        "openai-compatible/m", base_url=f"http://127.0.0.1:{port}/v1", retry=FAST, max_retries=1
    )
    with pytest.raises(ProviderConnectionError) as info:
        lm.generate(REQUEST)
    assert len(info.value.attempts) == 2 and info.value.retryable


def test_deadline_bounds_the_whole_loop(server: FaultServer) -> None:
    server.default = respond(503, {}, {"retry-after": "0.6"})
    with pytest.raises(ProviderError) as info:
        _lm(server, deadline=1.2).generate(REQUEST)
    assert server.count == 2
    assert info.value.attempts[0].wait_s == 0.6
    assert "the deadline of 1.2 s would pass" in info.value.attempts[-1].reason


def test_deadline_shortens_a_slow_attempt(server: FaultServer) -> None:
    server.default = slow(1.5, respond(200, chat_body()))
    with pytest.raises(ProviderTimeout) as info:
        _lm(server, deadline=0.3).generate(REQUEST)
    assert server.count == 1
    assert "deadline" in info.value.attempts[-1].reason


def test_no_request_after_success(server: FaultServer) -> None:
    server.script(respond(502, {}), respond(200, chat_body("one")))
    server.default = respond(200, chat_body("never"))
    lm = _lm(server)
    assert lm.generate(REQUEST).text == "one"
    assert lm.generate(REQUEST).text == "never"
    assert server.count == 3


def test_stream_start_failure_is_retried(server: FaultServer) -> None:
    server.script(respond(503, {}), sse(chat_events("Hel", "lo")))
    chunks = list(_lm(server).stream(REQUEST))
    assert [c.text for c in chunks[:-1]] == ["Hel", "lo"]
    final = chunks[-1].response
    assert (
        final is not None
        and final.text == "Hello"
        and [a.status for a in final.attempts] == [503, 200]
    )
    assert server.count == 2


def test_stream_cut_midway_is_not_retried(server: FaultServer) -> None:
    server.script(sse(chat_events("one ", "two ", "three"), cut_after=2))
    server.default = respond(200, chat_body("a retry would land here"))
    received: list[str] = []
    with pytest.raises(ProviderConnectionError) as info:
        for chunk in _lm(server).stream(REQUEST):
            received.append(chunk.text)
    assert received == ["one ", "two "]
    assert server.count == 1
    error = info.value
    assert not error.retryable
    assert "the stream broke after 2 events; a started stream is not retried" in str(error)
    assert [a.status for a in error.attempts] == [200]


def test_stream_ending_without_finish_is_an_error(server: FaultServer) -> None:
    events = chat_events("partial")[:1]  # text, then a clean end of body without finish or [DONE]
    server.script(sse(events))
    with pytest.raises(ProviderConnectionError, match="without its end marker or finish reason"):
        list(_lm(server).stream(REQUEST))
    assert server.count == 1


async def test_async_retries_share_the_same_decisions(server: FaultServer) -> None:
    server.script(
        respond(429, {}, {"retry-after-ms": "10"}),
        reset(),
        reset(),
        respond(200, chat_body("async ok")),
    )
    lm = _lm(server)
    response = await lm.agenerate(REQUEST)
    assert response.text == "async ok"
    assert [a.status for a in response.attempts] == [429, None, None, 200]
    # the first dropped connection is resent at once; the second is a retry like any other
    assert [a.wait_s for a in response.attempts] == [0.01, 0.0, 0.02, 0.0]
    assert server.count == 4
    await lm.aclose()


async def test_async_stream_cut_midway(server: FaultServer) -> None:
    server.script(sse(chat_events("a", "b", "c"), cut_after=1))
    lm = _lm(server)
    received: list[str] = []
    with pytest.raises(ProviderConnectionError):
        async for chunk in lm.astream(REQUEST):
            received.append(chunk.text)
    assert received == ["a"] and server.count == 1
    await lm.aclose()


async def test_async_stream_succeeds(server: FaultServer) -> None:
    server.script(sse(chat_events("x", "y")))
    lm = _lm(server)
    chunks = [c async for c in lm.astream(REQUEST)]
    final = chunks[-1].response
    assert final is not None and final.text == "xy" and final.usage.output_tokens == 2
    await lm.aclose()
