"""Gemini ``generateContent`` and ``streamGenerateContent?alt=sse``.

Messages become ``contents`` of ``parts`` (assistant -> role ``model``; tool results ->
``functionResponse`` parts naming the function); system messages go to
``systemInstruction``. Structured output uses ``responseMimeType: application/json`` with
``responseJsonSchema`` (plain JSON Schema). A function call's ``thoughtSignature`` is kept
in ``ToolCall.provider_data`` and sent back with the call in the next turn, as Gemini 3
requires.

Usage: ``output_tokens`` includes the thinking tokens (``thoughtsTokenCount``), which are
also ``reasoning_tokens``; ``cached_tokens`` is ``cachedContentTokenCount``.
"""

from __future__ import annotations

import json
from typing import Any

from lmbench.lm.types import ContentPart, LMRequest, LMResponse, Message, StreamChunk, Usage
from lmbench.providers.wire.base import (
    Draft,
    WireError,
    WireRequest,
    media_source,
    merge_extra,
    tool_call_names,
    unsupported_part,
)

__all__ = ["GeminiGenerateContent"]

_FINISH = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
}


def _part(part: ContentPart) -> dict[str, Any]:
    kind = part.get("type")
    if kind == "text":
        return {"text": part.get("text", "")}
    if kind in ("image", "audio", "document"):
        source, value, media_type = media_source(part)
        if source == "url":
            file_data = {"fileUri": value}
            if media_type:
                file_data["mimeType"] = media_type
            return {"fileData": file_data}
        return {"inlineData": {"mimeType": media_type, "data": value}}
    raise unsupported_part(part, "Gemini", "text, image, audio, document")


def _function_response(message: Message, names: dict[str, str]) -> dict[str, Any]:
    try:
        result = json.loads(message.text)
    except ValueError:
        result = message.text
    response: Any = result if isinstance(result, dict) else {"result": result}
    call: dict[str, Any] = {
        "name": message.name or names.get(message.tool_call_id or "", ""),
        "response": response,
    }
    if message.tool_call_id:
        call["id"] = message.tool_call_id
    return {"functionResponse": call}


def _parts(message: Message, names: dict[str, str]) -> list[dict[str, Any]]:
    if message.role == "tool":
        return [_function_response(message, names)]
    if isinstance(message.content, str):
        parts = [{"text": message.content}] if message.content else []
    else:
        parts = [_part(p) for p in message.content]
    for call in message.tool_calls:
        function_call: dict[str, Any] = {"name": call.name, "args": call.arguments}
        if call.id:
            function_call["id"] = call.id
        entry: dict[str, Any] = {"functionCall": function_call}
        signature = (call.provider_data or {}).get("thought_signature")
        if signature:
            entry["thoughtSignature"] = signature
        parts.append(entry)
    return parts


