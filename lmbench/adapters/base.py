"""The adapter contract: signature + inputs -> messages; model text -> typed field values.

An adapter knows prompts and parsing and nothing about HTTP. ``format``, ``parse`` and
``render`` work without any LM; ``run`` (and ``arun``/``stream``) make the LM call through the
observed seam (``lmbench.observe.lm_call``) and parse every choice.

Subclasses implement ``format`` and ``parse_with_repairs``; they may override ``build_request``
(to ask for structured output), ``partial_fields`` (field-level streaming) and ``run``
(adapters that chain others, such as Fallback and TwoStep).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from lmbench.errors import AdapterParseError
from lmbench.lm.base import LM
from lmbench.lm.types import LMRequest, Message, Usage
from lmbench.observe.callbacks import emit
from lmbench.observe.calls import LMCall, lm_call
from lmbench.signatures.signature import Signature

__all__ = [
    "Adapter",
    "AdapterAttempt",
    "AdapterResult",
    "FieldDelta",
    "ParseResult",
    "Repair",
]


@dataclass(frozen=True)
class Repair:
    """One tolerant-parsing rule that fired: which rule, on which field, and what it changed."""

    rule: str
    field: str | None = None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "field": self.field, "detail": self.detail}


@dataclass
class ParseResult:
    values: dict[str, Any]
    repairs: list[Repair] = field(default_factory=list)


@dataclass
class AdapterAttempt:
    """One adapter's try at a call: the error if it failed, and the tokens it used."""

    adapter: str
    error: str | None = None
    usage: Usage = field(default_factory=Usage)
    repairs: list[Repair] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "adapter": self.adapter,
            "error": self.error,
            "usage": self.usage.to_dict(),
            "repairs": [r.to_dict() for r in self.repairs],
        }


@dataclass
class AdapterResult:
    """What ``Adapter.run`` returns: one dict of values per choice, and how they were obtained."""

    completions: list[dict[str, Any]]
    adapter: str
    repairs: list[Repair] = field(default_factory=list)
    attempts: list[AdapterAttempt] = field(default_factory=list)


@dataclass(frozen=True)
class FieldDelta:
    """New text of one output field while streaming."""

    field: str
    text: str  # the text added since the last delta of this field
    value_so_far: str  # the field's whole text so far


# LM parameters an adapter passes through from a module's config to the request.
_REQUEST_PARAMS = ("temperature", "max_tokens", "n", "stop", "seed", "tools", "tool_choice")

# Set by FallbackAdapter while a later adapter runs: the adapter it fell back from, which the
# LM call records (``LMCall.set_parse(fallback_from=...)``).
fallback_from: ContextVar[str | None] = ContextVar("lmbench_fallback_from", default=None)


