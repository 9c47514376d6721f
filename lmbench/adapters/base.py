"""The adapter contract: signature + inputs -> messages; model text -> typed field values.

An adapter knows prompts and parsing and nothing about HTTP. ``format``, ``parse`` and
``render`` work without any LM; ``run`` (and ``arun``/``stream``/``astream``) make the LM call
through the call layer (``lmbench.calls.lm_call``) and parse every choice.

Subclasses implement ``format`` and ``parse_with_repairs``; they may override ``build_request``
(to ask for structured output) and ``partial_fields`` (field-level streaming). Adapters that
chain others (Fallback, TwoStep) override ``_steps`` and ``_stream_steps``: the work of a run
and of a stream, each written once as a generator of steps that the sync and async methods
both drive (see ``lmbench.adapters.steps``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextvars import ContextVar
from typing import Any, NamedTuple

from lmbench.adapters.results import (
    AdapterAttempt,
    AdapterResult,
    FieldDelta,
    ParseResult,
    Repair,
    field_deltas,
    final_deltas,
    last_written,
)
from lmbench.adapters.steps import Pull, Steps, adrive, adrive_stream, drive, drive_stream
from lmbench.calls import LMCall, active_callbacks, emit, lm_call
from lmbench.errors import AdapterParseError
from lmbench.lm.base import LM
from lmbench.lm.types import LMRequest, LMResponse, Message, Usage
from lmbench.signatures.signature import Signature

__all__ = [
    "STOPPED_EARLY",
    "Adapter",
    "AdapterAttempt",
    "AdapterResult",
    "Config",
    "Demos",
    "FieldDelta",
    "Inputs",
    "ParseResult",
    "Repair",
    "RunArgs",
    "cut_off_error",
    "restated",
]

#: Input field values by name.
Inputs = Mapping[str, Any]
#: Worked examples, each a mapping of input and output field values.
Demos = Sequence[Mapping[str, Any]]
#: A module's LM parameters and call options (``temperature``, ``n``, ``cache``...), or None.
Config = Mapping[str, Any] | None


class RunArgs(NamedTuple):
    """The arguments of one run, as ``run``/``arun``/``stream``/``astream`` received them."""

    lm: LM
    signature: Signature
    inputs: Inputs
    demos: Demos
    config: Mapping[str, Any]


# LM parameters an adapter passes through from a module's config to the request.
_REQUEST_PARAMS = frozenset(
    {"temperature", "max_tokens", "n", "stop", "seed", "tools", "tool_choice"}
)

# Set by FallbackAdapter while a later adapter runs: the adapter it fell back from, which the
# LM call records (``LMCall.set_parse(fallback_from=...)``).
fallback_from: ContextVar[str | None] = ContextVar("lmbench_fallback_from", default=None)


class Adapter(ABC):
    """Base of all adapters."""

    name: str = "Adapter"

    @abstractmethod
    def format(self, signature: Signature, inputs: Inputs, demos: Demos = ()) -> list[Message]:
        """The messages to send for these inputs (demos rendered as earlier turns)."""

    @abstractmethod
    def parse_with_repairs(self, signature: Signature, text: str) -> ParseResult:
        """Typed field values from the model's text, with every repair applied.

        Raises ``AdapterParseError`` when a field cannot be recovered.
        """

    def parse(self, signature: Signature, text: str) -> dict[str, Any]:
        """Typed field values from the model's text (see ``parse_with_repairs``)."""
        return self.parse_with_repairs(signature, text).values

    def render(self, signature: Signature, inputs: Inputs, demos: Demos = ()) -> str:
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
            k: v for k, v in config.items() if v is not None and k in _REQUEST_PARAMS
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

    def run(
        self, lm: LM, signature: Signature, inputs: Inputs, demos: Demos = (), config: Config = None
    ) -> AdapterResult:
        """Format, call the LM once, parse every choice."""
        return drive(self._steps(RunArgs(lm, signature, inputs, demos, config or {})))

    async def arun(
        self, lm: LM, signature: Signature, inputs: Inputs, demos: Demos = (), config: Config = None
    ) -> AdapterResult:
        """``run``, awaiting the LM."""
        return await adrive(self._steps(RunArgs(lm, signature, inputs, demos, config or {})))

    def stream(
        self, lm: LM, signature: Signature, inputs: Inputs, demos: Demos = (), config: Config = None
    ) -> Iterator[FieldDelta | AdapterResult]:
        """Yield ``FieldDelta`` as output fields arrive, then the ``AdapterResult``."""
        return drive_stream(self._stream_steps(RunArgs(lm, signature, inputs, demos, config or {})))

    def astream(
        self, lm: LM, signature: Signature, inputs: Inputs, demos: Demos = (), config: Config = None
    ) -> AsyncIterator[FieldDelta | AdapterResult]:
        """``stream``, awaiting the LM."""
        return adrive_stream(
            self._stream_steps(RunArgs(lm, signature, inputs, demos, config or {}))
        )

    def _steps(self, args: RunArgs) -> Steps[AdapterResult]:
        """The work of ``run``: one LM call, every choice parsed."""
        with self._open_call(args) as call:
            yield from call.steps()
            return self._parse_call(call, args.signature)

    def _stream_steps(self, args: RunArgs) -> Steps[None]:
        """The work of ``stream``: deltas of the first choice as it arrives, then the result."""
        with self._open_call(args) as call:
            chunks = Pull(call.stream, call.astream)
            text = ""
            seen: dict[str, str] = {}
            while (chunk := (yield chunks)) is not None:
                if chunk.index == 0 and chunk.text:
                    text += chunk.text
                    yield from field_deltas(self.partial_fields(args.signature, text), seen)
            result = self._parse_call(call, args.signature)
        yield from final_deltas(result, seen)
        yield result

    # ``emit`` does nothing when no callback listens; asking first (``active_callbacks()``) spares
    # building each event's payload on every call.

    def _request(self, args: RunArgs) -> LMRequest:
        """Format the messages (telling the callbacks) and build the LM request."""
        lm, signature, inputs, demos, config = args
        watched = bool(active_callbacks())
        if watched:
            emit("adapter_format_start", adapter=self.name, signature=signature, inputs=inputs)
        messages = self.format(signature, inputs, demos)
        if watched:
            emit("adapter_format_end", adapter=self.name, signature=signature, messages=messages)
        return self.build_request(lm, signature, messages, config)

    def _open_call(self, args: RunArgs) -> LMCall:
        """The LM call of a run, its request made (not yet entered)."""
        request = self._request(args)
        return lm_call(args.lm, request, adapter=self.name, cache=args.config.get("cache"))

    def _parse_text(self, signature: Signature, text: str) -> ParseResult:
        """One choice's parse in a run (``ReusesParses`` adapters reuse a parse seen before)."""
        return self.parse_with_repairs(signature, text)

    def _parse_call(self, call: LMCall, signature: Signature) -> AdapterResult:
        """Parse every choice of the call's response, recording the outcome on the call."""
        response = call.response
        assert response is not None
        completions: list[dict[str, Any]] = []
        repairs: list[Repair] = []
        watched = bool(call.watchers)
        if watched:
            emit(
                "adapter_parse_start", adapter=self.name, signature=signature, texts=response.texts
            )
        try:
            for text in response.texts:
                result = self._parse_text(signature, text)
                if response.finish_reason in STOPPED_EARLY:
                    _refuse_cut_off(self.name, signature, text, result, response.finish_reason)
                completions.append(result.values)
                repairs.extend(result.repairs)
        except AdapterParseError as failed:
            exc = _refused(failed, self.name, response)
            exc.usage = response.usage
            if watched:
                emit("adapter_parse_end", adapter=self.name, signature=signature, error=exc)
            call.set_parse(
                adapter=self.name,
                diagnostics=[r.to_dict() for r in repairs],
                error=exc,
                fallback_from=fallback_from.get(),
            )
            if exc is failed:
                raise
            raise exc from failed
        call.set_parse(
            adapter=self.name,
            diagnostics=[r.to_dict() for r in repairs],
            fallback_from=fallback_from.get(),
        )
        if watched:
            emit(
                "adapter_parse_end",
                adapter=self.name,
                signature=signature,
                outputs=completions,
                diagnostics=repairs,
            )
        attempt = AdapterAttempt(self.name, None, response.usage, repairs)
        return AdapterResult(completions, self.name, repairs, [attempt])

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


