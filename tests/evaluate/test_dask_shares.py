"""Budgets over a Dask run are reserved before partitions are sent: on a real LocalCluster
against a loopback server that bills every call, a budget crossed mid-run stops the run
without passing the limit, and a budget that holds the run lets every row through once,
however small the shares the partitions get."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

distributed = pytest.importorskip("distributed", reason="needs lmbench[dask]")

from evaluate_helpers import items  # noqa: E402
from model_server import ModelServer, running_model_server  # noqa: E402

import lmbench  # noqa: E402
from lmbench import metrics  # noqa: E402
from lmbench.calls import budget  # noqa: E402
from lmbench.errors import BudgetExceeded  # noqa: E402
from lmbench.lm.registry import resolve_lm  # noqa: E402
from lmbench.modules import Module, Predict  # noqa: E402
from lmbench.observe import MemoryCollector, estimate_usage, price_of, set_price  # noqa: E402
from lmbench.settings import context  # noqa: E402

MAX_TOKENS = 16


@pytest.fixture(scope="module")
def server() -> Iterator[ModelServer]:
    set_price("openai/billed-loopback", input=1_000.0, output=1_000.0)  # $0.001 a token
    with running_model_server(delay=0.01) as running:
        yield running


def _qa(server: ModelServer) -> Predict:
    lm = resolve_lm("openai/billed-loopback", base_url=server.base_url, api_key="sk-driver-xyz")
    return Predict("question -> answer", lm=lm, adapter="chat", config={"max_tokens": MAX_TOKENS})


def _costs(qa: Predict) -> tuple[float, float]:
    """What one call costs (the server bills 48 tokens) and what it reserves before it is
    sent (its prompt's estimate and all of max_tokens): about three times as much."""
    with context(cache=False):
        first = qa(question="What is item 1?")
    reserved = price_of(qa.lm, estimate_usage(first.lm_calls[0].request)).usd
    assert first.cost == pytest.approx(0.048) and reserved is not None and reserved > first.cost
    return first.cost, reserved


def test_a_budget_crossed_mid_run_stops_it_within_the_limit(
    keyed_cluster: Any, server: ModelServer, collector: MemoryCollector
) -> None:
    qa = _qa(server)
    cost, reserved = _costs(qa)
    limit = 10.5 * cost  # ten calls; a partition holds eight rows
    before = server.requests
    with (
        context(cache=False),
        budget(usd=limit) as spent,
        pytest.raises(BudgetExceeded, match=r"budget exceeded \(usd\).*limit of \$0\.50") as info,
    ):
        lmbench.evaluate(
            qa, items(40), metrics.exact_match, threads=8, executor=keyed_cluster, progress=False
        )
    done = info.value.partial_result.rows  # type: ignore[attr-defined]
    sent = server.requests - before
    assert spent.spent_usd <= limit  # never past the limit: each call reserved its most first
    assert len(done) >= (limit - reserved) // cost  # ... and stopped only near it
    assert sent == len(done) == spent.calls  # no call was sent that the budget did not hold
    assert spent.spent_usd == pytest.approx(sent * cost)
    assert spent.reserved_usd == pytest.approx(0.0, abs=1e-12)  # every share given back
    billed = [e for e in collector.entries() if e.kind == "lm" and e.response is not None]
    assert sum(e.cost_usd or 0.0 for e in billed[1:]) == pytest.approx(spent.spent_usd)
    evaluated = {
        e.metadata["row"]["position"]
        for e in collector.entries()
        if e.kind == "eval" and "row" in e.metadata  # not the run's summary
    }
    assert evaluated == {r.position for r in done}  # rows refused by a share left no record


def test_small_shares_send_refused_rows_again_until_all_are_done(
    keyed_cluster: Any, server: ModelServer
) -> None:
    qa = _qa(server)
    cost, reserved = _costs(qa)
    # five partitions of eight rows, four calls at once each: a fifth of this budget holds
    # three reservations, not four, so shares refuse calls all along; the whole holds the run
    limit = 50 * cost
    assert 3 * reserved <= limit / 5 < 4 * reserved
    before = server.requests
    with context(cache=False), budget(usd=limit) as spent:
        result = lmbench.evaluate(
            qa, items(40), metrics.exact_match, threads=8, executor=keyed_cluster, progress=False
        )
    assert len(result.rows) == 40 and result.score == pytest.approx(0.8)
    assert [r.position for r in result.rows] == list(range(40))
    assert server.requests - before == 40  # no row paid for twice
    assert spent.spent_usd == pytest.approx(40 * cost) and spent.calls == 40
    assert spent.reserved_usd == pytest.approx(0.0, abs=1e-12)


def test_an_exhausted_budget_sends_nothing(keyed_cluster: Any, server: ModelServer) -> None:
    qa = _qa(server)
    cost, _ = _costs(qa)
    before = server.requests
    with context(cache=False), budget(usd=cost / 2), pytest.raises(BudgetExceeded) as info:
        lmbench.batch(qa, items(8), executor=keyed_cluster, progress=False)
    assert server.requests == before
    assert info.value.estimate is not None and info.value.estimate > cost / 2
    assert info.value.partial_result.rows == []  # type: ignore[attr-defined]


def test_cache_hits_cost_no_share(keyed_cluster: Any, server: ModelServer) -> None:
    qa = _qa(server)
    lmbench.batch(qa, items(6, start=200), executor=keyed_cluster, progress=False)  # cached
    with budget(usd=0.0) as spent:  # nothing to spend: cache hits still come through
        again = lmbench.batch(qa, items(6, start=200), executor=keyed_cluster, progress=False)
    assert {r.cache for r in again.rows} <= {"memory", "disk"} and spent.spent_usd == 0.0


class AskTwice(Module):
    """Asks its question, then asks again with the first answer: two calls a row."""

    def __init__(self, qa: Predict) -> None:
        self.qa = qa

    def forward(self, question: str) -> Any:
        first = self.qa(question=question)
        return self.qa(question=f"{question} (first said {first.answer})")


# -- the shares themselves, in this process ----------------------------------------------------
def _entry(tokens: int, usd: float, **fields: Any) -> Any:
    from lmbench.lm.types import LMResponse, Usage
    from lmbench.observe.entry import HistoryEntry

    return HistoryEntry(
        kind=fields.pop("kind", "lm"),
        call_id="c",
        parent_id=None,
        root_id="r",
        session_id="s",
        timestamp=0.0,
        provider="openai",
        model="m",
        usage=Usage(input_tokens=tokens),
        cost_usd=usd,
        response=LMResponse(texts=["x"]),
        **fields,
    )


def test_shares_split_what_is_left_and_settle_to_the_real_cost() -> None:
    from lmbench.evaluate.executors.shares import Refused, Shares

    with budget(usd=1.0, tokens=1_000) as outer, budget(usd=0.6) as inner:
        shares = Shares.in_force()
        assert shares is not None
        first = shares.take(waiting=3, at_once=1)
        assert first is not None
        limit, held = first
        assert limit.usd == pytest.approx(0.2) and limit.tokens == 333  # the tightest budget
        assert inner.reserved_usd == pytest.approx(0.2) and outer.reserved_tokens == 333
        shares.refused(Refused(10, 0.25, "openai/m", 30, 0.45), progressed=True)
        second = shares.take(waiting=2, at_once=1)
        assert second is not None and second[0].usd == pytest.approx(0.25)  # the call's need
        shares.settle(
            held, [_entry(40, 0.05), _entry(0, 0.0, kind="eval"), _entry(9, 0.0, cache="disk")]
        )
        assert inner.spent_usd == pytest.approx(0.05) and outer.spent_tokens == 40
        assert inner.calls == 1  # one billed call; roll-ups and cache hits cost nothing
        assert inner.reserved_usd == pytest.approx(0.25)  # the second share is still out
        second[1].release()
        shares.refused(Refused(10, 0.25, "openai/m", 30, 0.6), progressed=False)
        # no row finished: the next share must hold what that one needed in all, $0.60,
        # and $0.55 is left
        assert shares.take(waiting=1, at_once=1) is None
        error = shares.exhausted()
        assert error.kind == "usd" and error.limit == 0.6 and error.estimate == 0.6
        assert "the run's next row needs at least $0.60" in str(error)


def test_a_share_refuses_before_a_call_and_never_raises_after_one() -> None:
    from lmbench.calls.budget import active_budgets, reserve
    from lmbench.evaluate.executors.shares import ShareLimit

    with ShareLimit(usd=0.10, tokens=None).applied() as share:
        held = reserve(active_budgets(), tokens=5, usd=0.08, model="openai/m")
        with pytest.raises(BudgetExceeded):
            reserve(active_budgets(), tokens=5, usd=0.08, model="openai/m")
        assert share.refused is not None and share.refused.usd == 0.08
        assert share.refused.total_usd == pytest.approx(0.16)
        held.settle(tokens=5, usd=0.30, model="openai/m")  # billed past the share: no error
    assert share.spent_usd == pytest.approx(0.30) and active_budgets() == ()


def test_rows_of_two_calls_under_a_tight_budget_end_within_it(
    keyed_cluster: Any, server: ModelServer
) -> None:
    """A share that holds a row's first call but not its second: the row goes again with a
    share for both, every request is charged, and the run ends within the limit."""
    qa = _qa(server)
    cost, _ = _costs(qa)
    program = AskTwice(qa)
    limit = 20 * cost  # six partitions of two rows: a share first holds a call and a bit
    before = server.requests
    with context(cache=False), budget(usd=limit) as spent:
        try:
            done = lmbench.batch(
                program, items(12), threads=2, executor=keyed_cluster, progress=False
            ).rows
        except BudgetExceeded as exc:
            done = exc.partial_result.rows  # type: ignore[attr-defined]
    assert spent.spent_usd <= limit and spent.reserved_usd == pytest.approx(0.0, abs=1e-12)
    assert server.requests - before == spent.calls  # every request was charged
    assert len(done) >= 2 and all(r.error is None for r in done)
