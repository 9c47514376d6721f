"""Budgets under concurrency: every call reserves the most it can cost before it is sent, so
16 threads or 64 tasks overspend by the estimate's error at most, never by their number."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from lmbench.calls import budget, lm_call
from lmbench.errors import BudgetExceeded
from lmbench.lm import BaseLM, LMRequest, LMResponse, Message, StreamChunk, Usage
from lmbench.modules import Parallel, Predict
from lmbench.observe import MemoryCollector, estimate_usage, price_of

ANSWER = "[[ ## answer ## ]]\nok\n\n[[ ## completed ## ]]"
MAX_TOKENS = 400
#: The model uses this much more input than estimated: the estimate's error.
OVERSHOOT = 1.25


class SleepingPaidLM(BaseLM):
    """A priced model that takes ``delay`` seconds to answer, uses all of ``max_tokens`` and a
    quarter more prompt tokens than estimated, and counts the requests it was sent."""

    provider, model = "openai", "gpt-4o-mini"

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.sent = 0
        self._lock = threading.Lock()

    def _answer(self, request: LMRequest) -> LMResponse:
        with self._lock:
            self.sent += 1
        estimate = estimate_usage(request)
        usage = Usage(int(estimate.input_tokens * OVERSHOOT), request.max_tokens or 0)
        return LMResponse(texts=[ANSWER], model=self.model, usage=usage)

    def generate(self, request: LMRequest) -> LMResponse:
        time.sleep(self.delay)
        return self._answer(request)

    async def agenerate(self, request: LMRequest) -> LMResponse:
        await asyncio.sleep(self.delay)
        return self._answer(request)


def _one_call_usd(lm: SleepingPaidLM, qa: Predict) -> tuple[float, float]:
    """The estimated and the real cost of one of the test's calls (measured outside budgets)."""
    prediction = qa(question="question 0")
    request = prediction.lm_calls[0].request
    estimated = price_of(lm, estimate_usage(request)).usd
    real = prediction.cost
    assert estimated is not None and real is not None and real > estimated
    return estimated, real


def test_sixteen_threads_stay_within_the_limit_plus_the_estimate_error(
    collector: MemoryCollector,
) -> None:
    lm = SleepingPaidLM(delay=0.05)
    qa = Predict("question -> answer", lm=lm, config={"max_tokens": MAX_TOKENS, "cache": False})
    estimated, real = _one_call_usd(lm, qa)
    limit = 5 * estimated
    sent_before = lm.sent
    items = [(qa, {"question": f"question {i}"}) for i in range(48)]
    with budget(usd=limit) as spent, pytest.raises(BudgetExceeded) as refused:
        Parallel(num_threads=16)(items)
    # Without reservations all 16 threads pass the check at once and 16 calls are paid for.
    assert lm.sent - sent_before == 5
    assert spent.spent_usd <= limit * (real / estimated) + 1e-12
    assert spent.reserved_usd == pytest.approx(0.0, abs=1e-12)
    assert "would take the spent" in str(refused.value)
    calls = [e for e in collector.entries() if e.kind == "lm"]
    refusals = [e for e in calls if e.error and "the call was not made" in e.error]
    assert refusals and all(e.response is None for e in refusals)
    assert len(calls) - len(refusals) == lm.sent  # every other call was sent and kept


async def test_sixty_four_tasks_stay_within_the_limit_plus_the_estimate_error() -> None:
    lm = SleepingPaidLM(delay=0.05)
    qa = Predict("question -> answer", lm=lm, config={"max_tokens": MAX_TOKENS, "cache": False})
    estimated, real = _one_call_usd(lm, qa)
    limit = 7.5 * estimated
    sent_before = lm.sent
    with budget(usd=limit) as spent:
        outcomes = await asyncio.gather(
            *(qa.acall(question=f"question {i}") for i in range(64)), return_exceptions=True
        )
    answered = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, BudgetExceeded)]
    assert len(answered) + len(refused) == 64
    assert lm.sent - sent_before == len(answered) == 7  # every refused call was never sent
    assert spent.spent_usd <= limit * (real / estimated) + 1e-12
    assert spent.calls == 7 and spent.reserved_usd == pytest.approx(0.0, abs=1e-12)


def test_a_refused_or_failed_call_gives_its_reservation_back() -> None:
    class Failing(SleepingPaidLM):
        def generate(self, request: LMRequest) -> LMResponse:
            raise RuntimeError("the model fell over")

    class Streaming(SleepingPaidLM):
        def stream(self, request: LMRequest) -> Iterator[StreamChunk]:
            yield StreamChunk(text="o")
            yield StreamChunk(text="k", response=self._answer(request))

    request = LMRequest(messages=(Message("user", "hi"),), max_tokens=MAX_TOKENS)
    with budget(tokens=10_000) as limit:
        with pytest.raises(RuntimeError), lm_call(Failing(0.0), request, cache=False) as call:
            call.run()
        assert (limit.reserved_tokens, limit.spent_tokens, limit.calls) == (0, 0, 0)
        with lm_call(Streaming(0.0), request, cache=False) as call:
            chunks = call.stream()
            next(chunks)
            assert limit.reserved_tokens > 0  # held while the stream is open
            chunks.close()  # the reader stopped early: nothing was charged
        assert (limit.reserved_tokens, limit.calls) == (0, 0)


def test_without_max_tokens_a_call_reserves_the_rest_of_the_context_window() -> None:
    lm = SleepingPaidLM(delay=0.0)
    request = LMRequest(messages=(Message("user", "hi"),))
    whole_window = price_of(lm, Usage(0, 128_000)).usd
    assert whole_window is not None
    with (
        budget(usd=whole_window / 2) as limit,
        pytest.raises(BudgetExceeded) as info,
        lm_call(lm, request, cache=False) as call,
    ):
        call.run()
    assert lm.sent == 0 and limit.spent_usd == 0
    assert "set or lower max_tokens" in str(info.value)
    with budget(usd=whole_window * 2) as limit, lm_call(lm, request, cache=False) as call:
        call.run()
    assert lm.sent == 1 and limit.reserved_usd == pytest.approx(0.0, abs=1e-12)
