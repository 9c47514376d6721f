"""``HistoryEntry``: the record of one LM call (kind ``"lm"``), one module call (``"module"``),
or one scored row of an evaluation run (``"eval"``, its row data in ``metadata``).

Entries hold references to the request and response objects, not copies: making one costs a
few microseconds. They are serialised (and secrets redacted) only when ``to_dict`` is called,
i.e. when a collector writes to disk or a DataFrame is built.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from lmbench.display import RichDisplay
from lmbench.lm.stored import stored_response
from lmbench.lm.types import Attempt, LMRequest, LMResponse, Message, ToolSpec, Usage
from lmbench.money import format_usd
from lmbench.private_data import redact_private_fields
from lmbench.secrets import redact
from lmbench.storable import storable_json

__all__ = [
    "ROLLUP_KINDS",
    "SESSION_ID",
    "CacheResult",
    "EntryKind",
    "HistoryEntry",
    "entry_to_json",
    "json_default",
]

#: ``"module"``, ``"lm"``, ``"eval"`` (a scored row of an evaluation run), or the
#: ``entry_kind`` of another kind of model call (``"embedding"``).
EntryKind = str
#: Entries that add up the model calls below them (their cost is never counted twice).
ROLLUP_KINDS = frozenset({"module", "eval"})
CacheResult = Literal["off", "miss", "memory", "disk", "replay"]


def _new_session_id() -> str:
    return uuid.uuid4().hex[:12]


#: One id per process run, so ``history.cost()`` can roll costs up by session.
SESSION_ID = _new_session_id()


def _reset_session_after_fork() -> None:
    global SESSION_ID
    SESSION_ID = _new_session_id()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_session_after_fork)


# What a call said and got (the fields private-data redaction applies to).
_CONTENT_FIELDS = ("request", "response", "metadata", "diagnostics", "error", "raw")


@dataclass(slots=True, eq=False)
class HistoryEntry(RichDisplay):
    """One call, as history keeps it. See the module docstring for the cost model."""

    kind: EntryKind
    call_id: str
    parent_id: str | None
    root_id: str
    session_id: str
    timestamp: float  # wall clock (epoch seconds) at the start of the call
    module: str | None = None
    signature: str | None = None
    provider: str | None = None
    model: str | None = None  # requested
    response_model: str | None = None  # reported by the provider as actually used
    request: Any = None  # an LMRequest for an LM call; another kind's own request type
    response: Any = None  # likewise: an LMResponse, or another kind's response
    usage: Usage = field(default_factory=Usage)
    cost_usd: float | None = 0.0
    cost_known: bool = True
    saved_usd: float | None = None  # cost a cache hit avoided
    latency_s: float = 0.0
    ttft_s: float | None = None
    stream: bool = False
    cache: CacheResult = "off"
    cache_key: str | None = None
    attempts: list[Attempt] = field(default_factory=list)
    adapter: str | None = None
    fallback_from: str | None = None
    diagnostics: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    raw: Any = None
    run_id: str | None = None  # the evaluation or batch run the call belongs to

    # -- convenient views -------------------------------------------------------------
    @property
    def texts(self) -> list[str]:
        return list(getattr(self.response, "texts", ()))

    @property
    def text(self) -> str:
        return str(getattr(self.response, "text", ""))

    @property
    def messages(self) -> tuple[Message, ...]:
        return tuple(getattr(self.request, "messages", ()))

    @property
    def finish_reason(self) -> str | None:
        return getattr(self.response, "finish_reason", None)

    @property
    def refusal(self) -> dict[str, Any] | None:
        """How the model refused or a filter stopped its answer (``reason``, ``note``), when
        the answer it sent came with one; None otherwise."""
        metadata = getattr(self.response, "metadata", None)
        return metadata.get("refusal") if isinstance(metadata, dict) else None

    @property
    def cache_hit(self) -> bool:
        return self.cache in ("memory", "disk")

    @property
    def is_model_call(self) -> bool:
        """A call that reached a model (LM, embedding, ...): "module" and "eval" entries only
        roll up the model calls below them, so totals count model calls alone."""
        return self.kind not in ROLLUP_KINDS

    def __repr__(self) -> str:
        what = self.module if self.kind == "module" else self.model
        cost = format_usd(self.cost_usd, unknown="?")
        return (
            f"<HistoryEntry {self.kind} {what} id={self.call_id} "
            f"tokens={self.usage.total_tokens} cost={cost} cache={self.cache}"
            f"{' error' if self.error else ''}>"
        )

    # -- serialisation ----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-able data with secrets redacted, and private data too when redaction is on
        (``lmbench.private_data``); ``from_dict`` turns it back into an entry."""
        data = {
            "kind": self.kind,
            "call_id": self.call_id,
            "parent_id": self.parent_id,
            "root_id": self.root_id,
            "session_id": self.session_id,
            "timestamp": self.timestamp,
            "module": self.module,
            "signature": self.signature,
            "provider": self.provider,
            "model": self.model,
            "response_model": self.response_model,
            "request": None if self.request is None else redact(self.request.to_dict()),
            "response": None if self.response is None else stored_response(self.response.to_dict()),
            "usage": self.usage.to_dict(),
            "cost_usd": self.cost_usd,
            "cost_known": self.cost_known,
            "saved_usd": self.saved_usd,
            "latency_s": self.latency_s,
            "ttft_s": self.ttft_s,
            "stream": self.stream,
            "cache": self.cache,
            "cache_key": self.cache_key,
            "attempts": [a.to_dict() for a in self.attempts],
            "adapter": self.adapter,
            "fallback_from": self.fallback_from,
            "diagnostics": list(self.diagnostics),
            "metadata": redact(self.metadata),
            "error": self.error,
            "raw": None if self.raw is None else redact(self.raw),
            "run_id": self.run_id,
        }
        return redact_private_fields(data, _CONTENT_FIELDS)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HistoryEntry:
        request = data.get("request")
        response = data.get("response")
        if data["kind"] == "lm":  # other kinds keep their request and response as data
            request = None if request is None else _request_from_dict(request)
            response = None if response is None else LMResponse.from_dict(response)
        return cls(
            kind=data["kind"],
            call_id=data["call_id"],
            parent_id=data.get("parent_id"),
            root_id=data.get("root_id") or data["call_id"],
            session_id=data.get("session_id", ""),
            timestamp=float(data.get("timestamp", 0.0)),
            module=data.get("module"),
            signature=data.get("signature"),
            provider=data.get("provider"),
            model=data.get("model"),
            response_model=data.get("response_model"),
            request=request,
            response=response,
            usage=Usage(**data.get("usage", {})),
            cost_usd=data.get("cost_usd"),
            cost_known=data.get("cost_known", data.get("cost_usd") is not None),
            saved_usd=data.get("saved_usd"),
            latency_s=float(data.get("latency_s", 0.0)),
            ttft_s=data.get("ttft_s"),
            stream=bool(data.get("stream", False)),
            cache=data.get("cache", "off"),
            cache_key=data.get("cache_key"),
            attempts=[Attempt(**a) for a in data.get("attempts", [])],
            adapter=data.get("adapter"),
            fallback_from=data.get("fallback_from"),
            diagnostics=list(data.get("diagnostics", [])),
            metadata=dict(data.get("metadata") or {}),
            error=data.get("error"),
            raw=data.get("raw"),
            run_id=data.get("run_id"),
        )


def _request_from_dict(data: dict[str, Any]) -> LMRequest:
    return LMRequest(
        messages=tuple(Message.from_dict(m) for m in data.get("messages", [])),
        temperature=data.get("temperature"),
        max_tokens=data.get("max_tokens"),
        n=data.get("n", 1),
        stop=tuple(data.get("stop", ())),
        seed=data.get("seed"),
        response_schema=data.get("response_schema"),
        response_schema_name=data.get("response_schema_name", "output"),
        tools=tuple(ToolSpec(**t) for t in data.get("tools", ())),
        tool_choice=data.get("tool_choice"),
        extra=dict(data.get("extra") or {}),
    )


def json_default(value: Any) -> Any:
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    model_dump = getattr(value, "model_dump", None)
    if callable(model_dump):
        return model_dump(mode="json")
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return repr(value)


def entry_to_json(entry: HistoryEntry) -> str:
    """One line of JSON (no newline inside) for JSONL and SQLite storage.

    Text holding lone surrogates (which UTF-8 cannot store) is kept, written escaped
    (``\\ud83d``), rather than losing the entry when it is saved.
    """
    return storable_json(entry.to_dict(), default=json_default)
