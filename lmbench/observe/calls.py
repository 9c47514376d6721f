"""The one place an LM is called from: every module and adapter goes through ``lm_call``.

``with module_call("Predict", signature=str(sig)) as mc:`` opens a node in the call tree;
``with lm_call(lm, request, adapter="ChatAdapter") as call:`` makes one LM call inside it
(``call.run()``, ``call.stream()``, ``await call.arun()``, ``call.astream()``), and
``call.set_parse(...)`` attaches what the adapter made of the text. When the block ends the
call is finished and recorded, failed or not.

Around the LM itself, a call: plays a recorded response back or records one
(``lmbench.replay``), looks in the response cache (and fills it), checks and charges the
active budgets, prices the usage, writes a ``HistoryEntry`` to the history collector, tells
the callbacks, and opens OpenTelemetry spans when the application traces.

A cache hit costs nothing and keeps what it saved. A replayed response stands in for the
model: it is priced, counted and charged to the budgets as the recorded call was, so a played
back run shows the same costs as the live one; its ``cache`` state "replay" tells it apart.
Everything is kept by reference; serialisation happens only when a collector writes to disk.
"""

from __future__ import annotations

import itertools
import os
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from contextvars import ContextVar, Token
from types import TracebackType
from typing import Any, Literal

from lmbench import settings as _settings
from lmbench.display import RichDisplay
from lmbench.errors import BudgetExceeded, ProviderError
from lmbench.lm.base import LM
from lmbench.lm.cache import get_cache
from lmbench.lm.cache_key import cache_key
from lmbench.lm.replay import Replayer
from lmbench.lm.replay import active as active_replayer
from lmbench.lm.types import LMRequest, LMResponse, StreamChunk, Usage
from lmbench.observe import entry as _entry
from lmbench.observe import otel
from lmbench.observe.budget import active_budgets
from lmbench.observe.callbacks import dispatch, merge_callbacks
from lmbench.observe.collectors import Collector, resolve_collector
from lmbench.observe.cost import CACHE_HIT, FREE, Price, estimate_usage, price_of
from lmbench.observe.entry import HistoryEntry
from lmbench.observe.logs import log_parse_diagnostics, warn

__all__ = [
    "LMCall",
    "ModuleCall",
    "active_callbacks",
    "current_module_call",
    "lm_call",
    "module_call",
]

_id_prefix = secrets.token_hex(6)
_id_counter = itertools.count()


def _new_id() -> str:
    """20 hex digits: a random per-process prefix and a counter (cheaper than uuid4)."""
    return f"{_id_prefix}{next(_id_counter):08x}"


def _reset_ids_after_fork() -> None:
    global _id_prefix, _id_counter
    _id_prefix = secrets.token_hex(6)
    _id_counter = itertools.count()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_ids_after_fork)


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _record(entry: HistoryEntry, collector: Collector) -> None:
    """Hand ``entry`` to the collector; a failing collector is reported, never raised."""
    try:
        collector.add(entry)
    except Exception as exc:
        warn(f"history entry {entry.call_id} was not recorded: {_describe(exc)}")


_current: ContextVar[ModuleCall | None] = ContextVar("lmbench_module_call", default=None)


def current_module_call() -> ModuleCall | None:
    """The innermost module call in progress here, if any."""
    return _current.get()


def active_callbacks() -> tuple[Any, ...]:
    """Callbacks in force here: the settings' ones, then those of the enclosing modules."""
    node = _current.get()
    configured = tuple(_settings.current().callbacks)
    return merge_callbacks(configured, node.callbacks) if node is not None else configured


class _TellsCallbacks:
    """Sends a call's events to callbacks, naming the call and its parent."""

    __slots__ = ()
    call_id: str
    parent: ModuleCall | None

    def _dispatch(self, callbacks: tuple[Any, ...], name: str, **payload: Any) -> None:
        dispatch(
            callbacks,
            name,
            call_id=self.call_id,
            parent_id=self.parent.call_id if self.parent is not None else None,
            payload={"call": self, **payload},
        )


