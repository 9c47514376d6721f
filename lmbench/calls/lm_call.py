"""LM calls: the ``lm`` kind of model call, and ``lm_call``, where every adapter calls a model.

``with lm_call(lm, request, adapter="ChatAdapter") as call:`` makes one LM call inside the
current module call (``call.run()``, ``call.stream()``, ``await call.arun()``,
``call.astream()``), and ``call.set_parse(...)`` attaches what the adapter made of the text.
When the block ends the call is finished and recorded, failed or not.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar

from lmbench.calls.kind import CallKind
from lmbench.calls.model_call import ModelCall
from lmbench.errors import describe_error
from lmbench.lm.base import LM
from lmbench.lm.cache_key import cache_key
from lmbench.lm.stored import LM_RESPONSES, LMResponseCodec
from lmbench.lm.types import LMRequest, LMResponse, StreamChunk, Usage
from lmbench.logs import log_parse_diagnostics
from lmbench.observe.cost import Price, context_window, estimate_usage, price_of

__all__ = ["LMCall", "LMKind", "lm_call"]

_REPLAY_CHUNK = 16
_PREVIEW_WORDS = 12


class LMKind(CallKind[LM, LMRequest, LMResponse]):
    """Chat and completion calls to an ``LM``."""

    entry_kind: ClassVar[str] = "lm"
    event: ClassVar[str] = "lm"
    client_name: ClassVar[str] = "lm"
    codec: ClassVar[LMResponseCodec] = LM_RESPONSES

    def send(self, client: LM, request: LMRequest) -> LMResponse:
        return client.generate(request)

    async def asend(self, client: LM, request: LMRequest) -> LMResponse:
        return await client.agenerate(request)

    def stream(self, client: LM, request: LMRequest) -> Iterator[StreamChunk]:
        return client.stream(request)

    def astream(self, client: LM, request: LMRequest) -> AsyncIterator[StreamChunk]:
        return client.astream(request)

    def response_of(self, chunk: StreamChunk) -> LMResponse | None:
        return chunk.response

    def as_chunks(self, response: LMResponse) -> Iterator[StreamChunk]:
        """Each choice's text in small chunks, then the response."""
        for index, text in enumerate(response.texts):
            for start in range(0, len(text), _REPLAY_CHUNK):
                yield StreamChunk(text=text[start : start + _REPLAY_CHUNK], index=index)
        yield StreamChunk(text="", response=response)

    def has_text(self, chunk: StreamChunk) -> bool:
        return bool(chunk.text)

    def key(self, client: LM, request: LMRequest, rollout_id: Any) -> str:
        return cache_key(client, request, rollout_id=rollout_id)

    def cacheable(self, client: LM, request: LMRequest, rollout_id: Any) -> bool:
        """A deterministic request (temperature 0 or unset), or a distinct rollout."""
        return not request.temperature or rollout_id is not None

    def usage(self, response: LMResponse) -> Usage:
        return response.usage

    def estimate(self, client: LM, request: LMRequest, *, priced: bool = False) -> Usage:
        """The prompt's size, and ``max_tokens`` of output. With no ``max_tokens``, a priced
        estimate takes the rest of the model's context window where it is known (token limits
        keep the prompt alone, and count the call that crosses them after it)."""
        usage = estimate_usage(request)
        if priced and request.max_tokens is None:
            window = context_window(client)
            if window:
                room = max(0, window - usage.input_tokens) * max(1, request.n)
                usage = Usage(input_tokens=usage.input_tokens, output_tokens=room)
        return usage

    def price(self, client: LM, usage: Usage, response: LMResponse | None) -> Price:
        """The reported model is priced first (it may be a dated variant), then the requested."""
        return price_of(client, usage, model=response.model if response is not None else None)

    def preview(self, request: LMRequest) -> str:
        """The first words of the last message."""
        text = request.messages[-1].text if request.messages else ""
        words = text.split()
        more = " ..." if len(words) > _PREVIEW_WORDS else ""
        return " ".join(words[:_PREVIEW_WORDS]) + more

    def entry_fields(self, call: ModelCall[LM, LMRequest, LMResponse]) -> dict[str, Any]:
        response = call.response
        lm = call.client
        fields: dict[str, Any] = {
            "provider": lm.provider,
            "model": lm.model,
            "request": call.request,
        }
        if response is not None:
            fields["response_model"] = response.model
            fields["response"] = response
            fields["usage"] = response.usage
            fields["attempts"] = response.attempts
            fields["metadata"] = response.metadata
            if call._settings.save_raw:
                fields["raw"] = response.raw
        if isinstance(call, LMCall):
            fields["adapter"] = call.adapter
            fields["fallback_from"] = call.fallback_from
            fields["diagnostics"] = call.diagnostics
        return fields

    def span(self, call: ModelCall[LM, LMRequest, LMResponse]) -> tuple[str, dict[str, Any]]:
        """GenAI semantic conventions."""
        lm, request = call.client, call.request
        return f"chat {lm.model}", {
            "gen_ai.operation.name": "chat",
            "gen_ai.system": lm.provider,
            "gen_ai.request.model": lm.model,
            "gen_ai.request.temperature": request.temperature,
            "gen_ai.request.max_tokens": request.max_tokens,
        }

    def client_label(self, client: LM) -> str:
        return client.name


LM_CALLS = LMKind()


class LMCall(ModelCall[LM, LMRequest, LMResponse]):
    """One LM call: runs it (through replay, cache and budgets) and holds what happened,
    including what the adapter made of it."""

    __slots__ = ("adapter", "diagnostics", "fallback_from")

    def __init__(
        self,
        lm: LM,
        request: LMRequest,
        *,
        adapter: str | None = None,
        cache: bool | None = None,
        rollout_id: Any = None,
    ) -> None:
        super().__init__(LM_CALLS, lm, request, cache=cache, rollout_id=rollout_id)
        self.adapter = adapter
        self.diagnostics: list[dict[str, Any]] = []
        self.fallback_from: str | None = None

    @property
    def lm(self) -> LM:
        return self.client

    def set_parse(
        self,
        *,
        adapter: str,
        diagnostics: list[dict[str, Any]],
        error: Exception | None = None,
        fallback_from: str | None = None,
    ) -> None:
        """What the adapter made of the text: its name, repairs, failure, and the adapter it
        fell back from (if any)."""
        self.adapter = adapter
        self.diagnostics = list(diagnostics)
        if fallback_from is not None:
            self.fallback_from = fallback_from
        if error is not None:
            self.error = describe_error(error)
        if self.diagnostics:
            log_parse_diagnostics(adapter, self.diagnostics, verbose=self._settings.debug_parse)

    def __repr__(self) -> str:
        return f"<LMCall {self.client.name} id={self.call_id} cache={self.cache_state}>"


def lm_call(
    lm: LM,
    request: LMRequest,
    *,
    adapter: str | None = None,
    cache: bool | None = None,
    rollout_id: Any = None,
) -> LMCall:
    """Make one LM call: ``with lm_call(lm, request, adapter="ChatAdapter") as call: ...``.

    ``cache``: None follows the settings and the request, False skips the cache, True caches
    even a sampled (temperature > 0) request. ``rollout_id`` (default: the setting) keys a
    distinct sample of the same request.
    """
    return LMCall(lm, request, adapter=adapter, cache=cache, rollout_id=rollout_id)
