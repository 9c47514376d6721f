"""Plain data that flows between modules, adapters and providers.

A request is messages plus parameters; a response is text(s), tool calls, usage and
metadata. Providers translate these to and from their wire formats and know nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

__all__ = [
    "Attempt",
    "Capabilities",
    "ContentPart",
    "LMRequest",
    "LMResponse",
    "Message",
    "StreamChunk",
    "ToolCall",
    "ToolSpec",
    "Usage",
    "response_facts_from_dict",
    "response_facts_to_dict",
]

Role = Literal["system", "user", "assistant", "tool"]

# A content part is a small dict, e.g. {"type": "text", "text": "..."} or
# {"type": "image", "url": "https://..."} / {"type": "image", "data": "<base64>", "media_type": "image/png"}.
ContentPart = dict[str, Any]


@dataclass(frozen=True)
class ToolCall:
    """A function call requested by the model.

    ``provider_data`` is opaque state the provider needs back when the call is replayed in a
    later turn (e.g. Gemini's thought signature); pass it through unchanged.
    ``arguments_error`` says why the arguments as sent could not be read as they are (not a
    JSON object, or JSON cut off or broken): ``arguments`` is then only a best-effort repair,
    never to be run as if the model had sent it.
    """

    name: str
    arguments: dict[str, Any]
    id: str | None = None
    provider_data: dict[str, Any] | None = None
    arguments_error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "name": self.name, "arguments": self.arguments}
        if self.provider_data:
            out["provider_data"] = self.provider_data
        if self.arguments_error:
            out["arguments_error"] = self.arguments_error
        return out


@dataclass(frozen=True)
class Message:
    """One chat message. ``content`` is text, or a list of content parts for multimodal input."""

    role: Role
    content: str | list[ContentPart] = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None

    @property
    def text(self) -> str:
        """The text of the message, joining text parts when content is multimodal."""
        if isinstance(self.content, str):
            return self.content
        return "".join(p.get("text", "") for p in self.content if p.get("type") == "text")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            out["tool_calls"] = [t.to_dict() for t in self.tool_calls]
        if self.tool_call_id:
            out["tool_call_id"] = self.tool_call_id
        if self.name:
            out["name"] = self.name
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Message:
        return cls(
            role=data["role"],
            content=data.get("content", ""),
            tool_calls=tuple(ToolCall(**t) for t in data.get("tool_calls", ())),
            tool_call_id=data.get("tool_call_id"),
            name=data.get("name"),
        )


@dataclass(frozen=True)
class ToolSpec:
    """A tool the model may call: name, description and a JSON schema of its arguments."""

    name: str
    description: str
    parameters: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "parameters": self.parameters}


@dataclass(frozen=True)
class LMRequest:
    """What a module asks of an LM.

    ``response_schema`` is a JSON schema for structured output (providers that support it
    constrain decoding with it). ``extra`` carries provider-specific body fields verbatim.
    """

    messages: tuple[Message, ...]
    temperature: float | None = None
    max_tokens: int | None = None
    n: int = 1
    stop: tuple[str, ...] = ()
    seed: int | None = None
    response_schema: dict[str, Any] | None = None
    response_schema_name: str = "output"
    tools: tuple[ToolSpec, ...] = ()
    tool_choice: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def replace(self, **changes: Any) -> LMRequest:
        return replace(self, **changes)

    def params(self) -> dict[str, Any]:
        """The non-message parameters as a plain dict (for history and cache keys)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "messages":
                continue
            value = getattr(self, f.name)
            if f.name == "tools":
                value = [t.to_dict() for t in value]
            elif f.name == "stop":
                value = list(value)
            out[f.name] = value
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"messages": [m.to_dict() for m in self.messages], **self.params()}


