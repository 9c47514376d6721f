"""The one stream decoder: SSE (comments, CRLF, multi-line data) and NDJSON."""

from __future__ import annotations

import httpx

from lmbench.providers.streams import aiter_events, iter_events


def _response(content: bytes, content_type: str) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": content_type}, content=content)


def test_sse_skips_comments_and_handles_crlf_and_named_events() -> None:
    body = (
        b": OPENROUTER PROCESSING\n\n"
        b'data: {"a": 1}\r\n\r\n'
        b'event: message_stop\ndata: {"type": "message_stop"}\n\n'
        b"data: line one\ndata: line two\n\n"
        b"data: [DONE]\n\n"
    )
    events = list(iter_events(_response(body, "text/event-stream; charset=utf-8"), "sse"))
    assert events == [
        ("message", '{"a": 1}'),
        ("message_stop", '{"type": "message_stop"}'),
        ("message", "line one\nline two"),
        ("message", "[DONE]"),
    ]


def test_ndjson_lines() -> None:
    body = b'{"n": 1}\n\n{"n": 2}\r\n{"n": 3}'
    assert list(iter_events(_response(body, "application/x-ndjson"), "ndjson")) == [
        ("", '{"n": 1}'),
        ("", '{"n": 2}'),
        ("", '{"n": 3}'),
    ]


async def test_async_twin_yields_the_same() -> None:
    body = b"data: x\n\ndata: y\n\n"
    events = [e async for e in aiter_events(_response(body, "text/event-stream"), "sse")]
    assert events == [("message", "x"), ("message", "y")]
