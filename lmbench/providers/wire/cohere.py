"""Cohere v2 chat (``POST /v2/chat``); streams typed events (``content-delta``,
``tool-call-start``/``-delta``, ``message-end`` ...).

Structured output: ``response_format: {"type": "json_object", "json_schema": ...}``.
Usage counts the billed units (what is charged); the full ``usage`` object, with the
model's raw token counts, is kept in ``metadata["usage"]``. A tool plan goes to
``metadata["tool_plan"]``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from lmbench.lm.types import ContentPart, LMRequest, LMResponse, Message, StreamChunk, Usage
from lmbench.providers.wire.base import (
    Draft,
    DraftStream,
    WireError,
    WireRequest,
    add_function_calls,
    as_data_url,
    expect_object,
    extend_function_call,
    function_calls,
    function_tools,
    mapping,
    merge_extra,
    require_single_choice,
    sampling_fields,
    token_count,
    unsupported_part,
)

__all__ = ["CohereChat"]

_FINISH = {
    "COMPLETE": "stop",
    "STOP_SEQUENCE": "stop",
    "MAX_TOKENS": "length",
    "TOOL_CALL": "tool_calls",
    "ERROR_TOXIC": "content_filter",  # Cohere's filter (an empty answer is then an error)
}


def _part(part: ContentPart) -> dict[str, Any]:
    if part.get("type") == "text":
        return {"type": "text", "text": part.get("text", "")}
    if part.get("type") == "image":
        return {"type": "image_url", "image_url": {"url": as_data_url(part)}}
    raise unsupported_part(part, "Cohere chat", "text, image")


def _message(message: Message) -> dict[str, Any]:
    out: dict[str, Any] = {"role": message.role}
    content = message.content
    if isinstance(content, list):
        out["content"] = [_part(p) for p in content]
    elif content or not message.tool_calls:
        out["content"] = content
    if message.tool_calls:
        out["tool_calls"] = function_calls(message.tool_calls)
    if message.tool_call_id:
        out["tool_call_id"] = message.tool_call_id
    return out


def _usage(data: Mapping[str, Any]) -> Usage:
    counts = mapping(data.get("billed_units") or data.get("tokens"))
    return Usage(
        input_tokens=token_count(counts.get("input_tokens")),
        output_tokens=token_count(counts.get("output_tokens")),
    )


def _add_content(draft: Draft, block: dict[str, Any]) -> StreamChunk | None:
    if block.get("type") == "thinking" or "thinking" in block:
        draft.add_reasoning(block.get("thinking"))
        return None
    return draft.add_text(block.get("text"))


class CohereChat:
    """The Cohere v2 chat wire format."""

    name = "cohere-chat"
    stream_format = "sse"
    structured_modes = ("json_object_schema",)

    def build(
        self, request: LMRequest, model: str, *, stream: bool, structured_mode: str | None
    ) -> WireRequest:
        require_single_choice(request, "Cohere chat")
        body: dict[str, Any] = {
            "model": model,
            "messages": [_message(m) for m in request.messages],
            "stream": stream,
            **sampling_fields(request, max_tokens="max_tokens", stop="stop_sequences"),
        }
        if request.tools:
            body["tools"] = function_tools(request.tools)
        ignored: tuple[str, ...] = ()
        if request.tool_choice in ("required", "none"):
            body["tool_choice"] = request.tool_choice.upper()
        elif request.tool_choice not in (None, "auto"):
            body["tool_choice"] = "REQUIRED"  # Cohere cannot name the tool to call
            ignored = ("tool_choice (function name)",)
        if request.response_schema is not None and structured_mode is not None:
            body["response_format"] = {
                "type": "json_object",
                "json_schema": request.response_schema,
            }
        return WireRequest("/v2/chat", merge_extra(body, request.extra), ignored)

    def parse(self, data: Any) -> LMResponse:
        data = expect_object(data)
        if "message" in data and isinstance(data["message"], str):
            raise WireError(data["message"])
        draft = Draft(_FINISH, model=data.get("model", ""), response_id=data.get("id"))
        message = data.get("message")
        if not isinstance(message, dict):
            message = {}
        else:
            draft.saw_answer()
        for block in message.get("content") or []:
            _add_content(draft, block)
        if message.get("tool_plan"):
            draft.metadata["tool_plan"] = message["tool_plan"]
        add_function_calls(draft, message.get("tool_calls"))
        draft.native_finish = data.get("finish_reason")
        draft.note_usage(data.get("usage"), _usage)
        return draft.build()

    def stream_parser(self) -> CohereStream:
        return CohereStream()


class CohereStream(DraftStream):
    """Typed v2 stream events; ``message-end`` carries the finish reason and usage."""

    finish_map = _FINISH

    def feed(self, event: str, data: str) -> list[StreamChunk]:
        payload = json.loads(data)
        kind = payload.get("type", event)
        delta = payload.get("delta") or {}
        message = delta.get("message") or {}
        draft = self.draft
        chunk: StreamChunk | None = None
        if kind == "message-start":
            draft.response_id = payload.get("id")
            draft.saw_answer()
        elif kind in ("content-start", "content-delta"):
            chunk = _add_content(draft, message.get("content") or {})
        elif kind == "tool-plan-delta":
            draft.metadata["tool_plan"] = draft.metadata.get("tool_plan", "") + (
                message.get("tool_plan") or ""
            )
        elif kind in ("tool-call-start", "tool-call-delta"):
            extend_function_call(draft, payload.get("index", 0), message.get("tool_calls") or {})
        elif kind == "message-end":
            draft.native_finish = delta.get("finish_reason")
            draft.note_usage(delta.get("usage"), _usage)
            self._done = True
            if delta.get("error"):
                raise WireError(str(delta["error"]))
        return [chunk] if chunk is not None else []
