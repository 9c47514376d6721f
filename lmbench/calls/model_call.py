"""``ModelCall``: one model call of any kind, run through the one execution policy.

``_policy`` is the whole path of a call, written once as a generator (the house pattern of
``lmbench.adapters.steps``): play a recorded response back, or look in the response cache;
reserve the most the call can cost on every active budget (refusing it there if that would
cross a limit); yield the one step that waits on the model; then price the response, settle
the budgets to its real cost, fill the cache and the recording. Four drivers run that body:
``run`` and ``arun`` (``drive``/``adrive`` of ``lmbench.steps``), ``stream`` and ``astream``
(which pass the model's chunks on as they come); ``steps`` hands the body to a caller that
drives its own steps. The ``with`` block around a call opens its
span and tells the callbacks; when it ends, the call is recorded in history, failed or not.

A cache hit costs nothing and keeps what it saved. A replayed response stands in for the
model: it is priced, counted and charged to the budgets as the recorded call was, so a played
back run shows the same costs as the live one; its ``cache`` state "replay" tells it apart.
Everything is kept by reference; serialisation happens only when a collector writes to disk.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import AsyncIterator, Generator, Iterator
from typing import Any, Generic, Literal, TypeVar

from lmbench import settings as _settings
from lmbench.calls.budget import Reservation, active_budgets, reserve
from lmbench.calls.callbacks import merge_callbacks
from lmbench.calls.kind import CallKind
from lmbench.calls.tree import CallNode, current_node, new_call_id, record
from lmbench.errors import ProviderError, describe_error
from lmbench.lm.cache import get_cache
from lmbench.lm.replay import Replayer
from lmbench.lm.replay import active as active_replayer
from lmbench.lm.types import Usage
from lmbench.logs import warn, warn_once
from lmbench.observe import entry as _entry
from lmbench.observe import otel
from lmbench.observe.collectors import resolve_collector
from lmbench.observe.cost import CACHE_HIT, FREE, Price
from lmbench.observe.entry import CacheResult, HistoryEntry
from lmbench.observe.trace import model_node
from lmbench.steps import DONE, Resume, adrive, drive

__all__ = ["CacheState", "ModelCall"]

ClientT = TypeVar("ClientT")
RequestT = TypeVar("RequestT")
ResponseT = TypeVar("ResponseT")

#: Where a response came from: no cache, a cache miss, a cache level, or a replay recording.
CacheState = CacheResult


class _Send:
    """The step that waits on the model: the kind's call, sync, async or streaming."""

    __slots__ = ("call",)

    def __init__(self, call: ModelCall[Any, Any, Any]) -> None:
        self.call = call

    def run(self) -> Any:
        return self.call.kind.send(self.call.client, self.call.request)

    async def arun(self) -> Any:
        return await self.call.kind.asend(self.call.client, self.call.request)

    def stream(self) -> Iterator[Any]:
        return self.call.kind.stream(self.call.client, self.call.request)

    def astream(self) -> AsyncIterator[Any]:
        return self.call.kind.astream(self.call.client, self.call.request)


class _Stored:
    """The step that serves a recorded response as if the model had sent it."""

    __slots__ = ("kind", "response")

    def __init__(self, kind: CallKind[Any, Any, Any], response: Any) -> None:
        self.kind, self.response = kind, response

    def run(self) -> Any:
        return self.response

    async def arun(self) -> Any:
        return self.response

    def stream(self) -> Iterator[Any]:
        return self.kind.as_chunks(self.response)

    async def astream(self) -> AsyncIterator[Any]:
        for chunk in self.kind.as_chunks(self.response):
            yield chunk


