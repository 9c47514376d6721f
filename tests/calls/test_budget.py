"""Budgets: refused before a call when it can be estimated, raised right after otherwise."""

from __future__ import annotations

import asyncio
import contextvars
import threading

import pytest

from lmbench.calls import active_budgets, budget, lm_call, session_budget, set_session_budget
from lmbench.errors import BudgetExceeded, ConfigError
from lmbench.lm import BaseLM, LMRequest, LMResponse, Message, ScriptedLM, Usage
from lmbench.observe import MemoryCollector, estimate_usage, price_of


def _request(text: str = "hello there", max_tokens: int | None = None) -> LMRequest:
    return LMRequest(messages=(Message("user", text),), max_tokens=max_tokens)


def _call(lm: object, request: LMRequest) -> str:
    with lm_call(lm, request) as call:  # type: ignore[arg-type]
        return call.run().text


def test_a_call_that_would_pass_the_token_limit_is_refused_before(
    collector: MemoryCollector,
) -> None:
    lm = ScriptedLM(["first answer", "never sent"])
    with budget(tokens=60) as limit:
        _call(lm, _request(max_tokens=10))
        spent = limit.spent_tokens
        with pytest.raises(BudgetExceeded) as info:
            _call(lm, _request(max_tokens=50))
    error = info.value
    assert (error.kind, error.spent, error.limit) == ("tokens", spent, 60)
    assert f"spent {spent} tokens" in str(error)
    assert "limit of 60 tokens" in str(error)
    assert "the call was not made" in str(error)
    assert len(lm.requests) == 1  # the second call never reached the LM
    first, refused = collector.entries()
    assert first.text == "first answer" and first.error is None
    assert refused.response is None and refused.error.startswith("BudgetExceeded")  # type: ignore[union-attr]


def test_without_an_estimate_the_call_that_crosses_raises_after(collector: MemoryCollector) -> None:
    lm = ScriptedLM(["x" * 40] * 3)  # about 3 input + 10 output tokens a call
    with budget(tokens=20) as limit, pytest.raises(BudgetExceeded) as info:
        for _ in range(3):
            _call(lm, _request())
    assert len(lm.requests) == 2
    assert (info.value.kind, info.value.spent, info.value.limit) == (
        "tokens",
        limit.spent_tokens,
        20,
    )
    assert limit.spent_tokens > 20
    assert "its result is kept in history" in str(info.value)
    entries = collector.entries()
    assert len(entries) == 2
    assert entries[1].text == "x" * 40  # the crossing call's answer is kept
    assert entries[1].error is not None and "budget exceeded (tokens)" in entries[1].error


class PaidLM(BaseLM):
    provider, model = "openai", "gpt-4o-mini"

    def __init__(self) -> None:
        self.calls = 0

    def generate(self, request: LMRequest) -> LMResponse:
        self.calls += 1
        return LMResponse(texts=["ok"], model=self.model, usage=Usage(1000, 1000))


def test_a_dollar_budget_is_estimated_from_the_price() -> None:
    lm = PaidLM()
    one_call = price_of(lm, Usage(1000, 1000)).usd
    assert one_call is not None
    request = _request("q" * 10, max_tokens=1000)
    estimate = price_of(lm, estimate_usage(request)).usd
    assert estimate is not None
    with budget(usd=one_call * 2.5) as limit:
        with lm_call(lm, request, cache=False) as call:
            call.run()
        with lm_call(lm, request, cache=False) as call:
            call.run()
        assert limit.spent_usd == pytest.approx(one_call * 2)
        with pytest.raises(BudgetExceeded) as info, lm_call(lm, request, cache=False) as call:
            call.run()
    assert lm.calls == 2
    assert info.value.kind == "usd"
    assert info.value.spent == pytest.approx(one_call * 2)
    assert f"${one_call * 2:.6f}" in str(info.value)


def test_nested_budgets_all_count() -> None:
    lm = ScriptedLM(["abcd"] * 4)
    with budget(tokens=1000) as outer:
        with budget(tokens=1000) as inner:
            assert active_budgets() == (outer, inner)
            _call(lm, _request())
        _call(lm, _request())
    assert inner.calls == 1 and outer.calls == 2
    assert outer.spent_tokens == 2 * inner.spent_tokens
    assert active_budgets() == ()


def test_cache_hits_are_free() -> None:
    lm = ScriptedLM(["cached"])
    lm.cacheable = True
    _call(lm, _request())
    with budget(tokens=1) as limit:
        assert _call(lm, _request()) == "cached"
    assert limit.spent_tokens == 0


def test_an_unpriced_model_warns_once_and_runs() -> None:
    class Unpriced(PaidLM):
        model = "model-without-price"

    lm = Unpriced()
    with budget(usd=0.01) as limit, pytest.warns(RuntimeWarning, match="no price is known"):
        for _ in range(2):
            with lm_call(lm, _request(max_tokens=5), cache=False) as call:
                call.run()
    assert (lm.calls, limit.unpriced_calls, limit.spent_usd) == (2, 2, 0.0)


def test_budgets_follow_tasks_and_copied_contexts() -> None:
    lm = ScriptedLM(["abcdefgh"] * 3)

    async def in_task() -> None:
        await asyncio.create_task(asyncio.to_thread(_call, lm, _request()))

    with budget(tokens=10_000) as limit:
        asyncio.run(in_task())
        context = contextvars.copy_context()
        thread = threading.Thread(target=context.run, args=(_call, lm, _request()))
        thread.start()
        thread.join()
    assert limit.calls == 2


def test_budget_needs_a_valid_limit() -> None:
    with pytest.raises(ConfigError, match="needs a limit"), budget():
        pass
    with pytest.raises(ConfigError, match="usd=-1"), budget(usd=-1):
        pass


def test_a_session_budget_covers_every_later_call_in_every_thread() -> None:
    lm = ScriptedLM(["abcdefgh"] * 3)
    session = set_session_budget(tokens=1000)
    try:
        assert session_budget() is session
        thread = threading.Thread(target=_call, args=(lm, _request()))
        thread.start()
        thread.join()
        with budget(tokens=1000) as inner:
            assert active_budgets() == (session, inner)
            _call(lm, _request())
        assert session is not None and session.calls == 2
        assert inner.calls == 1
    finally:
        set_session_budget()
    assert session_budget() is None and active_budgets() == ()
    with pytest.raises(ConfigError, match="set_session_budget"):
        set_session_budget(tokens=-5)
