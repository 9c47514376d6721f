"""Responses as stored data: the one form written by the disk cache and by replay files.

A ``Codec`` turns one kind of response into JSON-able data and back, and copies a decoded
response for a caller. Storing never keeps raw provider data and always redacts the
metadata (``stored_response``), so neither a cache folder nor a recording carries a key.
Each kind of model call (LM calls here; embeddings elsewhere) brings its own codec.
"""

from __future__ import annotations

from typing import Any, ClassVar, Generic, Protocol, TypeVar

from lmbench.lm.types import LMResponse, ToolCall, Usage
from lmbench.secrets import redact

__all__ = [
    "LM_RESPONSES",
    "Codec",
    "LMResponseCodec",
    "ResponseCodec",
    "copied_facts",
    "json_copy",
    "stored_response",
]

R = TypeVar("R")


class Codec(Protocol[R]):
    """How responses of one kind are stored (``encode``/``decode``) and handed out (``copy``)."""

    def encode(self, response: R) -> dict[str, Any]: ...

    def decode(self, data: dict[str, Any]) -> R: ...

    def copy(self, response: R) -> R: ...


def stored_response(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` (a response's ``to_dict()``) as it may be stored: no raw provider data, and
    its metadata redacted of secrets."""
    data.pop("raw", None)
    if "metadata" in data:
        data["metadata"] = redact(data["metadata"] or {})
    return data


def json_copy(value: Any) -> Any:
    """A copy of decoded JSON data (dicts, lists and scalars) that shares nothing mutable."""
    if isinstance(value, dict):
        return {key: json_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_copy(item) for item in value]
    return value


class ResponseCodec(Generic[R]):
    """A ``Codec`` for a response type with ``to_dict``/``from_dict``: stored as its
    ``to_dict()`` (through ``stored_response``) and read back with ``from_dict``; a subclass
    names the type and says how to ``copy`` one."""

    response_type: ClassVar[Any]

    def encode(self, response: R) -> dict[str, Any]:
        return stored_response(response.to_dict())  # type: ignore[attr-defined]

    def decode(self, data: dict[str, Any]) -> R:
        return self.response_type.from_dict(data)  # type: ignore[no-any-return]


class LMResponseCodec(ResponseCodec[LMResponse]):
    """``LMResponse`` as stored data."""

    response_type = LMResponse

    def copy(self, response: LMResponse) -> LMResponse:
        """A copy for one caller (far cheaper than decoding the stored text again)."""
        return LMResponse(
            texts=list(response.texts),
            tool_calls=[
                ToolCall(
                    call.name,
                    json_copy(call.arguments),
                    call.id,
                    json_copy(call.provider_data),
                    call.arguments_error,
                )
                for call in response.tool_calls
            ],
            finish_reason=response.finish_reason,
            ttft_s=response.ttft_s,
            **copied_facts(response),
        )


def copied_facts(response: Any) -> dict[str, Any]:
    """A model response's call facts (model, provider, usage, request id, latency, attempts,
    metadata) as keyword arguments, copied so that nothing mutable is shared; the raw body is
    left behind, as storing drops it."""
    usage = response.usage
    return {
        "model": response.model,
        "provider": response.provider,
        "usage": Usage(
            usage.input_tokens, usage.output_tokens, usage.cached_tokens, usage.reasoning_tokens
        ),
        "request_id": response.request_id,
        "latency_s": response.latency_s,
        "attempts": list(response.attempts),
        "metadata": json_copy(response.metadata) if response.metadata else {},
    }


LM_RESPONSES = LMResponseCodec()
