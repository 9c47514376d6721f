"""RemoteLM: the LM protocol, clients per event loop and per process, concurrency, copies,
capabilities."""

from __future__ import annotations

import asyncio
import copy
import gc
import multiprocessing
import os
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from provider_faults import FaultServer, Received, chat_body, echo, respond, slow

from lmbench import settings
from lmbench.lm.base import LM
from lmbench.lm.registry import resolve_lm
from lmbench.lm.types import Capabilities, LMRequest, Message
from lmbench.providers.clients import tls_context
from lmbench.providers.remote import RemoteLM
from lmbench.providers.retry_budget import RetryBudget

REQUEST = LMRequest((Message("user", "hi"),))


def _lm(server: FaultServer) -> RemoteLM:
    server.default = respond(200, chat_body("pong"))
    lm = resolve_lm("openai-compatible/m", base_url=f"{server.url}/v1")
    assert isinstance(lm, RemoteLM)
    return lm


def test_implements_the_lm_protocol(server: FaultServer) -> None:
    lm = _lm(server)
    assert isinstance(lm, LM)
    assert lm.name == "openai-compatible/m" and lm.provider == "openai-compatible"


def test_async_calls_work_across_event_loops(server: FaultServer) -> None:
    lm = _lm(server)

    async def call() -> str:
        async with lm:  # closes this loop's client on the way out
            return (await lm.agenerate(REQUEST)).text

    assert asyncio.run(call()) == "pong"
    assert asyncio.run(call()) == "pong"  # a new loop gets its own client
    assert server.count == 2


async def test_concurrent_async_calls(server: FaultServer) -> None:
    lm = _lm(server)
    texts = await asyncio.gather(*(lm.agenerate(REQUEST) for _ in range(6)))
    assert [r.text for r in texts] == ["pong"] * 6 and server.count == 6
    await lm.aclose()


async def test_many_concurrent_calls_keep_their_connections_alive(server: FaultServer) -> None:
    """40 calls in flight at once open 40 connections; the next 40 calls reuse all of them
    (httpx's own default keeps only 20 idle, and the rest were opened again every round)."""
    lm = _lm(server)
    server.default = slow(0.1, respond(200, chat_body("pong")))
    for _ in range(2):
        texts = await asyncio.gather(*(lm.agenerate(REQUEST) for _ in range(40)))
        assert [r.text for r in texts] == ["pong"] * 40
    await lm.aclose()
    assert server.count == 80
    assert len({received.peer for received in server.received}) == 40


def test_every_client_shares_one_tls_context(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Building a TLS context reads the whole CA bundle: done once, not per LM and loop."""
    built: list[object] = []
    build = httpx.create_ssl_context
    monkeypatch.setattr(httpx, "create_ssl_context", lambda: built.append(1) or build())
    tls_context.cache_clear()
    try:
        lms = [_lm(server) for _ in range(3)]

        async def call(lm: RemoteLM) -> str:
            async with lm:
                return (await lm.agenerate(REQUEST)).text

        for lm in lms:
            with lm:
                assert lm.generate(REQUEST).text == "pong"
            assert asyncio.run(call(lm)) == "pong"
        assert len(built) == 1
    finally:
        tls_context.cache_clear()


def test_concurrent_threads_share_one_client(server: FaultServer) -> None:
    lm = _lm(server)
    with ThreadPoolExecutor(4) as pool:
        texts = list(pool.map(lambda _: lm.generate(REQUEST).text, range(8)))
    assert texts == ["pong"] * 8 and server.count == 8
    lm.close()
    assert lm.generate(REQUEST).text == "pong"  # a closed LM opens a new client when used again
    lm.close()


def test_copies_share_the_lm(server: FaultServer) -> None:
    lm = _lm(server)
    assert copy.deepcopy(lm) is lm and copy.copy(lm) is lm


def test_capabilities_can_be_overridden() -> None:
    default = resolve_lm("deepseek/deepseek-chat")
    assert not default.capabilities.structured_output
    custom = resolve_lm("deepseek/deepseek-chat", capabilities=Capabilities(structured_output=True))
    assert custom.capabilities.structured_output


def test_context_managers_close_the_client(server: FaultServer) -> None:
    with _lm(server) as lm:
        lm.generate(REQUEST)
        client = lm._client
    assert client is not None and client.is_closed


def test_endpoint_follows_the_settings_in_force() -> None:
    lm = resolve_lm("openai-compatible/m", base_url="http://127.0.0.1:9/v1")
    assert isinstance(lm, RemoteLM)
    first = lm.endpoint()
    assert lm.endpoint() is first  # nothing changed: the same value
    with settings.context(timeout=30, max_retries=7, retry_budget=RetryBudget(4, 0.5)):
        inside = lm.endpoint()
        assert inside.timeout.read == 30 and inside.max_retries == 7
        assert inside.budget is not None and inside.budget.budget.max_tokens == 4
    with settings.context(retry_budget=None):
        assert lm.endpoint().budget is None
    after = lm.endpoint()
    assert after.timeout == first.timeout and after.max_retries == first.max_retries
    assert after.budget is first.budget


def _echo_question(received: Received) -> Any:
    return slow(0.02, respond(200, chat_body(received.body["messages"][-1]["content"])))


def _ask(lm: RemoteLM, tag: str, start: Any, results: Any) -> None:
    start.wait()  # every child on the inherited connection at once
    answers = []
    for i in range(10):
        question = f"{tag}-{i}"
        try:
            answers.append(lm.generate(LMRequest((Message("user", question),))).text == question)
        except Exception as exc:  # a connection read by two processes breaks
            answers.append(type(exc).__name__)
    results.put((tag, answers))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_processes_never_share_the_parents_connections(server: FaultServer) -> None:
    server.default = echo(_echo_question)
    lm = resolve_lm("openai-compatible/m", base_url=server.url, timeout=3, max_retries=0)
    assert isinstance(lm, RemoteLM)
    assert lm.generate(LMRequest((Message("user", "parent"),))).text == "parent"  # kept alive
    context = multiprocessing.get_context("fork")
    start, results = context.Barrier(4), context.Queue()
    children = [
        context.Process(target=_ask, args=(lm, f"child{n}", start, results)) for n in range(4)
    ]
    for child in children:
        child.start()
    answers = dict(results.get(timeout=60) for _ in children)
    for child in children:
        child.join()
    # On one shared kept-alive connection, processes read each other's answers.
    assert answers == {f"child{n}": [True] * 10 for n in range(4)}
    assert lm.generate(LMRequest((Message("user", "parent again"),))).text == "parent again"


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts open files in /proc")
def test_a_new_event_loop_per_call_never_piles_up_open_connections(server: FaultServer) -> None:
    lm = _lm(server)

    def open_files() -> int:
        gc.collect()
        return len(os.listdir("/proc/self/fd"))

    asyncio.run(lm.agenerate(REQUEST))
    before = open_files()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)  # closed loops' sockets, collected
        for _ in range(30):  # a service or a notebook running each call in asyncio.run
            assert asyncio.run(lm.agenerate(REQUEST)).text == "pong"
        # the server's side of each closed connection (a thread here) ends a moment later
        deadline = time.monotonic() + 5
        while open_files() - before > 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert open_files() - before <= 2
