"""Every way a call over real HTTP can fail or be stopped leaves the books straight: the budget
holds nothing afterwards, history keeps an entry for the failed call, the cache stores no
failure, the call tree is back where it was, and the HTTP pool has every connection back.

Failures: an error status, a dropped connection, an answer cut off after its 200, an answer of
the wrong shape, a timeout. Stops: ``asyncio.wait_for``, ``task.cancel()``, a stream closed,
abandoned, or cancelled midway, sync and async. Callbacks that raise never break a call.
"""

from __future__ import annotations

import asyncio
import gc
import json
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from provider_faults import (
    FaultServer,
    chat_body,
    chat_events,
    raw,
    reset,
    respond,
    response_bytes,
    slow,
    trickle,
)

import lmbench
from lmbench.calls import Budget, Callback, budget, current_module_call
from lmbench.errors import ProviderError
from lmbench.lm.cache import get_cache
from lmbench.observe import MemoryCollector
from lmbench.providers.retry import RetryPolicy

ANSWER = "[[ ## answer ## ]]\nok\n\n[[ ## completed ## ]]"
KEY = "sk-test-0123456789abcdef"
FAST = RetryPolicy(initial_delay=0.01, max_delay=0.02, jitter=0.0, max_retries=0)
GOOD = respond(200, chat_body(ANSWER, model="gpt-4o-mini", prompt_tokens=40, completion_tokens=8))
SLOW_STREAM = trickle(chat_events(*ANSWER.split(" ")), every=0.05)


def _cut() -> Any:
    body = json.dumps(chat_body(ANSWER)).encode()
    return raw(response_bytes(body=body[:30], content_length=len(body)))


FAILURES: dict[str, Callable[[], Any]] = {
    "error status": lambda: respond(503, {"error": {"message": "overloaded"}}),
    "dropped connection": reset,
    "cut after 200": _cut,
    "wrong shape": lambda: respond(200, {"choices": "none"}),
    "timeout": lambda: slow(0.8, GOOD),
}


def _predict(server: FaultServer, **options: Any) -> lmbench.Predict:
    options.setdefault("retry", FAST)
    options.setdefault("timeout", 0.3)
    lm = lmbench.resolve_lm("openai/gpt-4o-mini", base_url=server.url, api_key=KEY, **options)
    return lmbench.Predict("question -> answer", lm=lm, config={"max_tokens": 20})


def _books_are_straight(spent: Budget) -> None:
    assert spent.reserved_usd == 0.0 and spent.reserved_tokens == 0 and spent.in_flight == 0
    assert current_module_call() is None


async def _drive(qa: lmbench.Predict, how: str, question: str) -> Any:
    if how == "call":
        return qa(question=question)
    if how == "acall":
        return await qa.acall(question=question)
    if how == "stream":
        return list(qa.stream(question=question))[-1]
    return [event async for event in qa.astream(question=question)][-1]


@pytest.mark.parametrize("how", ["call", "acall", "stream", "astream"])
@pytest.mark.parametrize("failure", sorted(FAILURES))
async def test_a_failed_call_releases_its_reservation_is_recorded_and_never_cached(
    server: FaultServer, collector: MemoryCollector, failure: str, how: str
) -> None:
    server.default = FAILURES[failure]()
    qa = _predict(server)
    with budget(usd=1.0) as spent, pytest.raises(ProviderError) as info:
        await _drive(qa, how, "q")
    _books_are_straight(spent)
    assert spent.calls == 0 and spent.spent_usd == 0.0
    (entry,) = [e for e in collector.entries() if e.kind == "lm"]
    assert entry.error is not None and type(info.value).__name__ in entry.error
    assert entry.attempts and entry.response is None
    assert get_cache().stats().writes == 0
    sent = server.count
    server.default = GOOD
    assert (await _drive(qa, how, "q")).answer == "ok"
    assert server.count == sent + 1  # the failure was not served from the cache


def test_a_response_without_usage_is_charged_what_it_reserved(server: FaultServer) -> None:
    body = chat_body(ANSWER, model="gpt-4o-mini")
    del body["usage"]
    server.default = respond(200, body)
    qa = _predict(server)
    with budget(usd=1.0) as spent, pytest.warns(RuntimeWarning, match="reported no token usage"):
        qa(question="q")
    assert spent.calls == 1 and spent.spent_usd > 0 and spent.spent_tokens > 20
    _books_are_straight(spent)


# -- cancellation --------------------------------------------------------------------------------


def _pool_limited(server: FaultServer) -> tuple[lmbench.Predict, httpx.AsyncClient]:
    """A Predict whose async client has 2 connections: one kept by a cancelled call would
    make later calls wait for the pool and time out."""
    client = httpx.AsyncClient(limits=httpx.Limits(max_connections=2))
    qa = _predict(server, timeout=1.0, async_http_client=client)
    return qa, client


async def _pool_gives_connections_back(qa: lmbench.Predict, server: FaultServer) -> None:
    server.default = GOOD
    with lmbench.context(cache=False):
        done = await asyncio.gather(*(qa.acall(question=f"after {i}") for i in range(6)))
    assert [p.answer for p in done] == ["ok"] * 6


async def test_wait_for_timeouts_leave_the_books_and_the_pool_straight(
    server: FaultServer, collector: MemoryCollector
) -> None:
    server.default = slow(0.5, GOOD)
    qa, client = _pool_limited(server)
    with budget(usd=1.0) as spent, lmbench.context(cache=False):
        for i in range(4):
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(qa.acall(question=f"q{i}"), 0.1)
    _books_are_straight(spent)
    cancelled = [e for e in collector.entries() if e.error and "CancelledError" in e.error]
    assert sorted(e.kind for e in cancelled) == ["lm"] * 4 + ["module"] * 4
    await _pool_gives_connections_back(qa, server)
    await client.aclose()


