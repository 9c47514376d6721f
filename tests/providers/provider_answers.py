"""One good answer per wire format, whole and streamed, for the tests that run the same fault
against every provider: ``PROVIDERS`` maps a registry name to its wire format's answers."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from provider_faults import chat_body, chat_events

__all__ = ["PROVIDERS", "Answers"]


def _sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


def _anthropic_body(text: str) -> dict[str, Any]:
    return {
        "id": "msg_1",
        "type": "message",
        "model": "claude-3-5-haiku-latest",
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 3, "output_tokens": 1},
    }


def _anthropic_events(text: str) -> list[str]:
    return [
        _sse("message_start", {"type": "message_start", "message": _anthropic_body("")}),
        _sse(
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text"}},
        ),
        _sse(
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": text},
            },
        ),
        _sse(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn"},
                "usage": {"output_tokens": 1},
            },
        ),
        _sse("message_stop", {"type": "message_stop"}),
    ]


def _gemini_body(text: str) -> dict[str, Any]:
    return {
        "candidates": [
            {
                "content": {"role": "model", "parts": [{"text": text}]},
                "finishReason": "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 1},
        "modelVersion": "gemini-2.0-flash",
    }


def _gemini_events(text: str) -> list[str]:
    return [f"data: {json.dumps(_gemini_body(text))}\n\n"]


def _cohere_body(text: str) -> dict[str, Any]:
    return {
        "id": "c1",
        "finish_reason": "COMPLETE",
        "message": {"role": "assistant", "content": [{"type": "text", "text": text}]},
        "usage": {"billed_units": {"input_tokens": 3, "output_tokens": 1}},
    }


def _cohere_events(text: str) -> list[str]:
    delta = {"message": {"content": {"type": "text", "text": text}}}
    end = {
        "finish_reason": "COMPLETE",
        "usage": {"billed_units": {"input_tokens": 3, "output_tokens": 1}},
    }
    return [
        _sse("message-start", {"type": "message-start", "id": "c1"}),
        _sse("content-delta", {"type": "content-delta", "index": 0, "delta": delta}),
        _sse("message-end", {"type": "message-end", "delta": end}),
    ]


def _ollama_body(text: str) -> dict[str, Any]:
    return {
        "model": "llama3",
        "message": {"role": "assistant", "content": text},
        "done": True,
        "done_reason": "stop",
        "prompt_eval_count": 3,
        "eval_count": 1,
    }


def _ollama_events(text: str) -> list[str]:
    first = {"model": "llama3", "message": {"role": "assistant", "content": text}, "done": False}
    return [json.dumps(first) + "\n", json.dumps(_ollama_body("")) + "\n"]


@dataclass(frozen=True)
class Answers:
    """A provider's registry name, and its API's answer to a call: whole, and as events."""

    name: str
    body: Callable[[str], dict[str, Any]]
    events: Callable[[str], list[str]]
    content_type: str = "text/event-stream"


PROVIDERS: dict[str, Answers] = {
    "openai-compatible": Answers("openai-compatible/m", chat_body, lambda t: chat_events(t)),
    "mistral": Answers("mistral/mistral-small-latest", chat_body, lambda t: chat_events(t)),
    "openrouter": Answers("openrouter/openai/gpt-4o-mini", chat_body, lambda t: chat_events(t)),
    "anthropic": Answers("anthropic/claude-3-5-haiku-latest", _anthropic_body, _anthropic_events),
    "gemini": Answers("gemini/gemini-2.0-flash", _gemini_body, _gemini_events),
    "cohere": Answers("cohere/command-r", _cohere_body, _cohere_events),
    "ollama": Answers("ollama/llama3", _ollama_body, _ollama_events, "application/x-ndjson"),
}
