"""Ollama's native chat API (``POST /api/chat``), streamed as newline-delimited JSON.

Sampling parameters go in ``options`` (``num_predict`` is the max-tokens field); structured
output is ``format: <JSON schema>``; images are base64 strings in a message's ``images``
(URLs are not accepted by this API). Thinking text goes to ``metadata["reasoning"]`` and
Ollama's timings (nanoseconds) to ``metadata["timings"]``.
"""

from __future__ import annotations

import json
from typing import Any

from lmbench.errors import InputError
from lmbench.lm.types import LMRequest, LMResponse, Message, StreamChunk, Usage
from lmbench.providers.wire.base import (
    Draft,
    DraftStream,
    WireError,
    WireRequest,
    add_function_calls,
    expect_object,
    function_tools,
    media_source,
    merge_extra,
    require_single_choice,
    sampling_fields,
    token_count,
    tool_call_names,
    unsupported_part,
)
from lmbench.providers.wire.media import document_text

__all__ = ["OllamaChat"]

_FINISH: dict[str, str] = {}
_TIMINGS = ("total_duration", "load_duration", "prompt_eval_duration", "eval_duration")


def _message(message: Message, names: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {"role": message.role, "content": message.text}
    if isinstance(message.content, list):
        images: list[str] = []
        texts = [message.text]
        for part in message.content:
            if part.get("type") == "text":
                continue
            document = document_text(part)
            if document is not None:
                texts.append(document)
                continue
            if part.get("type") != "image":
                raise unsupported_part(
                    part, "Ollama chat", "text, text documents, image as base64 data"
                )
            kind, value, _ = media_source(part)
            if kind == "url":
                raise InputError(
                    "the Ollama chat API takes images as base64 data, not URLs: build the image "
                    "with Image.from_url(url) (downloads it), Image.from_path(...) or Image.from_bytes(...)"
                )
            images.append(value)
        if images:
            out["images"] = images
        out["content"] = "\n\n".join(t for t in texts if t)
    if message.tool_calls:
        out["tool_calls"] = [
            {"function": {"name": c.name, "arguments": c.arguments}} for c in message.tool_calls
        ]
    if message.role == "tool":
        name = message.name or names.get(message.tool_call_id or "")
        if name:
            out["tool_name"] = name
    return out


def _absorb(draft: Draft, data: Any) -> StreamChunk | None:
    """Add one response (or stream line) to ``draft``; the text chunk, if there was text."""
    data = expect_object(data)
    if data.get("error"):
        raise WireError(str(data["error"]))
    draft.model = data.get("model") or draft.model
    message = data.get("message")
    chunk = None
    if isinstance(message, dict):  # adding its text, even empty, marks the answer as seen
        chunk = draft.add_text(message.get("content"))
        draft.add_reasoning(message.get("thinking"))
        add_function_calls(draft, message.get("tool_calls"))
    if data.get("done"):
        draft.native_finish = data.get("done_reason") or "stop"
        draft.usage = Usage(
            input_tokens=token_count(data.get("prompt_eval_count")),
            output_tokens=token_count(data.get("eval_count")),
        )
        timings = {k: data[k] for k in _TIMINGS if k in data}
        if timings:
            draft.metadata["timings"] = timings
    return chunk


class OllamaChat:
    """The native ``/api/chat`` wire format."""

    name = "ollama-chat"
    stream_format = "ndjson"
    structured_modes = ("format",)

    def build(
        self, request: LMRequest, model: str, *, stream: bool, structured_mode: str | None
    ) -> WireRequest:
        require_single_choice(request, "Ollama chat")
        names = tool_call_names(request.messages)
        body: dict[str, Any] = {
            "model": model,
            "messages": [_message(m, names) for m in request.messages],
            "stream": stream,
        }
        options = sampling_fields(request, max_tokens="num_predict", stop="stop")
        if options:
            body["options"] = options
        if request.tools:
            body["tools"] = function_tools(request.tools)
        if request.response_schema is not None and structured_mode is not None:
            body["format"] = request.response_schema
        ignored = ("tool_choice",) if request.tool_choice not in (None, "auto") else ()
        return WireRequest("/api/chat", merge_extra(body, request.extra), ignored)

    def parse(self, data: Any) -> LMResponse:
        draft = Draft(_FINISH)
        _absorb(draft, data)
        return draft.build()

    def stream_parser(self) -> OllamaStream:
        return OllamaStream()


class OllamaStream(DraftStream):
    """One JSON object per line; the last has ``done: true`` with counts and timings."""

    finish_map = _FINISH

    def feed(self, event: str, data: str) -> list[StreamChunk]:
        chunk = _absorb(self.draft, json.loads(data))
        return [chunk] if chunk is not None else []