# Finish reasons of an answer stopped before the model ended it, and why.
STOPPED_EARLY = {
    "length": "the answer stopped at the token limit (finish_reason 'length') before it was "
    "complete, so its last value may be cut short; raise max_tokens",
    "content_filter": "the provider's content filter stopped the answer (finish_reason "
    "'content_filter') before it was complete, so its last value may be cut short",
}

# Repairs that close an answer the model did not finish: stopped early (see STOPPED_EARLY), its
# last value may be cut short, and a field left out (filled with None or its default) may be
# one it had not reached yet.
_UNFINISHED = frozenset(
    {"missing_completed", "json_repair", "bare_value", "missing_optional", "missing_default"}
)


def _refuse_cut_off(
    adapter: str, signature: Signature, text: str, result: ParseResult, finish: str
) -> None:
    """Refuse an answer stopped early that was read only by closing it: the value being
    written when it stopped (the last field in the text) may be incomplete."""
    if any(r.rule in _UNFINISHED for r in result.repairs):
        raise cut_off_error(adapter, signature, text, result.values, finish)


def cut_off_error(
    adapter: str,
    signature: Signature,
    text: str,
    parsed: dict[str, Any] | None = None,
    finish: str = "length",
) -> AdapterParseError:
    """The error for an answer stopped early (``finish``: a key of ``STOPPED_EARLY``)."""
    names = list(signature.output_fields)
    return AdapterParseError(
        STOPPED_EARLY[finish],
        adapter=adapter,
        field=last_written(names, text) or names[0],
        expected=f"a complete answer ({', '.join(names)})",
        raw=text,
        parsed=parsed,
        span=(0, len(text)),
    )


def _refused(error: AdapterParseError, adapter: str, response: LMResponse) -> AdapterParseError:
    """``error``, told as the model's refusal when the answer was one (then no fallback
    adapter asks again: the model would refuse again, and each try is billed)."""
    refusal = response.metadata.get("refusal")
    if refusal is None:
        return error
    told = restated(
        error,
        f"the model refused ({refusal.get('note')}), so its answer has none of the fields; "
        "it is not asked again. Rephrase the input",
        adapter,
        response.usage,
    )
    told.refusal = refusal
    return told


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


def restated(
    error: AdapterParseError, reason: str, adapter: str, usage: Usage | None
) -> AdapterParseError:
    """``error`` told by ``adapter`` for ``reason``: same field, expected form, raw text,
    parsed values and span; ``usage`` is the tokens of every call behind it."""
    told = AdapterParseError(
        reason,
        adapter=adapter,
        field=error.field,
        expected=error.expected,
        raw=error.raw,
        parsed=error.parsed,
        span=error.span,
    )
    told.usage = usage
    return told