def _contents(messages: tuple[Message, ...]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    names = tool_call_names(messages)
    system: list[dict[str, Any]] = []
    contents: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            system.extend(_parts(message, names))
            continue
        role = "model" if message.role == "assistant" else "user"
        parts = _parts(message, names)
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": role, "parts": parts})
    return system, contents


def _tool_config(choice: str) -> dict[str, Any]:
    modes = {"auto": "AUTO", "none": "NONE", "required": "ANY"}
    if choice in modes:
        return {"functionCallingConfig": {"mode": modes[choice]}}
    return {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": [choice]}}


def _usage(data: dict[str, Any]) -> Usage:
    thoughts = data.get("thoughtsTokenCount") or 0
    return Usage(
        input_tokens=(data.get("promptTokenCount") or 0)
        + (data.get("toolUsePromptTokenCount") or 0),
        output_tokens=(data.get("candidatesTokenCount") or 0) + thoughts,
        cached_tokens=data.get("cachedContentTokenCount") or 0,
        reasoning_tokens=thoughts,
    )


def _absorb(draft: Draft, data: Any, calls_seen: int) -> tuple[list[StreamChunk], int]:
    """Add one response (or stream chunk) to ``draft``; the text chunks and the call count."""
    if not isinstance(data, dict):
        raise WireError(f"expected a JSON object, got {type(data).__name__}")
    if "error" in data:
        error = data["error"] if isinstance(data["error"], dict) else {"message": data["error"]}
        code = error.get("code")
        raise WireError(
            str(error.get("message") or error), status=code if isinstance(code, int) else None
        )
    draft.model = data.get("modelVersion") or draft.model
    draft.response_id = data.get("responseId") or draft.response_id
    if data.get("usageMetadata"):
        draft.usage = _usage(data["usageMetadata"])
        draft.metadata["usage"] = data["usageMetadata"]
    feedback = data.get("promptFeedback") or {}
    if feedback.get("blockReason"):
        draft.metadata["block_reason"] = feedback["blockReason"]
        draft.native_finish = "PROHIBITED_CONTENT"
    chunks: list[StreamChunk] = []
    for position, candidate in enumerate(data.get("candidates") or []):
        index = candidate.get("index", position)
        draft.add_text("", index)
        for part in (candidate.get("content") or {}).get("parts") or []:
            if "functionCall" in part and index == 0:
                call = part["functionCall"]
                signature = part.get("thoughtSignature")
                draft.start_call(
                    calls_seen,
                    name=call.get("name", ""),
                    id=call.get("id"),
                    arguments=call.get("args") or {},
                    provider_data={"thought_signature": signature} if signature else None,
                )
                calls_seen += 1
            elif part.get("thought"):
                draft.add_reasoning(part.get("text"))
            else:
                chunk = draft.add_text(part.get("text"), index)
                if chunk is not None:
                    chunks.append(chunk)
        if candidate.get("finishReason") and index == 0:
            draft.native_finish = candidate["finishReason"]
    return chunks, calls_seen


class GeminiGenerateContent:
    """The ``generateContent`` wire format (Google AI Studio / Gemini API)."""

    name = "gemini-generate-content"
    stream_format = "sse"
    structured_modes = ("response_json_schema",)

    def build(
        self, request: LMRequest, model: str, *, stream: bool, structured_mode: str | None
    ) -> WireRequest:
        system, contents = _contents(request.messages)
        body: dict[str, Any] = {"contents": contents}
        if system:
            body["systemInstruction"] = {"parts": system}
        config: dict[str, Any] = {}
        if request.temperature is not None:
            config["temperature"] = request.temperature
        if request.max_tokens is not None:
            config["maxOutputTokens"] = request.max_tokens
        if request.n != 1:
            config["candidateCount"] = request.n
        if request.stop:
            config["stopSequences"] = list(request.stop)
        if request.seed is not None:
            config["seed"] = request.seed
        if request.response_schema is not None and structured_mode is not None:
            config["responseMimeType"] = "application/json"
            config["responseJsonSchema"] = request.response_schema
        if config:
            body["generationConfig"] = config
        if request.tools:
            body["tools"] = [
                {
                    "functionDeclarations": [
                        {
                            "name": t.name,
                            "description": t.description,
                            "parametersJsonSchema": t.parameters,
                        }
                        for t in request.tools
                    ]
                }
            ]
        if request.tool_choice:
            body["toolConfig"] = _tool_config(request.tool_choice)
        name = model.removeprefix("models/")
        path = (
            f"/models/{name}:streamGenerateContent?alt=sse"
            if stream
            else f"/models/{name}:generateContent"
        )
        return WireRequest(path, merge_extra(body, request.extra))

    def parse(self, data: Any) -> LMResponse:
        draft = Draft(_FINISH)
        _absorb(draft, data, 0)
        return draft.build()

    def stream_parser(self) -> GeminiStream:
        return GeminiStream()


class GeminiStream:
    """Each event is a partial ``GenerateContentResponse``; usage arrives cumulative."""

    def __init__(self) -> None:
        self.draft = Draft(_FINISH)
        self._calls = 0

    @property
    def finished(self) -> bool:
        return self.draft.native_finish is not None

    def feed(self, event: str, data: str) -> list[StreamChunk]:
        chunks, self._calls = _absorb(self.draft, json.loads(data), self._calls)
        return chunks

    def result(self) -> LMResponse:
        return self.draft.build()