class ModuleCall(_TellsCallbacks, RichDisplay):
    """A node of the call tree: one module call, with its child module and LM calls.

    Used as ``with module_call(...) as mc``. After the block: ``mc.usage`` and ``mc.cost``
    add up every nested LM call (cache hits excluded), ``mc.entries`` lists their history
    entries, ``mc.to_dict()`` is the whole tree with timings.
    """

    def __init__(
        self,
        module: str,
        signature: str | None = None,
        *,
        callbacks: tuple[Any, ...] | list[Any] = (),
        inputs: dict[str, Any] | None = None,
    ) -> None:
        self.module = module
        self.signature = signature
        self.inputs = inputs
        self.outputs: Any = None
        self.call_id = _new_id()
        parent = _current.get()
        self.parent = parent
        self.root_id: str = parent.root_id if parent is not None else self.call_id
        self.children: list[ModuleCall | LMCall] = []
        self.callbacks: tuple[Any, ...] = merge_callbacks(
            parent.callbacks if parent is not None else (), tuple(callbacks)
        )
        self.timestamp = time.time()
        self.started = time.perf_counter()
        self.ended: float | None = None
        self.error: str | None = None
        self.entry: HistoryEntry | None = None
        self._token: Token[ModuleCall | None] | None = None
        self._span: Any = None
        self._collector: Collector | None = None
        self._watchers: tuple[Any, ...] = ()
        self._run_id: str | None = None
        if parent is not None:
            parent.children.append(self)

    # -- the with block -------------------------------------------------------------------
    def __enter__(self) -> ModuleCall:
        self._token = _current.set(self)
        settings = _settings.current()
        self._collector = resolve_collector(settings.history)  # a bad setting fails here
        self._run_id = settings.run_id
        self._watchers = merge_callbacks(tuple(settings.callbacks), self.callbacks)
        parent = self.parent
        self._span = otel.start_span(parent._span if parent is not None else None, self._describe)
        if self._watchers:
            self._dispatch(self._watchers, "module_start", inputs=self.inputs)
        return self

    def _describe(self) -> tuple[str, dict[str, Any]]:
        """The OpenTelemetry span's name and attributes."""
        return f"lmbench.module {self.module}", {
            "lmbench.module": self.module,
            "lmbench.signature": self.signature,
        }

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        self.ended = time.perf_counter()
        if exc is not None:
            self.error = _describe(exc)
        if self._token is not None:
            _current.reset(self._token)
            self._token = None
        entry = self.entry = self._make_entry()
        if self._collector is not None:
            _record(entry, self._collector)
        if self._watchers:
            self._dispatch(self._watchers, "module_end", outputs=self.outputs, error=exc)
        if self._span is not None:
            otel.end_span(
                self._span,
                {
                    "gen_ai.usage.input_tokens": entry.usage.input_tokens,
                    "gen_ai.usage.output_tokens": entry.usage.output_tokens,
                    "lmbench.cost_usd": entry.cost_usd,
                },
                self.error,
            )
        return False

    def set_outputs(self, outputs: Any) -> None:
        """What the module returned, for ``on_module_end`` callbacks and the trace."""
        self.outputs = outputs

    # -- roll-ups ----------------------------------------------------------------------------
    @property
    def duration_s(self) -> float | None:
        return None if self.ended is None else self.ended - self.started

    def lm_calls(self) -> list[LMCall]:
        """Every LM call below this node, depth first."""
        out: list[LMCall] = []
        for child in self.children:
            if isinstance(child, LMCall):
                out.append(child)
            else:
                out.extend(child.lm_calls())
        return out

    def _rollup(self) -> tuple[Usage, float | None, bool]:
        """Usage (cache hits excluded), cost (None if any is unpriced) and whether all are priced."""
        usage = Usage()
        cost: float | None = 0.0
        known = True
        for call in self.lm_calls():
            if call.response is not None and call.cache_hit is None:
                usage = usage + call.response.usage
            price = call.price
            if price is not None and price.usd is None:
                known = False
                cost = None
            elif price is not None and cost is not None:
                cost += price.usd or 0.0
        return usage, cost, known

    @property
    def usage(self) -> Usage:
        """Tokens of every nested LM call that reached the model (cache hits excluded)."""
        return self._rollup()[0]

    @property
    def cost(self) -> float | None:
        """USD of the nested calls; None when any of them has no known price (see ``cost_known``)."""
        return self._rollup()[1]

    @property
    def cost_known(self) -> bool:
        """False when some nested call is to a model without price data."""
        return self._rollup()[2]

    @property
    def entries(self) -> list[HistoryEntry]:
        """History entries of the nested LM calls that have finished, depth first."""
        return [call.entry for call in self.lm_calls() if call.entry is not None]

    def _make_entry(self) -> HistoryEntry:
        usage, cost, known = self._rollup()
        return HistoryEntry(
            kind="module",
            call_id=self.call_id,
            parent_id=self.parent.call_id if self.parent is not None else None,
            root_id=self.root_id,
            session_id=_entry.SESSION_ID,
            timestamp=self.timestamp,
            module=self.module,
            signature=self.signature,
            usage=usage,
            cost_usd=cost,
            cost_known=known,
            latency_s=self.duration_s or 0.0,
            error=self.error,
            run_id=self._run_id,
        )

    # -- trace ---------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The call tree below this node with timings, as JSON-able data."""
        from lmbench.observe.trace import call_tree

        return call_tree(self)

    def to_json(self, *, indent: int | None = 2) -> str:
        from lmbench.observe.trace import tree_to_json

        return tree_to_json(self, indent=indent)

    def __repr__(self) -> str:
        state = "running" if self.ended is None else f"{self.duration_s:.3f}s"
        return (
            f"<ModuleCall {self.module} id={self.call_id} {state} "
            f"children={len(self.children)}{' error' if self.error else ''}>"
        )


