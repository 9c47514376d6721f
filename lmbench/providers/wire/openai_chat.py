"""OpenAI chat completions (``POST /chat/completions``), the format most servers speak:
OpenAI, OpenRouter, Mistral, Groq, Together, DeepSeek, vLLM, LM Studio, llama.cpp, Ollama's
``/v1``.

The dialects differ in a few knobs, set per provider: the name of the max-tokens field,
whether ``stream_options.include_usage`` is sent, and the structured-output modes to try:

- ``json_schema``: ``{"type": "json_schema", "json_schema": {"name", "schema", "strict"}}``
  (``strict`` only when the schema meets strict mode's rules);
- ``json_object_schema``: ``{"type": "json_object", "schema": ...}`` (llama.cpp servers);
- ``json_object``: JSON mode without a schema;
- ``text``: no ``response_format`` at all.

Reasoning text (``reasoning`` / ``reasoning_content``) goes to ``metadata["reasoning"]``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from lmbench.lm.types import ContentPart, LMRequest, LMResponse, Message, StreamChunk, Usage
from lmbench.providers.wire.base import (
    Draft,
    DraftStream,
    WireRequest,
    add_function_calls,
    as_data_url,
    error_from,
    expect_object,
    extend_function_call,
    function_calls,
    function_tools,
    mapping,
    media_source,
    merge_extra,
    sampling_fields,
    token_count,
    unsupported_part,
)
from lmbench.providers.wire.media import audio_format, document_text, require_inline

__all__ = ["STRUCTURED_MODES", "OpenAIChat", "is_strict_compatible"]

STRUCTURED_MODES = ("json_schema", "json_object_schema", "json_object", "text")
_NAME_CHARS = re.compile(r"[^a-zA-Z0-9_-]")
_FINISH: dict[str, str] = {"function_call": "tool_calls"}


def is_strict_compatible(schema: Any) -> bool:
    """Whether OpenAI strict mode accepts ``schema``: every object closed, every property required."""
    if isinstance(schema, list):
        return all(is_strict_compatible(s) for s in schema)
    if not isinstance(schema, dict):
        return True
    if schema.get("type") == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        if schema.get("additionalProperties") is not False:
            return False
        if set(schema.get("required", [])) != set(properties):
            return False
    return all(is_strict_compatible(v) for v in schema.values() if isinstance(v, (dict, list)))


def _schema_name(name: str) -> str:
    return _NAME_CHARS.sub("_", name)[:64] or "output"


def _part(part: ContentPart) -> dict[str, Any]:
    kind = part.get("type")
    if kind == "text":
        return {"type": "text", "text": part.get("text", "")}
    if kind == "image":
        return {"type": "image_url", "image_url": {"url": as_data_url(part)}}
    text = document_text(part)
    if text is not None:
        return {"type": "text", "text": text}
    if kind in ("audio", "document"):
        require_inline(part, "OpenAI chat")
        _source, data, media_type = media_source(part)
        if kind == "audio":
            return {
                "type": "input_audio",
                "input_audio": {"data": data, "format": audio_format(media_type, "OpenAI chat")},
            }
        file: dict[str, Any] = {"file_data": f"data:{media_type};base64,{data}"}
        file["filename"] = part.get("title") or "document.pdf"
        return {"type": "file", "file": file}
    raise unsupported_part(
        part, "OpenAI chat", "text, image (URL or data), audio and document as data"
    )


def _message(message: Message) -> dict[str, Any]:
    content: Any = message.content
    if isinstance(content, list):
        content = [_part(p) for p in content]
    out: dict[str, Any] = {"role": message.role}
    if message.role == "assistant" and message.tool_calls:
        out["content"] = content or None
        out["tool_calls"] = function_calls(message.tool_calls)
    else:
        out["content"] = content
    if message.tool_call_id:
        out["tool_call_id"] = message.tool_call_id
    if message.name and message.role != "tool":
        out["name"] = message.name
    return out


def _response_format(request: LMRequest, mode: str | None) -> dict[str, Any] | None:
    schema = request.response_schema
    if schema is None or mode in (None, "text"):
        return None
    if mode == "json_schema":
        return {
            "type": "json_schema",
            "json_schema": {
                "name": _schema_name(request.response_schema_name),
                "schema": schema,
                "strict": is_strict_compatible(schema),
            },
        }
    if mode == "json_object_schema":
        return {"type": "json_object", "schema": schema}
    return {"type": "json_object"}


def _tool_choice(choice: str) -> Any:
    if choice in ("auto", "none", "required"):
        return choice
    return {"type": "function", "function": {"name": choice}}


def _usage(data: Mapping[str, Any]) -> Usage:
    prompt = mapping(data.get("prompt_tokens_details"))
    completion = mapping(data.get("completion_tokens_details"))
    return Usage(
        input_tokens=token_count(data.get("prompt_tokens")),
        output_tokens=token_count(data.get("completion_tokens")),
        cached_tokens=token_count(
            prompt.get("cached_tokens") or data.get("prompt_cache_hit_tokens")
        ),
        reasoning_tokens=token_count(completion.get("reasoning_tokens")),
    )


def _raise_body_error(data: dict[str, Any]) -> None:
    if data.get("error"):
        raise error_from(data["error"])


def _content_text(content: Any, draft: Draft) -> str:
    """Message content as text; list content (e.g. Mistral's thinking blocks) is flattened."""
    if isinstance(content, str) or content is None:
        return content or ""
    texts: list[str] = []
    for block in content:
        if block.get("type") == "text":
            texts.append(block.get("text", ""))
        elif block.get("type") == "thinking":
            thinking = block.get("thinking")
            if isinstance(thinking, list):
                thinking = "".join(t.get("text", "") for t in thinking if isinstance(t, dict))
            draft.add_reasoning(thinking)
    return "".join(texts)


def _note_metadata(draft: Draft, data: dict[str, Any]) -> None:
    draft.model = data.get("model") or draft.model
    draft.response_id = data.get("id") or draft.response_id
    if data.get("provider"):  # OpenRouter: who actually served it
        draft.metadata["upstream_provider"] = data["provider"]
    if data.get("system_fingerprint"):
        draft.metadata["system_fingerprint"] = data["system_fingerprint"]
    draft.note_usage(data.get("usage") or mapping(data.get("x_groq")).get("usage"), _usage)


class OpenAIChat:
    """The chat completions wire format, tuned by the provider's dialect knobs."""

    name = "openai-chat"
    stream_format = "sse"

    def __init__(
        self,
        *,
        max_tokens_field: str = "max_tokens",
        structured_modes: tuple[str, ...] = ("json_schema",),
        stream_usage: bool = True,
    ) -> None:
        unknown = set(structured_modes) - set(STRUCTURED_MODES)
        if unknown:
            raise ValueError(
                f"unknown structured modes {sorted(unknown)}; known: {STRUCTURED_MODES}"
            )
        self.max_tokens_field = max_tokens_field
        self.structured_modes = structured_modes
        self.stream_usage = stream_usage

    def build(
        self, request: LMRequest, model: str, *, stream: bool, structured_mode: str | None
    ) -> WireRequest:
        body: dict[str, Any] = {
            "model": model,
            "messages": [_message(m) for m in request.messages],
            "stream": stream,
        }
        if stream and self.stream_usage:
            body["stream_options"] = {"include_usage": True}
        body.update(sampling_fields(request, max_tokens=self.max_tokens_field, n="n", stop="stop"))
        if request.tools:
            body["tools"] = function_tools(request.tools)
        if request.tool_choice:
            body["tool_choice"] = _tool_choice(request.tool_choice)
        response_format = _response_format(request, structured_mode)
        if response_format is not None:
            body["response_format"] = response_format
        return WireRequest("/chat/completions", merge_extra(body, request.extra))

    def parse(self, data: Any) -> LMResponse:
        data = expect_object(data)
        _raise_body_error(data)
        draft = Draft(_FINISH)
        _note_metadata(draft, data)
        choices = sorted(data.get("choices") or [], key=lambda c: c.get("index", 0))
        for position, choice in enumerate(choices):
            index = choice.get("index", position)
            message = choice.get("message") or {}
            draft.add_text(_content_text(message.get("content"), draft), index)
            if index == 0:
                draft.add_refusal(message.get("refusal"))
                draft.add_reasoning(message.get("reasoning") or message.get("reasoning_content"))
                draft.native_finish = choice.get("finish_reason")
                add_function_calls(draft, message.get("tool_calls"))
        return draft.build()

    def stream_parser(self) -> OpenAIChatStream:
        return OpenAIChatStream()


class OpenAIChatStream(DraftStream):
    """Chat completion chunks (``data: {...}`` until ``data: [DONE]``)."""

    finish_map = _FINISH

    def feed(self, event: str, data: str) -> list[StreamChunk]:
        if data.strip() == "[DONE]":
            self._done = True
            return []
        chunk = json.loads(data)
        _raise_body_error(chunk)
        _note_metadata(self.draft, chunk)
        out: list[StreamChunk] = []
        for choice in chunk.get("choices") or []:
            index = choice.get("index", 0)
            delta = choice.get("delta") or {}
            piece = self.draft.add_text(_content_text(delta.get("content"), self.draft), index)
            if piece is not None:
                out.append(piece)
            if index != 0:
                continue
            self.draft.add_reasoning(delta.get("reasoning") or delta.get("reasoning_content"))
            refused = self.draft.add_refusal(delta.get("refusal"))
            if refused is not None:
                out.append(refused)
            for call in delta.get("tool_calls") or []:
                extend_function_call(self.draft, call.get("index", 0), call)
            if choice.get("finish_reason"):
                self.draft.native_finish = choice["finish_reason"]
        return out
