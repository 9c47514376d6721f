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
from collections.abc import Mapping
from typing import Any

from lmbench.lm.types import ContentPart, LMRequest, LMResponse, Message, StreamChunk, Usage
from lmbench.providers.wire.base import (
    Draft,
    DraftStream,
    WireRequest,
    error_from,
    expect_object,
    media_source,
    merge_extra,
    merge_turns,
    sampling_fields,
    token_count,
    tool_call_names,
    unsupported_part,
)
from lmbench.providers.wire.media import require_inline

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


#: URLs Gemini reads itself: uploaded files, Cloud Storage, YouTube.
_FETCHABLE = (
    "https://generativelanguage.googleapis.com/",
    "gs://",
    "https://www.youtube.com/",
    "https://youtu.be/",
)


def _part(part: ContentPart) -> dict[str, Any]:
    kind = part.get("type")
    if kind == "text":
        return {"text": part.get("text", "")}
    if kind in ("image", "audio", "document"):
        source, value, media_type = media_source(part)
        if source == "url" and not value.startswith(_FETCHABLE):
            require_inline(part, "Gemini")
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
    system = [part for m in messages if m.role == "system" for part in _parts(m, names)]
    turns = (
        ("model" if m.role == "assistant" else "user", _parts(m, names))
        for m in messages
        if m.role != "system"
    )
    return system, merge_turns(turns, "parts")


def _tool_config(choice: str) -> dict[str, Any]:
    modes = {"auto": "AUTO", "none": "NONE", "required": "ANY"}
    if choice in modes:
        return {"functionCallingConfig": {"mode": modes[choice]}}
    return {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": [choice]}}


def _usage(data: Mapping[str, Any]) -> Usage:
    thoughts = token_count(data.get("thoughtsTokenCount"))
    return Usage(
        input_tokens=token_count(data.get("promptTokenCount"))
        + token_count(data.get("toolUsePromptTokenCount")),
        output_tokens=token_count(data.get("candidatesTokenCount")) + thoughts,
        cached_tokens=token_count(data.get("cachedContentTokenCount")),
        reasoning_tokens=thoughts,
    )


def _absorb(draft: Draft, data: Any) -> list[StreamChunk]:
    """Add one response (or stream chunk) to ``draft``; the text chunks."""
    data = expect_object(data)
    if "error" in data:
        raise error_from(data["error"])
    draft.model = data.get("modelVersion") or draft.model
    draft.response_id = data.get("responseId") or draft.response_id
    draft.note_usage(data.get("usageMetadata"), _usage)
    feedback = data.get("promptFeedback") or {}
    if feedback.get("blockReason"):
        _blocked(draft, feedback)
    chunks: list[StreamChunk] = []
    for position, candidate in enumerate(data.get("candidates") or []):
        index = candidate.get("index", position)
        draft.add_text("", index)
        for part in (candidate.get("content") or {}).get("parts") or []:
            if "functionCall" in part and index == 0:
                call = part["functionCall"]
                signature = part.get("thoughtSignature")
                draft.add_call(
                    name=call.get("name", ""),
                    id=call.get("id"),
                    arguments=call.get("args") or {},
                    provider_data={"thought_signature": signature} if signature else None,
                )
            elif part.get("thought"):
                draft.add_reasoning(part.get("text"))
            else:
                chunk = draft.add_text(part.get("text"), index)
                if chunk is not None:
                    chunks.append(chunk)
        if candidate.get("finishReason") and index == 0:
            draft.native_finish = candidate["finishReason"]
            if _FINISH.get(draft.native_finish) == "content_filter":
                flagged = _flagged(candidate.get("safetyRatings"))
                draft.filter_note = (
                    f"Gemini's filter stopped the answer (finishReason: {draft.native_finish}"
                    f"{flagged})"
                )
                draft.filter_fix = _GEMINI_FIX
    return chunks


_GEMINI_FIX = (
    "Rephrase the prompt, or, where your use allows it, relax the request's safety settings "
    "(extra={'safetySettings': [{'category': ..., 'threshold': 'BLOCK_ONLY_HIGH'}]})."
)


def _flagged(ratings: Any) -> str:
    """``; flagged: CATEGORY (PROBABILITY), ...`` for the safety ratings that blocked or rated
    medium or high."""
    found = [
        f"{r.get('category', '?')} ({r.get('probability', 'blocked')})"
        for r in ratings or ()
        if isinstance(r, dict) and (r.get("blocked") or r.get("probability") in ("MEDIUM", "HIGH"))
    ]
    return f"; flagged: {', '.join(found)}" if found else ""


def _blocked(draft: Draft, feedback: Mapping[str, Any]) -> None:
    """A prompt Gemini refused to answer (``promptFeedback.blockReason``, no candidates)."""
    reason = feedback["blockReason"]
    draft.saw_answer()  # a refusal, reported as such rather than as no answer
    draft.native_finish = reason
    draft.metadata["block_reason"] = reason
    message = feedback.get("blockReasonMessage")
    draft.filter_note = (
        f"Gemini blocked the prompt (promptFeedback.blockReason: {reason}"
        f"{_flagged(feedback.get('safetyRatings'))})" + (f": {message}" if message else "")
    )
    draft.filter_fix = _GEMINI_FIX


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
        config = sampling_fields(
            request, max_tokens="maxOutputTokens", n="candidateCount", stop="stopSequences"
        )
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
        _absorb(draft, data)
        return draft.build()

    def stream_parser(self) -> GeminiStream:
        return GeminiStream()


class GeminiStream(DraftStream):
    """Each event is a partial ``GenerateContentResponse``; usage arrives cumulative."""

    finish_map = _FINISH

    def feed(self, event: str, data: str) -> list[StreamChunk]:
        return _absorb(self.draft, json.loads(data))