def module_call(
    module: str,
    signature: str | None = None,
    *,
    callbacks: tuple[Any, ...] | list[Any] = (),
    inputs: dict[str, Any] | None = None,
) -> ModuleCall:
    """Open a module call: ``with module_call("Predict", signature=str(sig)) as mc: ...``.

    ``callbacks`` apply to this call and everything nested in it; ``inputs`` go to
    ``on_module_start`` callbacks.
    """
    return ModuleCall(module, signature, callbacks=callbacks, inputs=inputs)


#: Where a response came from: no cache, a cache miss, a cache level, or a replay recording.
CacheState = Literal["off", "miss", "memory", "disk", "replay"]

_REPLAY_CHUNK = 16


def _replay(response: LMResponse) -> Iterator[StreamChunk]:
    """A stored response as a stream: each choice's text in small chunks, then the response."""
    for index, text in enumerate(response.texts):
        for start in range(0, len(text), _REPLAY_CHUNK):
            yield StreamChunk(text=text[start : start + _REPLAY_CHUNK], index=index)
    yield StreamChunk(text="", response=response)


async def _as_async(chunks: Iterator[StreamChunk]) -> AsyncIterator[StreamChunk]:
    for chunk in chunks:
        yield chunk


class LMCall(_TellsCallbacks):
    """One LM call: runs it (through cache and budgets) and holds what happened."""

    __slots__ = (
        "_collector",
        "_player",
        "_run_started",
        "_settings",
        "_span",
        "_watchers",
        "adapter",
        "cache",
        "cache_hit",
        "cache_key",
        "call_id",
        "diagnostics",
        "ended",
        "entry",
        "error",
        "fallback_from",
        "latency_s",
        "lm",
        "parent",
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
        lm: LM,
        request: LMRequest,
        *,
        adapter: str | None = None,
        cache: bool | None = None,
        rollout_id: Any = None,
    ) -> None:
        settings = _settings.current()
        self._settings = settings
        self._collector = resolve_collector(settings.history)  # a bad setting fails here
        self.lm = lm
        self.request = request
        self.adapter = adapter
        self.cache = cache
        self.rollout_id = rollout_id if rollout_id is not None else settings.rollout_id
        self.call_id = _new_id()
        self.parent = _current.get()
        self.timestamp = time.time()
        self.started = time.perf_counter()
        self.ended: float | None = None
        self._run_started: float | None = None
        self.response: LMResponse | None = None
        self.cache_hit: Literal["memory", "disk"] | None = None
        self._player: Replayer | None = None  # the recording this call is served from
        self.replayed = False
        self.cache_key: str | None = None
        self.diagnostics: list[dict[str, Any]] = []
        self.fallback_from: str | None = None
        self.error: str | None = None
        self.price: Price | None = None
        self.saved_usd: float | None = None
        self.latency_s = 0.0
        self.ttft_s: float | None = None
        self.streamed = False
        self.entry: HistoryEntry | None = None
        self._span: Any = None
        configured = tuple(settings.callbacks)
        parent = self.parent
        self._watchers = merge_callbacks(configured, parent.callbacks) if parent else configured
        if parent is not None:
            parent.children.append(self)

    # -- the with block -------------------------------------------------------------------
    def __enter__(self) -> LMCall:
        parent = self.parent
        self._span = otel.start_span(parent._span if parent is not None else None, self._describe)
        if self._watchers:
            self._dispatch(self._watchers, "lm_start", lm=self.lm, request=self.request)
        return self

    def _describe(self) -> tuple[str, dict[str, Any]]:
        """The OpenTelemetry span's name and attributes (GenAI semantic conventions)."""
        return f"chat {self.lm.model}", {
            "gen_ai.operation.name": "chat",
            "gen_ai.system": self.lm.provider,
            "gen_ai.request.model": self.lm.model,
            "gen_ai.request.temperature": self.request.temperature,
            "gen_ai.request.max_tokens": self.request.max_tokens,
        }

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        self.finish(exc)
        return False

    # -- cache, budgets, pricing --------------------------------------------------------------
    @property
    def cache_state(self) -> CacheState:
        if self.replayed:
            return "replay"
        if self.cache_hit is not None:
            return self.cache_hit
        return "miss" if self.cache_key is not None else "off"

    def _cache_enabled(self) -> bool:
        """Settings' ``cache`` off wins; then this call's ``cache``; then the LM and request.

        By default a request is cached when it is deterministic (temperature 0 or unset) or
        carries a rollout id (which makes a fresh sample its own cache entry).
        """
        if not self._settings.cache:
            return False
        if self.cache is not None:
            return self.cache
        if not getattr(self.lm, "cacheable", True):
            return False
        return not self.request.temperature or self.rollout_id is not None

    def _lookup(self) -> LMResponse | None:
        """Start the run; return a cached response (a fresh copy) if there is one.

        In replay play mode the cache is not read: the recording answers instead of the model.
        """
        self._run_started = time.perf_counter()
        replayer = active_replayer()
        if replayer is not None and replayer.mode == "play":
            self._player = replayer
            return None
        if not self._cache_enabled():
            return None
        try:
            self.cache_key = cache_key(self.lm, self.request, rollout_id=self.rollout_id)
        except TypeError as exc:
            warn(f"call to {self.lm.name} not cached: {exc}")
            return None
        found = get_cache().get(self.cache_key)
        if found is None:
            return None
        response, level = found
        self._record_replay(response, replayer)
        return self._served(response, level)

    def _served(self, response: LMResponse, source: Literal["memory", "disk"]) -> LMResponse:
        """Keep a cached response: it cost nothing now; keep what it saved."""
        self.cache_hit = source
        self.response = response
        self.price = CACHE_HIT
        self.saved_usd = price_of(self.lm, response.usage, model=response.model).usd
        self.latency_s = time.perf_counter() - (self._run_started or self.started)
        return response

    def _recorded(self, player: Replayer) -> LMResponse:
        """The recorded response to this request, served as the model's own (``ReplayMissError``
        when there is none)."""
        self.replayed = True
        return player.response(self.lm, self.request, rollout_id=self.rollout_id)

    def _record_replay(self, response: LMResponse, replayer: Replayer | None) -> None:
        if replayer is not None and replayer.mode == "record":
            replayer.save(self.lm, self.request, response, rollout_id=self.rollout_id)

    def _check_budgets(self) -> None:
        budgets = active_budgets()
        if not budgets:
            return
        estimate = estimate_usage(self.request)
        usd = None
        if any(b.usd is not None for b in budgets):
            usd = price_of(self.lm, estimate).usd
        for limit in budgets:
            limit.check_before(tokens=estimate.total_tokens, usd=usd, model=self.lm.name)

    def _received(self, response: LMResponse) -> LMResponse:
        """Keep the model's response (or its recording): time, price, cache it, charge budgets."""
        self.response = response
        self.latency_s = time.perf_counter() - (self._run_started or self.started)
        self.price = price_of(self.lm, response.usage, model=response.model)
        if self.cache_key is not None:
            get_cache().put(self.cache_key, response)
        self._record_replay(response, active_replayer())
        budgets = active_budgets()
        if budgets:
            exceeded: BudgetExceeded | None = None
            for limit in budgets:
                try:
                    limit.charge(
                        tokens=response.usage.total_tokens, usd=self.price.usd, model=self.lm.name
                    )
                except BudgetExceeded as exc:
                    exceeded = exceeded or exc
            if exceeded is not None:
                raise exceeded
        return response

    def _first_text(self, chunk: StreamChunk) -> None:
        if self.ttft_s is None and chunk.text and self._run_started is not None:
            self.ttft_s = time.perf_counter() - self._run_started

    # -- running -------------------------------------------------------------------------------
    def run(self) -> LMResponse:
        cached = self._lookup()
        if cached is not None:
            return cached
        self._check_budgets()
        if self._player is not None:
            return self._received(self._recorded(self._player))
        return self._received(self.lm.generate(self.request))

    def stream(self) -> Iterator[StreamChunk]:
        """Chunks as they come; the last one carries the response (a cache hit is replayed)."""
        self.streamed = True
        cached = self._lookup()
        if cached is not None:
            yield from _replay(cached)
            return
        self._check_budgets()
        if self._player is not None:
            chunks = _replay(self._recorded(self._player))
        else:
            chunks = self.lm.stream(self.request)
        for chunk in chunks:
            self._first_text(chunk)
            if chunk.response is not None:
                self._received(chunk.response)
            yield chunk

    async def arun(self) -> LMResponse:
        cached = self._lookup()
        if cached is not None:
            return cached
        self._check_budgets()
        if self._player is not None:
            return self._received(self._recorded(self._player))
        return self._received(await self.lm.agenerate(self.request))

    async def astream(self) -> AsyncIterator[StreamChunk]:
        self.streamed = True
        cached = self._lookup()
        if cached is not None:
            for chunk in _replay(cached):
                yield chunk
            return
        self._check_budgets()
        if self._player is not None:
            chunks: AsyncIterator[StreamChunk] = _as_async(_replay(self._recorded(self._player)))
        else:
            chunks = self.lm.astream(self.request)
        async for chunk in chunks:
            self._first_text(chunk)
            if chunk.response is not None:
                self._received(chunk.response)
            yield chunk

    # -- parse result and end ------------------------------------------------------------------
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
            self.error = _describe(error)
        if self.diagnostics:
            log_parse_diagnostics(adapter, self.diagnostics, verbose=self._settings.debug_parse)

    def finish(self, error: BaseException | None = None) -> None:
        """End the call: record its history entry, tell callbacks, close the span."""
        if self.ended is not None:
            return
        self.ended = time.perf_counter()
        if error is not None and self.error is None:
            self.error = _describe(error)
        if self.response is None and self._run_started is not None:
            self.latency_s = self.ended - self._run_started
        entry = self.entry = self._make_entry(error)
        _record(entry, self._collector)
        if self._watchers:
            self._dispatch(
                self._watchers, "lm_end", response=self.response, entry=entry, error=error
            )
        if self._span is not None:
            otel.end_span(self._span, _span_end_attributes(entry), self.error)

    def _make_entry(self, error: BaseException | None) -> HistoryEntry:
        response = self.response
        parent = self.parent
        price = self.price or FREE  # no response: nothing was billed
        attempts: list[Any] = []
        if response is not None:
            attempts = response.attempts
        elif isinstance(error, ProviderError):
            attempts = error.attempts
        return HistoryEntry(
            kind="lm",
            call_id=self.call_id,
            parent_id=parent.call_id if parent is not None else None,
            root_id=parent.root_id if parent is not None else self.call_id,
            session_id=_entry.SESSION_ID,
            timestamp=self.timestamp,
            module=parent.module if parent is not None else None,
            signature=parent.signature if parent is not None else None,
            provider=self.lm.provider,
            model=self.lm.model,
            response_model=response.model if response is not None else None,
            request=self.request,
            response=response,
            usage=response.usage if response is not None else Usage(),
            cost_usd=price.usd,
            cost_known=price.known,
            saved_usd=self.saved_usd,
            latency_s=self.latency_s,
            ttft_s=self.ttft_s if self.ttft_s is not None or response is None else response.ttft_s,
            stream=self.streamed,
            cache=self.cache_state,
            cache_key=self.cache_key,
            attempts=attempts,
            adapter=self.adapter,
            fallback_from=self.fallback_from,
            diagnostics=self.diagnostics,
            metadata=response.metadata if response is not None else {},
            error=self.error,
            raw=response.raw if response is not None and self._settings.save_raw else None,
            run_id=self._settings.run_id,
        )

    @property
    def duration_s(self) -> float | None:
        return None if self.ended is None else self.ended - self.started

    def to_dict(self) -> dict[str, Any]:
        from lmbench.observe.trace import lm_node

        return lm_node(self)

    def __repr__(self) -> str:
        return f"<LMCall {self.lm.name} id={self.call_id} cache={self.cache_state}>"


def _span_end_attributes(entry: HistoryEntry) -> dict[str, Any]:
    return {
        "gen_ai.response.model": entry.response_model,
        "gen_ai.response.finish_reasons": [entry.finish_reason] if entry.finish_reason else None,
        "gen_ai.usage.input_tokens": entry.usage.input_tokens,
        "gen_ai.usage.output_tokens": entry.usage.output_tokens,
        "lmbench.cache": entry.cache,
        "lmbench.cost_usd": entry.cost_usd,
    }


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