async def test_cancelled_tasks_leave_the_books_and_the_pool_straight(
    server: FaultServer, collector: MemoryCollector
) -> None:
    server.default = slow(0.5, GOOD)
    qa, client = _pool_limited(server)
    with budget(usd=1.0) as spent, lmbench.context(cache=False):
        tasks = [asyncio.create_task(qa.acall(question=f"q{i}")) for i in range(12)]
        await asyncio.sleep(0.15)
        for task in tasks:
            task.cancel()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(o, asyncio.CancelledError) for o in outcomes)
    _books_are_straight(spent)
    assert len([e for e in collector.entries() if e.kind == "lm"]) == 12
    await _pool_gives_connections_back(qa, server)
    await client.aclose()


async def _first_event(stream: Any) -> None:
    async for _ in stream:
        return


@pytest.mark.parametrize("stop", ["aclose", "abandon", "wait_for"])
async def test_an_async_stream_stopped_midway_ends_its_call_at_once(
    server: FaultServer, collector: MemoryCollector, stop: str
) -> None:
    server.default = SLOW_STREAM
    qa, client = _pool_limited(server)
    with budget(usd=1.0) as spent, lmbench.context(cache=False):
        if stop == "wait_for":
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(_first_event(_slowly(qa.astream(question="q"))), 0.2)
        else:
            stream = qa.astream(question="q")
            await _first_event(stream)
            assert current_module_call() is None  # the stream's node is its own
            if stop == "aclose":
                await stream.aclose()
            else:
                del stream
                gc.collect()
                await asyncio.sleep(0.05)  # the loop closes the abandoned stream
    _books_are_straight(spent)
    kinds = [(e.kind, (e.error or "").split(":")[0]) for e in collector.entries()]
    ended = "CancelledError" if stop == "wait_for" else "GeneratorExit"
    assert kinds == [("lm", ended), ("module", ended)]  # the LM call ends first
    await _pool_gives_connections_back(qa, server)
    await client.aclose()


async def _slowly(stream: Any) -> Any:
    """``stream``'s events, never done with the first (so the consumer is cancelled)."""
    async for event in stream:
        yield event
        await asyncio.sleep(10)


@pytest.mark.parametrize("stop", ["close", "abandon"])
def test_a_sync_stream_stopped_midway_ends_its_call_at_once(
    server: FaultServer, collector: MemoryCollector, stop: str
) -> None:
    server.default = SLOW_STREAM
    client = httpx.Client(limits=httpx.Limits(max_connections=1))
    qa = _predict(server, timeout=1.0, http_client=client)
    with budget(usd=1.0) as spent, lmbench.context(cache=False):
        stream: Iterator[Any] = qa.stream(question="q")
        next(stream)
        if stop == "close":
            stream.close()  # type: ignore[attr-defined]
        else:
            del stream
            gc.collect()
        _books_are_straight(spent)
        server.default = GOOD
        assert qa(question="next").answer == "ok"  # the one connection is free again
    assert [e.kind for e in collector.entries()][:2] == ["lm", "module"]
    client.close()


# -- callbacks -----------------------------------------------------------------------------------


class Raising(Callback):
    """Raises in every event it is told of."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def _raise(self, event: Any) -> None:
        self.seen.append(event.name)
        raise RuntimeError(f"callback failed in {event.name}")

    on_module_start = on_module_end = on_lm_start = on_lm_end = _raise
    on_adapter_format_start = on_adapter_format_end = _raise
    on_adapter_parse_start = on_adapter_parse_end = _raise


def _async_end() -> Callback:
    """A callback with an async ``on_lm_end``, of a class of its own (warned about once)."""

    class AsyncEnd(Callback):
        async def on_lm_end(self, event: Any) -> None:  # type: ignore[override]
            raise RuntimeError("never run")

    return AsyncEnd()


@pytest.mark.parametrize("how", ["call", "acall", "stream", "astream"])
async def test_a_callback_that_raises_never_breaks_the_call(
    server: FaultServer, collector: MemoryCollector, how: str
) -> None:
    server.default = GOOD
    raising = Raising()
    qa = _predict(server)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with budget(usd=1.0) as spent, lmbench.context(callbacks=[raising, _async_end()]):
            assert (await _drive(qa, how, f"q {how}")).answer == "ok"
        gc.collect()
    assert {"module_start", "lm_start", "lm_end", "module_end"} <= set(raising.seen)
    assert [e.kind for e in collector.entries()] == ["lm", "module"]
    assert spent.calls == 1 and spent.in_flight == 0
    messages = [str(w.message) for w in seen]
    assert any("AsyncEnd.on_lm_end is async" in m for m in messages)
    assert not any("never awaited" in m for m in messages)


# -- embeddings ------------------------------------------------------------------------------


async def test_failed_and_cancelled_embedding_calls_leave_the_books_straight(
    server: FaultServer, collector: MemoryCollector
) -> None:
    from lmbench.retrieval.embedder import Embedder

    embedder = Embedder(
        "openai/text-embedding-3-small", base_url=server.url, api_key=KEY, max_retries=0
    )
    server.default = respond(503, {"error": {"message": "down"}})
    with budget(usd=1.0) as spent:
        with pytest.raises(ProviderError, match="try again later"):
            embedder.embed(["a", "b"])
        server.default = slow(0.5, respond(200, {"data": [{"index": 0, "embedding": [1.0]}]}))
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(embedder.aembed(["c"]), 0.1)
    _books_are_straight(spent)
    errors = [(e.kind, (e.error or "").split(":")[0]) for e in collector.entries()]
    assert errors == [("embedding", "ProviderError"), ("embedding", "CancelledError")]
    assert get_cache().stats().writes == 0