class Adapter(ABC):
    """Base of all adapters."""

    name: str = "Adapter"

    @abstractmethod
    def format(
        self,
        signature: Signature,
        inputs: Mapping[str, Any],
        demos: Sequence[Mapping[str, Any]] = (),
    ) -> list[Message]:
        """The messages to send for these inputs (demos rendered as earlier turns)."""

    @abstractmethod
    def parse_with_repairs(self, signature: Signature, text: str) -> ParseResult:
        """Typed field values from the model's text, with every repair applied.

        Raises ``AdapterParseError`` when a field cannot be recovered.
        """

    def parse(self, signature: Signature, text: str) -> dict[str, Any]:
        """Typed field values from the model's text (see ``parse_with_repairs``)."""
        return self.parse_with_repairs(signature, text).values

    def render(
        self,
        signature: Signature,
        inputs: Mapping[str, Any],
        demos: Sequence[Mapping[str, Any]] = (),
    ) -> str:
        """The exact prompt as readable text, without calling any LM."""
        parts = []
        for message in self.format(signature, inputs, demos):
            parts.append(f"--- {message.role} ---\n{_readable(message)}")
        return "\n\n".join(parts)

    def build_request(
        self, lm: LM, signature: Signature, messages: list[Message], config: Mapping[str, Any]
    ) -> LMRequest:
        """The LM request for these messages; adapters that want structured output add a schema."""
        params: dict[str, Any] = {
            k: config[k] for k in _REQUEST_PARAMS if config.get(k) is not None
        }
        if "stop" in params:
            params["stop"] = tuple(params["stop"])
        return LMRequest(messages=tuple(messages), **params)

    def uses_structured_output(self, lm: LM) -> bool:
        """Whether this adapter's requests to ``lm`` carry a ``response_schema``."""
        return False

    def partial_fields(self, signature: Signature, text: str) -> dict[str, str]:
        """Best-effort text of each output field in an incomplete answer (for streaming)."""
        return {}

    # -- running -----------------------------------------------------------------------------

    def _request(
        self,
        lm: LM,
        signature: Signature,
        inputs: Mapping[str, Any],
        demos: Sequence[Mapping[str, Any]],
        config: Mapping[str, Any],
    ) -> LMRequest:
        """Format the messages (telling the callbacks) and build the LM request."""
        emit("adapter_format_start", adapter=self.name, signature=signature, inputs=inputs)
        messages = self.format(signature, inputs, demos)
        emit("adapter_format_end", adapter=self.name, signature=signature, messages=messages)
        return self.build_request(lm, signature, messages, config)

    def _parse_call(self, call: LMCall, signature: Signature) -> AdapterResult:
        response = call.response
        assert response is not None
        completions: list[dict[str, Any]] = []
        repairs: list[Repair] = []
        emit("adapter_parse_start", adapter=self.name, signature=signature, texts=response.texts)
        try:
            for text in response.texts:
                result = self.parse_with_repairs(signature, text)
                completions.append(result.values)
                repairs.extend(result.repairs)
        except AdapterParseError as exc:
            exc.usage = response.usage
            emit("adapter_parse_end", adapter=self.name, signature=signature, error=exc)
            call.set_parse(
                adapter=self.name,
                diagnostics=[r.to_dict() for r in repairs],
                error=exc,
                fallback_from=fallback_from.get(),
            )
            raise
        call.set_parse(
            adapter=self.name,
            diagnostics=[r.to_dict() for r in repairs],
            fallback_from=fallback_from.get(),
        )
        emit(
            "adapter_parse_end",
            adapter=self.name,
            signature=signature,
            outputs=completions,
            diagnostics=repairs,
        )
        attempt = AdapterAttempt(self.name, None, response.usage, repairs)
        return AdapterResult(completions, self.name, repairs, [attempt])

    def run(
        self,
        lm: LM,
        signature: Signature,
        inputs: Mapping[str, Any],
        demos: Sequence[Mapping[str, Any]] = (),
        config: Mapping[str, Any] | None = None,
    ) -> AdapterResult:
        """Format, call the LM once, parse every choice."""
        config = config or {}
        request = self._request(lm, signature, inputs, demos, config)
        with lm_call(lm, request, adapter=self.name, cache=config.get("cache")) as call:
            call.run()
            return self._parse_call(call, signature)

    async def arun(
        self,
        lm: LM,
        signature: Signature,
        inputs: Mapping[str, Any],
        demos: Sequence[Mapping[str, Any]] = (),
        config: Mapping[str, Any] | None = None,
    ) -> AdapterResult:
        config = config or {}
        request = self._request(lm, signature, inputs, demos, config)
        with lm_call(lm, request, adapter=self.name, cache=config.get("cache")) as call:
            await call.arun()
            return self._parse_call(call, signature)

    def stream(
        self,
        lm: LM,
        signature: Signature,
        inputs: Mapping[str, Any],
        demos: Sequence[Mapping[str, Any]] = (),
        config: Mapping[str, Any] | None = None,
    ) -> Iterator[FieldDelta | AdapterResult]:
        """Yield ``FieldDelta`` as output fields arrive, then the ``AdapterResult``."""
        config = config or {}
        request = self._request(lm, signature, inputs, demos, config)
        with lm_call(lm, request, adapter=self.name, cache=config.get("cache")) as call:
            text = ""
            seen: dict[str, str] = {}
            for chunk in call.stream():
                if chunk.index != 0 or not chunk.text:
                    continue
                text += chunk.text
                yield from _deltas(self.partial_fields(signature, text), seen)
            result = self._parse_call(call, signature)
        yield from _final_deltas(result, seen)
        yield result

    async def astream(
        self,
        lm: LM,
        signature: Signature,
        inputs: Mapping[str, Any],
        demos: Sequence[Mapping[str, Any]] = (),
        config: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[FieldDelta | AdapterResult]:
        config = config or {}
        request = self._request(lm, signature, inputs, demos, config)
        with lm_call(lm, request, adapter=self.name, cache=config.get("cache")) as call:
            text = ""
            seen: dict[str, str] = {}
            async for chunk in call.astream():
                if chunk.index != 0 or not chunk.text:
                    continue
                text += chunk.text
                for delta in _deltas(self.partial_fields(signature, text), seen):
                    yield delta
            result = self._parse_call(call, signature)
        for delta in _final_deltas(result, seen):
            yield delta
        yield result

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _final_deltas(result: AdapterResult, seen: dict[str, str]) -> Iterator[FieldDelta]:
    """Deltas that bring each field of the first completion to its parsed value, as prompt text."""
    from lmbench.adapters.values import format_value

    return _deltas({k: format_value(v) for k, v in result.completions[0].items()}, seen, final=True)


def _readable(message: Message) -> str:
    """A message's text, with each media part shown as a short placeholder."""
    if isinstance(message.content, str):
        return message.content
    pieces = []
    for part in message.content:
        if part.get("type") == "text":
            pieces.append(part.get("text", ""))
        elif part.get("url"):
            pieces.append(f"[{part.get('type')}: {part['url']}]")
        else:
            size = len(part.get("data") or "") * 3 // 4
            pieces.append(f"[{part.get('type')}: {part.get('media_type')}, {size} bytes]")
    return "".join(pieces)


def _deltas(
    partial: dict[str, str], seen: dict[str, str], final: bool = False
) -> Iterator[FieldDelta]:
    """Turn the latest partial field texts into deltas against what was already yielded."""
    for name, value in partial.items():
        before = seen.get(name, "")
        if value == before:
            continue
        if value.startswith(before):
            yield FieldDelta(name, value[len(before) :], value)
        elif not final:
            continue  # a partial parse revised earlier text; wait for more
        else:
            yield FieldDelta(name, value, value)
        seen[name] = value