@dataclass
class Usage:
    """Token counts of one or more calls. Adding two Usages sums every count."""

    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cached_tokens + other.cached_tokens,
            self.reasoning_tokens + other.reasoning_tokens,
        )

    def to_dict(self) -> dict[str, int]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cached_tokens": self.cached_tokens,
            "reasoning_tokens": self.reasoning_tokens,
        }


@dataclass(frozen=True)
class Attempt:
    """One try of a remote call, as recorded by the retry loop.

    ``retry_budget`` is what the provider's retry budget held after this attempt (tokens; see
    ``lmbench.providers.retry_budget``), None when no budget is in force.
    """

    number: int
    status: int | None
    error: str | None
    wait_s: float
    reason: str
    retry_budget: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "status": self.status,
            "error": self.error,
            "wait_s": self.wait_s,
            "reason": self.reason,
            "retry_budget": self.retry_budget,
        }


@dataclass(frozen=True)
class Capabilities:
    """What a model can do natively; adapters use this to pick a strategy."""

    structured_output: bool = False  # honours LMRequest.response_schema
    tools: bool = False
    streaming: bool = True
    multiple_choices: bool = False  # honours n > 1 in one request
    # Small models that follow free-form formats poorly but decode JSON under a grammar
    # reliably: the default adapter asks them for structured output first.
    prefers_structured_output: bool = False
    # Media kinds ("image", "audio", "document") the model takes; None: whatever its API takes.
    media: frozenset[str] | None = None


@dataclass
class LMResponse:
    """What an LM returned. ``texts`` has one entry per choice (``n``)."""

    texts: list[str]
    model: str = ""
    provider: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    finish_reason: str | None = None
    request_id: str | None = None
    latency_s: float = 0.0
    ttft_s: float | None = None
    attempts: list[Attempt] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    raw: Any = None

    @property
    def text(self) -> str:
        return self.texts[0] if self.texts else ""

    def to_dict(self, *, include_raw: bool = False) -> dict[str, Any]:
        return {
            "texts": list(self.texts),
            "tool_calls": [t.to_dict() for t in self.tool_calls],
            "finish_reason": self.finish_reason,
            "ttft_s": self.ttft_s,
            **response_facts_to_dict(self, include_raw=include_raw),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LMResponse:
        return cls(
            texts=list(data["texts"]),
            tool_calls=[ToolCall(**t) for t in data.get("tool_calls", [])],
            finish_reason=data.get("finish_reason"),
            ttft_s=data.get("ttft_s"),
            **response_facts_from_dict(data),
        )


def response_facts_to_dict(response: Any, *, include_raw: bool) -> dict[str, Any]:
    """JSON-able data for what every model response (``LMResponse``, ``EmbeddingResponse``)
    records about its call: model, provider, usage, request id, latency, attempts, metadata,
    and the raw body when ``include_raw``."""
    out: dict[str, Any] = {
        "model": response.model,
        "provider": response.provider,
        "usage": response.usage.to_dict(),
        "request_id": response.request_id,
        "latency_s": response.latency_s,
        "attempts": [a.to_dict() for a in response.attempts],
        "metadata": dict(response.metadata),
    }
    if include_raw:
        out["raw"] = response.raw
    return out


def response_facts_from_dict(data: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments ``response_facts_to_dict`` wrote, read back (absent ones as the
    defaults)."""
    return {
        "model": data.get("model", ""),
        "provider": data.get("provider", ""),
        "usage": Usage(**data.get("usage", {})),
        "request_id": data.get("request_id"),
        "latency_s": data.get("latency_s", 0.0),
        "attempts": [Attempt(**a) for a in data.get("attempts", [])],
        "metadata": dict(data.get("metadata", {})),
        "raw": data.get("raw"),
    }


@dataclass(frozen=True)
class StreamChunk:
    """A piece of a streamed response.

    ``text`` is the new text for choice ``index``. The last chunk of every stream carries
    the assembled ``response`` (full text, usage, finish reason); earlier ones leave it None.
    """

    text: str = ""
    index: int = 0
    response: LMResponse | None = None
