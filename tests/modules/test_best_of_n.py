"""BestOfN: rollout ids and temperature per attempt, best by reward, early stop, failures."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from chat_answers import chat_answer
from paris import is_paris

from lmbench.errors import BudgetExceeded, ConfigError, RunsFailed
from lmbench.lm.scripted import ScriptedLM
from lmbench.modules.base import Module
from lmbench.modules.best_of_n import BestOfN
from lmbench.modules.predict import Predict
from lmbench.primitives.prediction import Prediction
from lmbench.settings import context, current


def answer(value: str) -> str:
    return chat_answer(answer=value)


class Probe(Module):
    """Answers from a list, raising the exceptions in it; records the settings of each call."""

    def __init__(self, outcomes: list[Any]) -> None:
        self.outcomes = list(outcomes)
        self.seen: list[tuple[Any, Any, dict[str, Any]]] = []

    def forward(self, **inputs: Any) -> Prediction:
        settings = current()
        self.seen.append((settings.rollout_id, settings.temperature, inputs))
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return Prediction({"answer": outcome})


def test_stops_at_the_first_attempt_reaching_the_threshold() -> None:
    lm = ScriptedLM([answer("Lyon"), answer("Paris"), answer("Nice")])
    best = BestOfN(Predict("question -> answer", lm=lm), n=3, reward_fn=is_paris, threshold=1.0)
    pred = best(question="Capital of France?")
    assert pred.answer == "Paris"
    assert len(lm.requests) == 2
    assert [(r.index, r.reward, r.prediction.answer) for r in pred.rollouts] == [
        (0, 0.0, "Lyon"),
        (1, 1.0, "Paris"),
    ]


def test_keeps_the_best_when_no_attempt_reaches_the_threshold() -> None:
    lm = ScriptedLM([answer("ab"), answer("abcd"), answer("abc")])
    best = BestOfN(
        Predict("question -> answer", lm=lm),
        n=3,
        reward_fn=lambda inputs, pred: len(pred.answer),
        threshold=10,
    )
    pred = best(question="Spell something")
    assert pred.answer == "abcd"
    assert [r.reward for r in pred.rollouts] == [2.0, 4.0, 3.0]


def test_each_attempt_has_its_own_rollout_id_and_temperature_one() -> None:
    probe = Probe(["a", "b", "c"])
    BestOfN(probe, n=3, reward_fn=lambda i, p: 0.0, threshold=1.0)(question="q")
    assert [(rid, temp) for rid, temp, _ in probe.seen] == [(0, 1.0), (1, 1.0), (2, 1.0)]


def test_a_set_temperature_and_an_outer_rollout_id_are_kept() -> None:
    probe = Probe(["a", "b"])
    with context(temperature=0.3, rollout_id="run-7"):
        BestOfN(probe, n=2, reward_fn=lambda i, p: 0.0, threshold=1.0)(question="q")
    assert [(rid, temp) for rid, temp, _ in probe.seen] == [
        (("run-7", 0), 0.3),
        (("run-7", 1), 0.3),
    ]


def test_rollout_ids_keep_identical_requests_apart_in_the_cache() -> None:
    lm = ScriptedLM([answer("one"), answer("two"), answer("three")])
    lm.cacheable = True
    best = BestOfN(
        Predict("question -> answer", lm=lm), n=3, reward_fn=lambda i, p: 0.0, threshold=1.0
    )
    question = f"the same question {uuid.uuid4()}"  # unseen by the test session's cache
    first = best(question=question)
    again = best(question=question)
    assert [r.prediction.answer for r in first.rollouts] == ["one", "two", "three"]
    assert [r.prediction.answer for r in again.rollouts] == ["one", "two", "three"]
    assert len(lm.requests) == 3  # the second run came from the cache, attempt by attempt
    assert [r.temperature for r in lm.requests] == [1.0, 1.0, 1.0]


def test_failed_attempts_are_counted_and_skipped() -> None:
    probe = Probe([ValueError("unparseable"), "Paris"])
    pred = BestOfN(probe, n=3, reward_fn=is_paris, threshold=1.0)(question="q")
    assert pred.answer == "Paris"
    failed, ok = pred.rollouts
    assert failed.failed and isinstance(failed.error, ValueError)
    assert (ok.failed, ok.reward) == (False, 1.0)
    assert failed.to_dict() == {
        "index": 0,
        "inputs": {"question": "q"},
        "outputs": None,
        "reward": None,
        "error": "ValueError: unparseable",
    }


def test_all_attempts_failing_raises_with_every_error_and_the_last_as_cause() -> None:
    errors = [ValueError("first"), KeyError("second"), RuntimeError("third")]
    best = BestOfN(Probe(list(errors)), n=3, reward_fn=is_paris, threshold=1.0)
    with pytest.raises(RunsFailed, match=r"all 3 attempts of BestOfN.*RuntimeError: third") as info:
        best(question="q")
    assert info.value.errors == errors
    assert info.value.__cause__ is errors[-1]


def test_errors_no_retry_can_fix_are_raised_at_once() -> None:
    probe = Probe([BudgetExceeded("spent", kind="usd", spent=2.0, limit=1.0), "Paris"])
    with pytest.raises(BudgetExceeded):
        BestOfN(probe, n=3, reward_fn=is_paris, threshold=1.0)(question="q")
    assert len(probe.seen) == 1


def test_the_call_tree_holds_every_attempt() -> None:
    lm = ScriptedLM([answer("Lyon"), answer("Nice"), answer("Paris")])
    best = BestOfN(Predict("question -> answer", lm=lm), n=3, reward_fn=is_paris, threshold=1.0)
    pred = best(question="q")
    assert pred.call.module == "BestOfN"
    assert [c.request for c in pred.lm_calls] == lm.requests


def test_a_reward_that_is_not_a_number_is_a_clear_error() -> None:
    best = BestOfN(Probe(["a"]), n=1, reward_fn=lambda i, p: "high", threshold=1.0)
    with pytest.raises(ConfigError, match="reward_fn returned 'high' \\(str\\)"):
        best(question="q")


def test_boolean_rewards_count_as_one_and_zero() -> None:
    pred = BestOfN(
        Probe(["x", "Paris"]), n=3, reward_fn=lambda i, p: p.answer == "Paris", threshold=1
    )(question="q")
    assert [r.reward for r in pred.rollouts] == [0.0, 1.0]


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ConfigError, match="n=0"):
        BestOfN(Probe([]), n=0, reward_fn=is_paris, threshold=1.0)
    with pytest.raises(ConfigError, match="reward_fn=3 is not callable"):
        BestOfN(Probe([]), n=2, reward_fn=3, threshold=1.0)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="module='qa' is not callable"):
        BestOfN("qa", n=2, reward_fn=is_paris, threshold=1.0)  # type: ignore[arg-type]


# -- parallel attempts -------------------------------------------------------------------------


def test_parallel_attempts_run_at_once_with_their_own_rollout_ids() -> None:
    import threading
    import time

    from lmbench.lm.base import BaseLM
    from lmbench.lm.types import LMRequest, LMResponse, Usage
    from lmbench.observe.collectors import MemoryCollector

    class Slow(BaseLM):
        provider, model, cacheable = "bench", "slow", False

        def __init__(self) -> None:
            self.running = 0
            self.most = 0
            self.lock = threading.Lock()

        def generate(self, request: LMRequest) -> LMResponse:
            with self.lock:
                self.running += 1
                self.most = max(self.most, self.running)
            time.sleep(0.1)
            with self.lock:
                self.running -= 1
            return LMResponse([answer("Paris")], usage=Usage(10, 2))

    lm = Slow()
    history = MemoryCollector()
    best = BestOfN(
        Predict("question -> answer", lm=lm), n=4, reward_fn=is_paris, threshold=2.0, parallel=True
    )
    with context(history=history):
        pred = best(question="Capital of France?")
    assert lm.most == 4  # the four calls were in flight at once
    assert sorted(r.index for r in pred.rollouts) == [0, 1, 2, 3]
    lm_entries = [e for e in history.entries() if e.kind == "lm"]
    assert len(lm_entries) == 4
    assert pred.usage.input_tokens == 40  # every attempt counted under the BestOfN call
    best_id = pred.call.call_id
    parents = {e.call_id: e.parent_id for e in history.entries()}
    for entry in lm_entries:
        assert parents[entry.parent_id] == best_id  # Predict node under the BestOfN node


def test_parallel_stops_at_the_threshold_and_raises_fatal_errors() -> None:
    probe = Probe(["Lyon", "Paris", "Paris"])
    best = BestOfN(probe, n=3, reward_fn=is_paris, threshold=1.0, parallel=True)
    pred = best(question="Capital of France?")
    assert pred.answer == "Paris"
    assert sorted(r.reward for r in pred.rollouts) == [0.0, 1.0, 1.0]  # all three ran
    rollout_ids = [rid for rid, _, _ in probe.seen]
    assert sorted(rollout_ids) == [0, 1, 2]

    with pytest.raises(BudgetExceeded):
        BestOfN(
            Probe([BudgetExceeded("spent", kind="usd", spent=1, limit=1)] * 2),
            n=2,
            reward_fn=is_paris,
            threshold=1.0,
            parallel=True,
        )(question="?")

    failing = BestOfN(
        Probe([ValueError("a"), ValueError("b")]),
        n=2,
        reward_fn=is_paris,
        threshold=1.0,
        parallel=True,
    )
    with pytest.raises(RunsFailed, match="all 2 attempts"):
        failing(question="?")


def test_parallel_attempts_can_be_awaited() -> None:
    import asyncio

    lm = ScriptedLM([answer("Lyon"), answer("Paris")], repeat=True)
    best = BestOfN(
        Predict("question -> answer", lm=lm), n=2, reward_fn=is_paris, threshold=1.0, parallel=True
    )

    async def run() -> Any:
        return await best.acall(question="?")

    pred = asyncio.run(run())
    assert pred.answer == "Paris" and len(pred.rollouts) == 2
    assert "parallel=True" in repr(best)