class ModelCall(CallNode, Generic[ClientT, RequestT, ResponseT]):
    """One model call of kind ``kind`` to ``client``: runs it through replay, cache and
    budgets, and holds what happened."""

    __slots__ = (
        "_collector",
        "_parent",
        "_run_started",
        "_settings",
        "_span",
        "_usage",
        "_watchers",
        "cache",
        "cache_hit",
        "cache_key",
        "call_id",
        "client",
        "ended",
        "entry",
        "error",
        "kind",
        "latency_s",
        "price",
        "replayed",
        "request",
        "response",
        "rollout_id",
        "saved_usd",
        "started",
        "streamed",
        "timestamp",
        "ttft_s",
    )

    def __init__(
        self,
        kind: CallKind[ClientT, RequestT, ResponseT],
        client: ClientT,
        request: RequestT,
        *,
        cache: bool | None = None,
        rollout_id: Any = None,
    ) -> None:
        settings = _settings.current()
        self._settings = settings
        self._collector = resolve_collector(settings.history)  # a bad setting fails here
        self.kind = kind
        self.client = client
        self.request = request
        self.cache = cache
        self.rollout_id = rollout_id if rollout_id is not None else settings.rollout_id
        self.call_id = new_call_id()
        parent = current_node.get()
        self._parent = weakref.ref(parent) if parent is not None else None
        self.timestamp = time.time()
        self.started = time.perf_counter()
        self.ended: float | None = None
        self._run_started: float | None = None
        self.response: ResponseT | None = None
        self._usage: Usage | None = None
        self.cache_hit: Literal["memory", "disk"] | None = None
        self.replayed = False
        self.cache_key: str | None = None
        self.error: str | None = None
        self.price: Price | None = None
        self.saved_usd: float | None = None
        self.latency_s = 0.0
        self.ttft_s: float | None = None
        self.streamed = False
        self.entry: HistoryEntry | None = None
        self._span: Any = None
        configured = tuple(settings.callbacks)
        inherited = parent.callbacks if parent is not None else ()
        self._watchers = merge_callbacks(configured, inherited) if inherited else configured
        if parent is not None:
            parent.children.append(self)

    # -- the with block -------------------------------------------------------------------
    def __enter__(self) -> ModelCall[ClientT, RequestT, ResponseT]:
        parent = self.parent
        self._span = otel.start_span(parent._span if parent is not None else None, self._describe)
        if self._watchers:
            self._dispatch(
                self._watchers,
                f"{self.kind.event}_start",
                **{self.kind.client_name: self.client, "request": self.request},
            )
        return self

    def _describe(self) -> tuple[str, dict[str, Any]]:
        return self.kind.span(self)

    # -- state ---------------------------------------------------------------------------------
    @property
    def watchers(self) -> tuple[Any, ...]:
        """The callbacks this call tells (the settings' ones, then its modules')."""
        return self._watchers

    @property
    def cache_state(self) -> CacheState:
        if self.replayed:
            return "replay"
        if self.cache_hit is not None:
            return self.cache_hit
        return "miss" if self.cache_key is not None else "off"

    @property
    def usage(self) -> Usage:
        """Tokens of the response (nothing before it came)."""
        return self._usage if self._usage is not None else Usage()

    # -- the policy, written once ---------------------------------------------------------------
    def _policy(self) -> Generator[Any, Any, ResponseT]:
        """replay -> cache -> budget (reserve) -> send -> price -> record, as one generator:
        it yields the step that waits on the model and returns the response."""
        self._run_started = time.perf_counter()
        replayer = active_replayer()
        playing = replayer is not None and replayer.mode == "play"
        if not playing:
            hit = self._cached()
            if hit is not None:
                if replayer is not None:
                    self._keep_recording(hit, replayer)
                return hit
        reservation = self._reserve()
        try:
            if playing:
                self.replayed = True
                response = yield _Stored(self.kind, self._recorded(replayer))  # type: ignore[arg-type]
            else:
                response = yield _Send(self)
        except BaseException:
            if reservation is not None:
                reservation.release()
            raise
        return self._received(response, reservation)

    def _cache_enabled(self) -> bool:
        """Settings' ``cache`` off wins; then this call's ``cache``; then the client and kind.

        An LM call is cached by default when it is deterministic (temperature 0 or unset) or
        carries a rollout id (which makes a fresh sample its own cache entry).
        """
        if not self._settings.cache:
            return False
        if self.cache is not None:
            return self.cache
        if not getattr(self.client, "cacheable", True):
            return False
        return self.kind.cacheable(self.client, self.request, self.rollout_id)

    def _cached(self) -> ResponseT | None:
        """A fresh copy of the cached response, if there is one (it costs nothing now; it keeps
        what it saved)."""
        if not self._cache_enabled():
            return None
        try:
            self.cache_key = self.kind.key(self.client, self.request, self.rollout_id)
        except TypeError as exc:
            warn(f"call to {self.kind.client_label(self.client)} not cached: {exc}")
            return None
        found = get_cache().get(self.cache_key, self.kind.codec)
        if found is None:
            return None
        return self._served(*found)

    def _served(self, response: ResponseT, level: Literal["memory", "disk"]) -> ResponseT:
        """Keep ``response`` found at cache ``level`` as this call's (free; it saved its price)."""
        self.cache_hit = level
        self.response = response
        self.price = CACHE_HIT
        kind = self.kind
        usage = self._usage = kind.usage(response)
        self.saved_usd = kind.price(self.client, usage, response).usd
        self.latency_s = time.perf_counter() - (self._run_started or self.started)
        return response  # type: ignore[no-any-return]

    def _recorded(self, player: Replayer) -> ResponseT:
        """The recorded response to this request (``ReplayMissError`` when there is none)."""
        kind = self.kind
        return player.response(
            kind.key(self.client, self.request, self.rollout_id),
            kind.codec,
            name=kind.client_label(self.client),
            preview=kind.preview(self.request),
        )

    def _keep_recording(self, response: ResponseT, replayer: Replayer) -> None:
        """In replay record mode, append ``response`` to the recording."""
        if replayer.mode != "record":
            return
        kind = self.kind
        key = self.cache_key or kind.key(self.client, self.request, self.rollout_id)
        replayer.save(
            key,
            response,
            kind.codec,
            name=kind.client_label(self.client),
            preview=kind.preview(self.request),
        )

    def _reserve(self) -> Reservation | None:
        """Hold the most this call can cost on every active budget (``BudgetExceeded`` if that
        would cross a limit: the call is then not made)."""
        budgets = active_budgets()
        if not budgets:
            return None
        kind = self.kind
        estimate = kind.estimate(self.client, self.request)
        usd = None
        if any(b.usd is not None for b in budgets):
            most = kind.estimate(self.client, self.request, priced=True)
            usd = kind.price(self.client, most, None).usd
        return reserve(
            budgets,
            tokens=estimate.total_tokens,
            usd=usd,
            model=kind.client_label(self.client),
        )

    def _received(self, response: ResponseT, reservation: Reservation | None) -> ResponseT:
        """Keep the model's response (or its recording): time and price it, cache and record
        it, settle the budgets to its real cost (whatever fails on the way: the call was
        made, so its reservation never stays held)."""
        self.response = response
        self.latency_s = time.perf_counter() - (self._run_started or self.started)
        kind = self.kind
        try:
            usage = self._usage = kind.usage(response)
            self.price = kind.price(self.client, usage, response)
        except BaseException:
            if reservation is not None:
                reservation.release()
            raise
        try:
            if self.cache_key is not None:
                get_cache().put(self.cache_key, response, kind.codec)
            replayer = active_replayer()
            if replayer is not None:
                self._keep_recording(response, replayer)
        finally:
            if reservation is not None:
                self._settle(reservation, usage)
        return response

    def _settle(self, reservation: Reservation, usage: Usage) -> None:
        """Charge the budgets the call's real cost; a response that reports no usage at all is
        charged what it reserved (the most it could cost), so no budget counts it as free."""
        label = self.kind.client_label(self.client)
        tokens, usd = usage.total_tokens, self.price.usd if self.price is not None else None
        if not tokens and reservation.tokens:
            tokens, usd = reservation.tokens, reservation.usd
            warn_once(
                ("no usage", label),
                f"{label} reported no token usage; budgets count its calls at their reserved "
                "estimate (the prompt and max_tokens), history shows what it reported",
            )
        reservation.settle(tokens=tokens, usd=usd, model=label)

    # -- the drivers ---------------------------------------------------------------------------
    def steps(self) -> Generator[Any, Any, ResponseT]:
        """The call as steps, for a caller that drives its own (``yield from call.steps()``
        in a generator of steps): one driver for both, instead of a driver per call."""
        return self._policy()

    def run(self) -> ResponseT:
        return drive(self._policy())

    async def arun(self) -> ResponseT:
        return await adrive(self._policy())

    def stream(self) -> Iterator[Any]:
        """Chunks as they come; one of them carries the response (a stored one is replayed)."""
        self.streamed = True
        resume = Resume(self._policy())
        step = resume.next()
        if step is DONE:
            yield from self.kind.as_chunks(resume.result)
            return
        chunks = step.stream()
        try:
            for chunk in chunks:
                self._took(chunk, resume)
                yield chunk
        finally:  # a stream that ended early or failed: its response closed, reservation freed
            close = getattr(chunks, "close", None)
            try:
                if close is not None:
                    close()
            finally:
                resume.close()

    async def astream(self) -> AsyncIterator[Any]:
        self.streamed = True
        resume = Resume(self._policy())
        step = resume.next()
        if step is DONE:
            for chunk in self.kind.as_chunks(resume.result):
                yield chunk
            return
        chunks = step.astream()
        try:
            async for chunk in chunks:
                self._took(chunk, resume)
                yield chunk
        finally:
            aclose = getattr(chunks, "aclose", None)
            try:
                if aclose is not None:
                    await aclose()
            finally:
                resume.close()

    def _took(self, chunk: Any, resume: Resume[ResponseT]) -> None:
        """Note a streamed chunk; the one that carries the response goes to the policy, which
        prices and records it (and may raise, before the chunk is passed on)."""
        kind = self.kind
        if self.ttft_s is None and self._run_started is not None and kind.has_text(chunk):
            self.ttft_s = time.perf_counter() - self._run_started
        if resume.finished:
            return
        response = kind.response_of(chunk)
        if response is not None:
            resume.outcome = response
            resume.next()

    # -- end ---------------------------------------------------------------------------------------
    def finish(self, error: BaseException | None = None) -> None:
        """End the call: record its history entry, tell callbacks, close the span."""
        if self.ended is not None:
            return
        self.ended = time.perf_counter()
        if error is not None and self.error is None:
            self.error = describe_error(error)
        if self.response is None and self._run_started is not None:
            self.latency_s = self.ended - self._run_started
        entry = self.entry = self._make_entry(error)
        record(entry, self._collector)
        if self._watchers:
            self._dispatch(
                self._watchers,
                f"{self.kind.event}_end",
                response=self.response,
                entry=entry,
                error=error,
            )
        if self._span is not None:
            otel.end_span(self._span, _span_end_attributes(entry), self.error)

    def _make_entry(self, error: BaseException | None) -> HistoryEntry:
        parent = self.parent
        price = self.price or FREE  # no response: nothing was billed
        response = self.response
        entry = HistoryEntry(
            kind=self.kind.entry_kind,
            call_id=self.call_id,
            parent_id=parent.call_id if parent is not None else None,
            root_id=parent.root_id if parent is not None else self.call_id,
            session_id=_entry.SESSION_ID,
            timestamp=self.timestamp,
            module=parent.module if parent is not None else None,
            signature=parent.signature if parent is not None else None,
            cost_usd=price.usd,
            cost_known=price.known,
            saved_usd=self.saved_usd,
            latency_s=self.latency_s,
            ttft_s=self.ttft_s if self.ttft_s is not None else getattr(response, "ttft_s", None),
            stream=self.streamed,
            cache=self.cache_state,
            cache_key=self.cache_key,
            error=self.error,
            run_id=self._settings.run_id,
        )
        self.kind.fill_entry(entry, self)
        if response is None and isinstance(error, ProviderError):
            entry.attempts = error.attempts
        return entry

    def to_dict(self) -> dict[str, Any]:
        return model_node(self)

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {self.kind.client_label(self.client)} id={self.call_id} "
            f"cache={self.cache_state}>"
        )


def _span_end_attributes(entry: HistoryEntry) -> dict[str, Any]:
    return {
        "gen_ai.response.model": entry.response_model,
        "gen_ai.response.finish_reasons": [entry.finish_reason] if entry.finish_reason else None,
        "gen_ai.usage.input_tokens": entry.usage.input_tokens,
        "gen_ai.usage.output_tokens": entry.usage.output_tokens,
        "lmbench.cache": entry.cache,
        "lmbench.cost_usd": entry.cost_usd,
    }
