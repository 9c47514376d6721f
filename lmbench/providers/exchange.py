"""One call of a remote LM from request to ``LMResponse``, without the I/O itself.

``Exchange`` builds each HTTP request (wire format body + provider headers), decides
whether a rejected structured-output mode falls back to the next one, and turns a
successful response into the final ``LMResponse`` (metadata, attempts, raw exchange).
``StreamReader`` does the same for a stream, event by event. ``RemoteLM`` drives both with
the sync or async transport, so the two paths share every decision, and hands them an
``Endpoint`` (URL, headers, wire format, retry settings): nothing here reaches back into it.

Metadata set here: ``requested_model``, ``rate_limits`` (rate-limit headers),
``ignored_params``, ``structured_output`` (``{"mode", "fallbacks"}``, when a schema was
asked for). The wire formats add their own (``response_id``, ``reasoning``, ``usage``...).
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import httpx

from lmbench.errors import ProviderConnectionError, ProviderError, rejects_structured_output
from lmbench.lm.types import Attempt, LMRequest, LMResponse, StreamChunk
from lmbench.private_data import redact_private
from lmbench.providers.endpoint import Endpoint
from lmbench.providers.http_errors import (
    REQUEST_ID_HEADERS,
    error_for_transport,
    html_summary,
    not_json,
)
from lmbench.providers.json_codec import json_of
from lmbench.providers.transport import CallState
from lmbench.providers.wire.base import WireError, WireRequest, shape_checked
from lmbench.providers.wire.media import check_media
from lmbench.secrets import StreamScrubber, holds_secret, redact, redact_headers, redact_text
from lmbench.settings import current as current_settings

__all__ = ["Exchange", "StreamReader"]


def _response_headers(headers: httpx.Headers) -> tuple[str | None, dict[str, str]]:
    """The request id and the rate-limit headers, in one pass over the headers."""
    request_id: str | None = None
    rank = len(REQUEST_ID_HEADERS)
    limits: dict[str, str] = {}
    for name, value in headers.multi_items():
        if "ratelimit" in name or name == "retry-after":
            limits[name] = value
        elif name in REQUEST_ID_HEADERS and value:
            position = REQUEST_ID_HEADERS.index(name)
            if position < rank:
                request_id, rank = value, position
    return request_id, limits


_NOT_JSON = object()


class Exchange:
    """The state of one ``generate``/``stream`` call to ``endpoint``."""

    def __init__(self, endpoint: Endpoint, request: LMRequest, *, stream: bool) -> None:
        check_media(request, endpoint.media, f"{endpoint.provider}/{endpoint.model}")
        self.endpoint = endpoint
        self.request = request
        self.stream = stream
        self.started = time.perf_counter()
        self.clock_start = time.monotonic()
        if request.response_schema is not None:
            self.modes: tuple[str | None, ...] = endpoint.wire.structured_modes or (None,)
        else:
            self.modes = (None,)
        self.mode_index = 0
        self.fallbacks: list[dict[str, str]] = []
        self.attempts: list[Attempt] = []
        self.save_raw = current_settings().save_raw
        self.wire_request: WireRequest | None = None
        self.http_request: httpx.Request | None = None
        self.call: CallState | None = None

    @property
    def mode(self) -> str | None:
        return self.modes[self.mode_index]

    def prepare(self, client: httpx.Client | httpx.AsyncClient) -> tuple[httpx.Request, CallState]:
        """The HTTP request for the current mode, and a fresh retry state for it."""
        endpoint = self.endpoint
        self.wire_request = endpoint.wire.build(
            self.request, endpoint.model, stream=self.stream, structured_mode=self.mode
        )
        self.http_request = endpoint.http_request(client, self.wire_request, stream=self.stream)
        # Another mode to try makes a refusal of structured output worth falling back from.
        # (A plain function: a method of this exchange, kept by the retry state it holds,
        # would make every call a reference cycle.)
        more = self.mode_index + 1 < len(self.modes)
        self.call = endpoint.call_state(
            self.attempts, self.clock_start, rejects_structured_output if more else None
        )
        return self.http_request, self.call

    def _rejects_mode(self, status: int | None, body: str) -> bool:
        """Whether an error refuses the current structured-output mode, with another to try."""
        return self.mode_index + 1 < len(self.modes) and rejects_structured_output(status, body)

    def fall_back(self, error: ProviderError) -> bool:
        """Move to the next structured-output mode if ``error`` refused the current one."""
        self.attempts = list(error.attempts)
        if not self._rejects_mode(error.status, error.body or error.message):
            return False
        tried, self.mode_index = self.mode, self.mode_index + 1
        self.fallbacks.append({"mode": str(tried), "error": error.message})
        last = self.attempts[-1]
        reason = f"{last.reason}; structured output mode {tried!r} rejected, trying {self.mode!r}"
        self.attempts[-1] = replace(last, reason=reason)
        return True

    def error(
        self,
        message: str,
        *,
        status: int | None = None,
        retryable: bool = False,
        body: str | None = None,
    ) -> ProviderError:
        """A failure found after the retry loop (bad body, error inside the response)."""
        return ProviderError(
            redact(message),
            provider=self.endpoint.provider,
            status=status,
            retryable=retryable,
            body=None if body is None else redact(body),
            attempts=self.attempts_so_far(),
        )

    def attempts_so_far(self) -> list[Attempt]:
        """Every attempt of this call, across structured-output modes."""
        return list(self.call.attempts if self.call is not None else self.attempts)

    def parse_body(self, response: httpx.Response) -> LMResponse:
        """The ``LMResponse`` of a whole (non-streamed) response body.

        Errors are raised outside the ``except`` blocks, so that none carries the decoding
        error as its context: that one holds the whole body (a key a server echoed with it).
        """
        try:
            data = json_of(response)
        except ValueError:
            data = _NOT_JSON
        if data is _NOT_JSON:
            text = redact_text(response.text)  # before it is cut short: no piece of a key
            raise self.error(
                html_summary(text) or not_json(text, response.headers.get("content-type")),
                status=response.status_code,
                body=text,
            )
        wire = self.endpoint.wire
        try:
            parsed = shape_checked(wire.name, wire.parse, data)
        except WireError as exc:
            failure = exc
        else:
            return self.complete(parsed, response, raw_body=data)
        raise self.error(
            failure.message,
            status=failure.status or response.status_code,
            retryable=failure.status in self.endpoint.retry.retry_statuses,
        )

    def complete(
        self,
        parsed: LMResponse,
        response: httpx.Response,
        *,
        raw_body: Any,
        ttft_s: float | None = None,
    ) -> LMResponse:
        """Fill in what the wire format cannot know: provider, timing, attempts, metadata."""
        endpoint = self.endpoint
        parsed.provider = endpoint.provider
        parsed.model = parsed.model or endpoint.model
        request_id, limits = _response_headers(response.headers)
        parsed.request_id = request_id or parsed.metadata.get("response_id")
        parsed.latency_s = time.perf_counter() - self.started
        parsed.ttft_s = ttft_s
        parsed.attempts = self.attempts_so_far()
        metadata = parsed.metadata
        metadata["requested_model"] = endpoint.model
        if limits:
            metadata["rate_limits"] = limits
        if self.wire_request is not None and self.wire_request.ignored:
            metadata["ignored_params"] = list(self.wire_request.ignored)
        if self.request.response_schema is not None:
            metadata["structured_output"] = {"mode": self.mode, "fallbacks": list(self.fallbacks)}
        _scrub(parsed, response)
        if self.save_raw:
            parsed.raw = self._raw(response, raw_body)
        return parsed

    def _raw(self, response: httpx.Response, body: Any) -> dict[str, Any]:
        request = self.http_request
        assert request is not None and self.wire_request is not None
        raw = {
            "request": {
                "method": request.method,
                "url": str(request.url),
                "headers": redact_headers(request.headers.multi_items()),
                "body": self.wire_request.body,
            },
            "response": {
                "status": response.status_code,
                "headers": redact_headers(response.headers.multi_items()),
                "body": body,
            },
        }
        return redact_private(redact(raw))


def _scrub(parsed: LMResponse, response: httpx.Response) -> None:
    """Take out of an answer any key the server echoed back (a debugging proxy quoting the
    request, a gateway quoting its headers): in its texts, tool calls, request id or rate
    limit headers it would otherwise reach the prediction, the notebook, history and the
    cache. One check of the body read as bytes (or of the texts of a stream) and of the
    headers kept, when there is none, the usual case."""
    kept = parsed.request_id or ""
    limits = parsed.metadata.get("rate_limits")
    if limits:
        kept = " ".join([kept, *limits.values()])
    try:
        body: bytes | None = response.content
    except httpx.ResponseNotRead:  # a stream: its texts, tool calls, reasoning assembled here
        body = None
    if body is not None and b"\\/" not in body and b"\\u00" not in body:
        echoed = holds_secret(body, kept)  # as sent: no JSON escape hides a key's characters
    else:
        calls = repr([c.arguments for c in parsed.tool_calls]) if parsed.tool_calls else ""
        echoed = holds_secret(kept, calls, repr(parsed.metadata), *parsed.texts)
    if echoed:
        parsed.texts = [redact_text(text) for text in parsed.texts]
        for call in parsed.tool_calls:
            call.arguments = redact(call.arguments)
        parsed.metadata = redact(parsed.metadata)
        parsed.request_id = parsed.request_id and redact_text(parsed.request_id)


class StreamReader:
    """Feeds one open stream's events to the wire format's parser; builds the last chunk."""

    def __init__(self, exchange: Exchange, response: httpx.Response) -> None:
        self.exchange = exchange
        self.response = response
        self.parser = exchange.endpoint.wire.stream_parser()
        self.events = 0
        self.ttft_s: float | None = None
        self.raw_events: list[Any] | None = [] if exchange.save_raw else None
        self.scrubbers: dict[int, StreamScrubber] = {}

    def is_event_stream(self) -> bool:
        """True for a stream of events; False when the server ignored ``stream`` and answered
        with one JSON body. Any other content type is an error."""
        content_type = self.response.headers.get("content-type", "").lower()
        if "event-stream" in content_type or "ndjson" in content_type:
            return True
        if "json" in content_type:
            return False
        if self.exchange.endpoint.wire.stream_format == "ndjson" and not content_type:
            return True
        raise self.exchange.error(
            f"expected a stream of events, got content-type {content_type!r}; "
            "check that the base URL points at the API itself",
            status=self.response.status_code,
        )

    def feed(self, event: str, data: str) -> list[StreamChunk]:
        self.events += 1
        if self.raw_events is not None:
            named = event and event != "message"  # "message" is the SSE default name
            self.raw_events.append({"event": event, "data": data} if named else data)
        failure: ProviderError | None = None  # raised after the except blocks: no context
        try:
            chunks = shape_checked(self.exchange.endpoint.wire.name, self.parser.feed, event, data)
        except WireError as exc:
            failure = self.exchange.error(
                f"error inside the stream after {self.events - 1} events: {exc.message}",
                status=exc.status or self.response.status_code,
            )
        except ValueError:
            shown = redact_text(data)[:200]  # redacted before it is cut short
            failure = self.exchange.error(
                f"malformed stream event {shown!r} (not JSON) after {self.events - 1} "
                "events; the answer so far is incomplete (a started stream is not retried)",
                status=self.response.status_code,
            )
        if failure is not None:
            raise failure
        if chunks and self.ttft_s is None:
            self.ttft_s = time.perf_counter() - self.exchange.started
        return self._scrubbed(chunks)

    def _scrubbed(self, chunks: list[StreamChunk]) -> list[StreamChunk]:
        """The chunks with any echoed key taken out, even one split across events."""
        out = []
        for chunk in chunks:
            if chunk.text:
                scrubber = self.scrubbers.get(chunk.index)
                if scrubber is None:
                    scrubber = self.scrubbers[chunk.index] = StreamScrubber()
                text = scrubber.feed(chunk.text)
                if text != chunk.text:
                    chunk = replace(chunk, text=text)
            if chunk.text or chunk.response is not None:
                out.append(chunk)
        return out

    def cut(self, exc: httpx.RequestError) -> ProviderError:
        """The error for a stream that broke after it started (never retried)."""
        call = self.exchange.call
        return error_for_transport(
            provider=self.exchange.endpoint.provider,
            exc=exc,
            retryable=False,
            attempts=self.exchange.attempts_so_far(),
            note=f"the stream broke after {self.events} events; a started stream is not retried",
            status=self.response.status_code,
            limits=call.limits if call is not None else None,
        )

    def finish(self) -> StreamChunk:
        """The last chunk, carrying the assembled response."""
        if not self.parser.finished:
            raise ProviderConnectionError(
                f"the stream ended after {self.events} events without its end marker or finish "
                "reason; the answer is incomplete (a started stream is not retried)",
                provider=self.exchange.endpoint.provider,
                attempts=self.exchange.attempts_so_far(),
            )
        try:
            parsed = shape_checked(self.exchange.endpoint.wire.name, self.parser.result)
        except WireError as exc:
            failure = exc
        else:
            response = self.exchange.complete(
                parsed, self.response, raw_body=self.raw_events, ttft_s=self.ttft_s
            )
            return StreamChunk(response=response)
        raise self.exchange.error(
            failure.message, status=failure.status or self.response.status_code
        )

    def held_back(self) -> list[StreamChunk]:
        """The text each choice's scrubber still holds, once the stream has ended."""
        held = ((index, scrubber.flush()) for index, scrubber in self.scrubbers.items())
        return [StreamChunk(text=text, index=index) for index, text in held if text]

    def whole_body(self) -> list[StreamChunk]:
        """For a server that answered a stream request with one JSON body (already read)."""
        response = self.exchange.parse_body(self.response)
        response.ttft_s = response.latency_s
        return [
            StreamChunk(text=text, index=i) for i, text in enumerate(response.texts) if text
        ] + [StreamChunk(response=response)]
