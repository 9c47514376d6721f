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
    WireError,
    WireRequest,
    media_source,
    merge_extra,
    require_single_choice,
    tool_call_names,
    unsupported_part,
)

__all__ = ["OllamaChat"]

_FINISH: dict[str, str] = {}
_TIMINGS = ("total_duration", "load_duration", "prompt_eval_duration", "eval_duration")


def _message(message: Message, names: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {"role": message.role, "content": message.text}
    if isinstance(message.content, list):
        images: list[str] = []
        for part in message.content:
            if part.get("type") == "text":
                continue
            if part.get("type") != "image":
                raise unsupported_part(part, "Ollama chat", "text, image as base64 data")
            kind, value, _ = media_source(part)
            if kind == "url":
                raise InputError(
                    "the Ollama chat API takes images as base64 data, not URLs: build the image "
                    "with Image.from_path(...) or Image.from_bytes(...)"
                )
            images.append(value)
        if images:
            out["images"] = images
    if message.tool_calls:
        out["tool_calls"] = [
            {"function": {"name": c.name, "arguments": c.arguments}} for c in message.tool_calls
        ]
    if message.role == "tool":
        name = message.name or names.get(message.tool_call_id or "")
        if name:
            out["tool_name"] = name
    return out


def _raise_error(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise WireError(f"expected a JSON object, got {type(data).__name__}")
    if data.get("error"):
        raise WireError(str(data["error"]))
    return data


def _absorb(draft: Draft, data: dict[str, Any], calls_seen: int) -> tuple[StreamChunk | None, int]:
    draft.model = data.get("model") or draft.model
    message = data.get("message") or {}
    chunk = draft.add_text(message.get("content"))
    draft.add_reasoning(message.get("thinking"))
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        arguments = function.get("arguments")
        draft.start_call(
            calls_seen, name=function.get("name", ""), id=call.get("id"), arguments=arguments or {}
        )
        calls_seen += 1
    if data.get("done"):
        draft.native_finish = data.get("done_reason") or "stop"
        draft.usage = Usage(
            input_tokens=data.get("prompt_eval_count") or 0,
            output_tokens=data.get("eval_count") or 0,
        )
        timings = {k: data[k] for k in _TIMINGS if k in data}
        if timings:
            draft.metadata["timings"] = timings
    return chunk, calls_seen


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
        options: dict[str, Any] = {}
        if request.temperature is not None:
            options["temperature"] = request.temperature
        if request.max_tokens is not None:
            options["num_predict"] = request.max_tokens
        if request.stop:
            options["stop"] = list(request.stop)
        if request.seed is not None:
            options["seed"] = request.seed
        if options:
            body["options"] = options
        if request.tools:
            body["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.parameters,
                    },
                }
                for t in request.tools
            ]
        if request.response_schema is not None and structured_mode is not None:
            body["format"] = request.response_schema
        ignored = ("tool_choice",) if request.tool_choice not in (None, "auto") else ()
        return WireRequest("/api/chat", merge_extra(body, request.extra), ignored)

    def parse(self, data: Any) -> LMResponse:
        draft = Draft(_FINISH)
        _absorb(draft, _raise_error(data), 0)
        return draft.build()

    def stream_parser(self) -> OllamaStream:
        return OllamaStream()


class OllamaStream:
    """One JSON object per line; the last has ``done: true`` with counts and timings."""

    def __init__(self) -> None:
        self.draft = Draft(_FINISH)
        self._calls = 0

    @property
    def finished(self) -> bool:
        return self.draft.native_finish is not None

    def feed(self, event: str, data: str) -> list[StreamChunk]:
        chunk, self._calls = _absorb(self.draft, _raise_error(json.loads(data)), self._calls)
        return [chunk] if chunk is not None else []

    def result(self) -> LMResponse:
        return self.draft.build()
