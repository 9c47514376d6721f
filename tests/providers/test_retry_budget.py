"""The process-wide retry budget: failures drain it, successes refill it, a drained budget
stops retries (recorded on the attempts and in history), and it is configurable."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from provider_faults import FaultServer, chat_body, raw, respond, response_bytes

import lmbench
from lmbench.errors import ConfigError, ProviderError
from lmbench.lm.types import LMRequest, Message
from lmbench.observe.collectors import MemoryCollector
from lmbench.providers.retry import RetryPolicy
from lmbench.providers.retry_budget import (
    RetryBucket,
    RetryBudget,
    parse_retry_budget,
)

HI = LMRequest((Message("user", "hi"),))
FAST = RetryPolicy(initial_delay=0.001, max_delay=0.001, jitter=0.0, max_retries=2)


def test_the_bucket_follows_grpc_throttling() -> None:
    bucket = RetryBucket("p", RetryBudget(max_tokens=4, token_ratio=0.5))
    assert bucket.failed() == (3.0, True)  # 3 > 4 / 2
    assert bucket.failed() == (2.0, False)  # at half: no more retries
    assert bucket.failed() == (1.0, False)
    assert bucket.succeeded() == 1.5
    assert bucket.succeeded() == 2.0 and bucket.succeeded() == 2.5
    assert bucket.failed() == (1.5, False)
    for _ in range(10):
        bucket.succeeded()
    assert bucket.tokens == 4.0  # never above max_tokens
    for _ in range(10):
        bucket.failed()
    assert bucket.tokens == 0.0  # never below 0


def test_a_drained_budget_stops_retries_until_calls_succeed(server: FaultServer) -> None:
    lm = lmbench.resolve_lm("openai-compatible/m", base_url=server.url, retry=FAST)
    history = MemoryCollector()
    failing = respond(503, {"error": {"message": "overloaded"}})
    server.script(failing, failing, failing, respond(200, chat_body("ok")), failing, failing)
    with lmbench.context(retry_budget=RetryBudget(max_tokens=4), history=history, cache=False):
        with pytest.raises(ProviderError) as first:
            lm.generate(HI)  # 503 (3 tokens left: retried), 503 (2 left: drained, stops)
        assert [a.retry_budget for a in first.value.attempts] == [3.0, 2.0]
        assert "retry budget" in first.value.attempts[-1].reason
        assert "retry budget" in str(first.value)
        with pytest.raises(ProviderError) as second:
            lm.generate(HI)  # drained: one attempt, no retry
        assert len(second.value.attempts) == 1 and server.count == 3
        assert lm.generate(HI).attempts[-1].retry_budget == 2.0  # a success refills by 1
        with pytest.raises(ProviderError) as third:
            lm.generate(HI)
        assert len(third.value.attempts) == 1  # 1 token left, still drained
        qa = lmbench.Predict("question -> answer", lm=lm)
        server.default = failing
        with pytest.raises(ProviderError):
            qa(question="q")
    recorded = [e.to_dict()["attempts"] for e in history.entries() if e.kind == "lm"]
    assert recorded[-1][-1]["retry_budget"] == 0.0
    assert "retry budget" in recorded[-1][-1]["reason"]


def test_a_failing_provider_under_parallel_calls_is_not_retried_into_the_ground(
    server: FaultServer,
) -> None:
    server.default = respond(503, {"error": {"message": "down"}})
    lm = lmbench.resolve_lm("openai-compatible/m", base_url=server.url, retry=FAST)

    def call(_: int) -> None:
        with pytest.raises(ProviderError):
            lm.generate(HI)

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(call, range(64)))
    # Without a budget: 64 calls x 3 attempts = 192 requests. The default budget (10 tokens)
    # allows retries only while more than 5 remain.
    assert 64 <= server.count <= 64 + 5


def test_no_budget_retries_every_call(server: FaultServer) -> None:
    server.default = respond(503, {"error": {"message": "down"}})
    lm = lmbench.resolve_lm("openai-compatible/m", base_url=server.url, retry=FAST)
    with lmbench.context(retry_budget=None):
        for _ in range(8):
            with pytest.raises(ProviderError) as info:
                lm.generate(HI)
            assert [a.retry_budget for a in info.value.attempts] == [None] * 3
    assert server.count == 24


def test_errors_that_are_not_retried_leave_the_budget_alone(server: FaultServer) -> None:
    server.default = respond(400, {"error": {"message": "bad request"}})
    lm = lmbench.resolve_lm("openai-compatible/m", base_url=server.url, retry=FAST)
    for _ in range(12):
        with pytest.raises(ProviderError) as info:
            lm.generate(HI)
    assert info.value.attempts[0].retry_budget is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("off", None),
        ("20", RetryBudget(20, 1.0)),
        ("10:0.1", RetryBudget(10, 0.1)),
        (" 5 : 0.5 ", RetryBudget(5, 0.5)),
    ],
)
def test_parse_retry_budget(text: str, expected: RetryBudget | None) -> None:
    assert parse_retry_budget(text) == expected


@pytest.mark.parametrize("text", ["lots", "10:x", "-3", "0.5:0", "5000"])
def test_a_bad_retry_budget_names_the_variable_and_the_forms(text: str) -> None:
    with pytest.raises(ConfigError, match=r"LMBENCH_RETRY_BUDGET|RetryBudget"):
        parse_retry_budget(text)


def test_the_environment_variable_sets_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    from lmbench import settings

    monkeypatch.setenv("LMBENCH_RETRY_BUDGET", "6:0.25")
    settings._global = None
    assert settings.current().retry_budget == RetryBudget(6, 0.25)
    monkeypatch.setenv("LMBENCH_RETRY_BUDGET", "off")
    settings._global = None
    assert settings.current().retry_budget is None
    with pytest.raises(ConfigError, match="retry_budget="):
        lmbench.configure(retry_budget="10")


async def test_64_concurrent_async_calls_to_a_failing_provider_are_not_retried_into_the_ground(
    server: FaultServer,
) -> None:
    server.default = respond(503, {"error": {"message": "down"}})
    lm = lmbench.resolve_lm("openai-compatible/m", base_url=server.url, retry=FAST)
    outcomes = await asyncio.gather(*(lm.agenerate(HI) for _ in range(64)), return_exceptions=True)
    assert all(isinstance(o, ProviderError) for o in outcomes)
    assert 64 <= server.count <= 64 + 5  # not 192: retries stop once half the budget is gone
    await lm.aclose()


def test_answers_cut_after_their_200_neither_spend_nor_drain_the_budget(
    server: FaultServer,
) -> None:
    body = json.dumps(chat_body("cut")).encode()
    server.default = raw(response_bytes(body=body[:10], content_length=len(body)))
    lm = lmbench.resolve_lm("openai-compatible/m", base_url=server.url, retry=FAST)
    with lmbench.context(retry_budget=RetryBudget(max_tokens=4)):
        for _ in range(6):
            with pytest.raises(ProviderError) as info:
                lm.generate(HI)
            assert [a.retry_budget for a in info.value.attempts] == [None]
        server.default = respond(503, {})
        with pytest.raises(ProviderError) as retried:
            lm.generate(HI)
    assert len(retried.value.attempts) == 2  # the budget is still full: the 503 was retried
