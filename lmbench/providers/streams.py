"""The one decoder of streamed responses: server-sent events (through ``httpx-sse``) and
newline-delimited JSON (Ollama's native API), both yielded as ``(event, data)`` pairs.

SSE comments (OpenRouter's ``: OPENROUTER PROCESSING`` keep-alives) and empty data are
skipped; NDJSON lines come with an empty event name.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Literal

import httpx
from httpx_sse import EventSource

__all__ = ["StreamFormat", "aiter_events", "iter_events"]

StreamFormat = Literal["sse", "ndjson"]


def iter_events(response: httpx.Response, fmt: StreamFormat) -> Iterator[tuple[str, str]]:
    """The events of an open streaming response, in order."""
    if fmt == "ndjson":
        for line in response.iter_lines():
            if line.strip():
                yield "", line
        return
    for sse in EventSource(response).iter_sse():
        if sse.data:
            yield sse.event, sse.data


async def aiter_events(
    response: httpx.Response, fmt: StreamFormat
) -> AsyncIterator[tuple[str, str]]:
    """The async twin of ``iter_events``."""
    if fmt == "ndjson":
        async for line in response.aiter_lines():
            if line.strip():
                yield "", line
        return
    async for sse in EventSource(response).aiter_sse():
        if sse.data:
            yield sse.event, sse.data
