"""Anthropic Messages (``POST /v1/messages``).

System messages go to the top-level ``system`` field; every other message becomes content
blocks (text, image, document, ``tool_use``, ``tool_result``), and consecutive messages of one
role are merged, as the API wants turns to alternate. ``max_tokens`` is required by the API:
``default_max_tokens`` fills it when the request leaves it unset.

Usage: ``input_tokens`` counts every input token, cache reads and writes included;
``cached_tokens`` is the cache reads; the raw counts (cache writes too) are kept in
``metadata["usage"]``. Thinking blocks go to ``metadata["reasoning"]``.

With extended thinking, the API wants the thinking blocks of a turn that called tools sent back
verbatim (signatures included) before its ``tool_use`` blocks. They travel in the first tool
call's ``provider_data["thinking_blocks"]`` and are put back first when that assistant message
is sent again.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from lmbench.lm.types import ContentPart, LMRequest, LMResponse, Message, StreamChunk, Usage
from lmbench.providers.wire.base import (
    Draft,
    DraftStream,
    WireError,
    WireRequest,
    expect_object,
    mapping,
    media_source,
    merge_extra,
    merge_turns,
    require_single_choice,
    sampling_fields,
    token_count,
    unsupported_part,
)

__all__ = ["DEFAULT_MAX_TOKENS", "AnthropicMessages"]

DEFAULT_MAX_TOKENS = 4096

_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


def _media_block(part: ContentPart, block_type: str) -> dict[str, Any]:
    kind, value, media_type = media_source(part)
    block: dict[str, Any]
    if kind == "url":
        block = {"type": block_type, "source": {"type": "url", "url": value}}
    elif block_type == "document" and media_type.startswith("text/"):
        text = base64.b64decode(value).decode("utf-8", errors="replace")
        block = {
            "type": "document",
            "source": {"type": "text", "media_type": "text/plain", "data": text},
        }
    else:
        block = {
            "type": block_type,
            "source": {"type": "base64", "media_type": media_type, "data": value},
        }
    if block_type == "document":
        if part.get("title"):
            block["title"] = part["title"]
        if part.get("citations"):
            block["citations"] = {"enabled": True}
    return block


def _note_citations(draft: Draft, citations: list[dict[str, Any]] | None, supports: str) -> None:
    """Citations of a text block, kept in ``metadata["citations"]`` (see ``lmbench.Citations``)."""
    if not citations:
        return
    from lmbench.multimodal.citations import Citation

    found = draft.metadata.setdefault("citations", [])
    found.extend(Citation.from_wire(c, supports or None).to_dict() for c in citations)


def _part(part: ContentPart) -> dict[str, Any]:
    kind = part.get("type")
    if kind == "text":
        return {"type": "text", "text": part.get("text", "")}
    if kind in ("image", "document"):
        return _media_block(part, kind)
    raise unsupported_part(part, "Anthropic Messages", "text, image, document")


def _blocks(message: Message) -> list[dict[str, Any]]:
    if message.role == "tool":
        return [
            {"type": "tool_result", "tool_use_id": message.tool_call_id, "content": message.text}
        ]
    blocks = [
        dict(block)
        for call in message.tool_calls
        for block in (call.provider_data or {}).get(_THINKING_KEY, ())
    ]
    if isinstance(message.content, str):
        blocks += [{"type": "text", "text": message.content}] if message.content else []
    else:
        blocks += [_part(p) for p in message.content]
    for call in message.tool_calls:
        blocks.append(
            {"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}
        )
    return blocks


def _messages(messages: tuple[Message, ...]) -> tuple[str | None, list[dict[str, Any]]]:
    system = [m.text for m in messages if m.role == "system"]
    turns = (
        ("assistant" if m.role == "assistant" else "user", _blocks(m))
        for m in messages
        if m.role != "system"
    )
    return ("\n\n".join(system) if system else None), merge_turns(turns, "content")


def _tool_choice(choice: str) -> dict[str, Any]:
    if choice in ("auto", "none"):
        return {"type": choice}
    if choice == "required":
        return {"type": "any"}
    return {"type": "tool", "name": choice}


def _usage(data: dict[str, Any], previous: Usage) -> Usage:
    """Usage from a ``usage`` object; counts it lacks keep their ``previous`` value."""
    cache_read = data.get("cache_read_input_tokens")
    cache_write = data.get("cache_creation_input_tokens")
    fresh = data.get("input_tokens")
    if fresh is None and cache_read is None and cache_write is None:
        input_tokens, cached = previous.input_tokens, previous.cached_tokens
    else:
        cached = token_count(cache_read)
        input_tokens = token_count(fresh) + cached + token_count(cache_write)
    output = data.get("output_tokens")
    return Usage(
        input_tokens=input_tokens,
        output_tokens=previous.output_tokens if output is None else token_count(output),
        cached_tokens=cached,
        reasoning_tokens=previous.reasoning_tokens,
    )


def _note_usage(draft: Draft, usage: Any) -> None:
    if not usage:
        return
    if not isinstance(usage, dict):  # kept as sent, counts nothing
        draft.metadata["usage"] = usage
        return
    draft.usage = _usage(usage, draft.usage)
    draft.metadata["usage"] = {**mapping(draft.metadata.get("usage")), **usage}


_THINKING_KEY = "thinking_blocks"


class _Thinking:
    """The thinking blocks of one response, as the API must get them back (by block index)."""

    def __init__(self) -> None:
        self.blocks: dict[int, dict[str, Any]] = {}

    def start(self, index: int, block: dict[str, Any]) -> None:
        if block.get("type") == "thinking":
            self.blocks[index] = {
                "type": "thinking",
                "thinking": block.get("thinking") or "",
                "signature": block.get("signature") or "",
            }
        else:
            self.blocks[index] = {"type": "redacted_thinking", "data": block.get("data") or ""}

    def extend(self, index: int, delta: dict[str, Any]) -> None:
        block = self.blocks.get(index)
        if block is None:
            return
        if delta.get("type") == "thinking_delta":
            block["thinking"] += delta.get("thinking") or ""
        elif delta.get("type") == "signature_delta":
            block["signature"] = delta.get("signature") or ""

    def provider_data(self, draft: Draft) -> dict[str, Any] | None:
        """What the first tool call of a turn carries: every thinking block before it."""
        if draft.calls or not self.blocks:
            return None
        return {_THINKING_KEY: [dict(self.blocks[i]) for i in sorted(self.blocks)]}


def _add_block(
    draft: Draft, index: int, block: dict[str, Any], thinking: _Thinking
) -> StreamChunk | None:
    kind = block.get("type")
    if kind == "text":
        _note_citations(draft, block.get("citations"), block.get("text") or "")
        return draft.add_text(block.get("text"))
    if kind == "thinking":
        draft.add_reasoning(block.get("thinking"))
        thinking.start(index, block)
    elif kind == "redacted_thinking":
        draft.metadata["redacted_thinking_blocks"] = (
            draft.metadata.get("redacted_thinking_blocks", 0) + 1
        )
        thinking.start(index, block)
    elif kind == "tool_use":
        draft.start_call(
            index,
            name=block.get("name", ""),
            id=block.get("id"),
            arguments=block.get("input") or None,
            provider_data=thinking.provider_data(draft),
        )
    return None


def _stopped(draft: Draft, reason: str | None, details: Any) -> None:
    """Why the answer stopped; a refusal is named with its category and explanation."""
    draft.native_finish = reason or draft.native_finish
    if details:
        draft.metadata["stop_details"] = details
    if reason == "refusal":
        said = details if isinstance(details, dict) else {}
        category = f", category {said['category']}" if said.get("category") else ""
        explanation = f": {said['explanation']}" if said.get("explanation") else ""
        draft.filter_note = f"Claude refused (stop_reason: refusal{category}){explanation}"


class AnthropicMessages:
    """The Messages API wire format."""

    name = "anthropic-messages"
    stream_format = "sse"
    structured_modes = ("output_config",)

    def __init__(self, *, default_max_tokens: int = DEFAULT_MAX_TOKENS) -> None:
        self.default_max_tokens = default_max_tokens

    def build(
        self, request: LMRequest, model: str, *, stream: bool, structured_mode: str | None
    ) -> WireRequest:
        require_single_choice(request, "Anthropic Messages")
        system, messages = _messages(request.messages)
        body: dict[str, Any] = {
            "model": model,
            "max_tokens": request.max_tokens or self.default_max_tokens,
            "messages": messages,
            "stream": stream,
        }
        if system is not None:
            body["system"] = system
        # max_tokens is set above (the API requires it); the API has no seed
        body.update(sampling_fields(request, max_tokens=None, stop="stop_sequences", seed=None))
        if request.tools:
            body["tools"] = [
                {"name": t.name, "description": t.description, "input_schema": t.parameters}
                for t in request.tools
            ]
        if request.tool_choice:
            body["tool_choice"] = _tool_choice(request.tool_choice)
        if request.response_schema is not None and structured_mode is not None:
            body["output_config"] = {
                "format": {"type": "json_schema", "schema": request.response_schema}
            }
        ignored = ("seed",) if request.seed is not None else ()
        return WireRequest("/v1/messages", merge_extra(body, request.extra), ignored)

    def parse(self, data: Any) -> LMResponse:
        data = expect_object(data)
        if data.get("type") == "error":
            error = data.get("error") or {}
            raise WireError(str(error.get("message") or error))
        draft = Draft(_FINISH, model=data.get("model", ""), response_id=data.get("id"))
        thinking = _Thinking()
        if isinstance(data.get("content"), list):
            draft.saw_answer()  # an empty list is an (empty) answer; no list is none at all
        for index, block in enumerate(data.get("content") or []):
            _add_block(draft, index, block, thinking)
        _stopped(draft, data.get("stop_reason"), data.get("stop_details"))
        _note_usage(draft, data.get("usage"))
        return draft.build()

    def stream_parser(self) -> AnthropicStream:
        return AnthropicStream()


class AnthropicStream(DraftStream):
    """``message_start``, content block start/delta/stop, ``message_delta``, ``message_stop``."""

    finish_map = _FINISH

    def __init__(self) -> None:
        super().__init__()
        self.thinking = _Thinking()

    def feed(self, event: str, data: str) -> list[StreamChunk]:
        payload = json.loads(data)
        kind = payload.get("type", event)
        draft = self.draft
        chunk: StreamChunk | None = None
        if kind == "message_start":
            message = payload.get("message") or {}
            draft.model = message.get("model", "")
            draft.response_id = message.get("id")
            draft.saw_answer()
            _note_usage(draft, message.get("usage"))
        elif kind == "content_block_start":
            block = payload.get("content_block") or {}
            chunk = _add_block(draft, payload.get("index", 0), block, self.thinking)
        elif kind == "content_block_delta":
            delta = payload.get("delta") or {}
            if delta.get("type") == "text_delta":
                chunk = draft.add_text(delta.get("text"))
            elif delta.get("type") == "citations_delta":
                _note_citations(draft, [delta.get("citation") or {}], "")
            elif delta.get("type") == "input_json_delta":
                draft.extend_call(payload.get("index", 0), delta.get("partial_json"))
            elif delta.get("type") in ("thinking_delta", "signature_delta"):
                draft.add_reasoning(delta.get("thinking"))
                self.thinking.extend(payload.get("index", 0), delta)
        elif kind == "message_delta":
            delta = payload.get("delta") or {}
            _stopped(draft, delta.get("stop_reason"), delta.get("stop_details"))
            _note_usage(draft, payload.get("usage"))
        elif kind == "message_stop":
            self._done = True
        elif kind == "error":
            error = payload.get("error") or {}
            raise WireError(f"{error.get('message') or error} ({error.get('type', 'error')})")
        return [chunk] if chunk is not None else []
