"""Parallel: concurrent calls, input order kept, settings carried into threads, errors collected."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from chat_answers import chat_answer

from lmbench.errors import ConfigError, InputError, RunsFailed
from lmbench.lm.scripted import ScriptedLM
from lmbench.modules.base import Module
from lmbench.modules.parallel import ItemError, Parallel, parallel_map
from lmbench.modules.predict import Predict
from lmbench.primitives.example import Example
from lmbench.primitives.prediction import Prediction
from lmbench.settings import context, current

# parallel_map is the deprecated name of lmbench.batch; its behaviour is still checked here
pytestmark = pytest.mark.filterwarnings("ignore:parallel_map is deprecated:DeprecationWarning")


def answer(value: str) -> str:
    return chat_answer(answer=value)


CAPITALS = {"France": "Paris", "Norway": "Oslo", "Peru": "Lima", "Japan": "Tokyo"}


class Echo(Module):
    """Returns its input; raises for names in ``failing``; records the rollout id it saw."""

    def __init__(self, failing: tuple[str, ...] = ()) -> None:
        self.failing = failing

    def forward(self, name: str) -> Prediction:
        if name in self.failing:
            raise ValueError(f"cannot handle {name}")
        return Prediction({"name": name, "rollout": current().rollout_id})


def test_results_keep_the_order_of_the_inputs() -> None:
    lm = ScriptedLM({f"capital of {c}": answer(city) for c, city in CAPITALS.items()})
    qa = Predict("question -> answer", lm=lm)
    results = Parallel(num_threads=3)([(qa, {"question": f"capital of {c}?"}) for c in CAPITALS])
    assert [r.answer for r in results] == list(CAPITALS.values())
    assert results.errors == []
    assert len(lm.requests) == 4


async def test_parallel_can_be_awaited() -> None:
    lm = ScriptedLM({f"capital of {c}": answer(city) for c, city in CAPITALS.items()})
    qa = Predict("question -> answer", lm=lm)
    results = await Parallel(num_threads=2).acall(
        [(qa, {"question": f"What is the capital of {c}?"}) for c in CAPITALS]
    )
    assert [r.answer for r in results] == list(CAPITALS.values())
    assert results.errors == []


def test_items_really_run_at_the_same_time() -> None:
    barrier = threading.Barrier(2, timeout=30)

    class Meet(Module):
        def forward(self, name: str) -> Prediction:
            barrier.wait()  # breaks (raising) unless both items are running together
            return Prediction({"name": name})

    results = Parallel(num_threads=2)([(Meet(), {"name": "a"}), (Meet(), {"name": "b"})])
    assert results.errors == []
    assert [r.name for r in results] == ["a", "b"]


def test_settings_of_the_caller_apply_inside_the_threads() -> None:
    lm = ScriptedLM({"Peru": answer("Lima")})
    qa = Predict("question -> answer")  # no LM of its own: takes the context's
    with context(lm=lm, rollout_id="batch-1"):
        results = parallel_map(Echo(), [{"name": "x"}, {"name": "y"}], num_threads=2)
        [lima] = Parallel(num_threads=2)([(qa, {"question": "capital of Peru?"})])
    assert [r.rollout for r in results] == ["batch-1", "batch-1"]
    assert lima.answer == "Lima"


def test_failed_items_leave_none_and_an_error_each() -> None:
    results = parallel_map(Echo(failing=("b", "d")), [{"name": n} for n in "abcde"], num_threads=2)
    assert [r.name if r is not None else None for r in results] == ["a", None, "c", None, "e"]
    assert [(e.index, e.inputs, str(e.error)) for e in results.errors] == [
        (1, {"name": "b"}, "cannot handle b"),
        (3, {"name": "d"}, "cannot handle d"),
    ]
    assert all(isinstance(e, ItemError) for e in results.errors)
    assert results.failed_inputs == [{"name": "b"}, {"name": "d"}]


def test_more_errors_than_allowed_stops_the_batch() -> None:
    with pytest.raises(RunsFailed, match="2 of 4 items failed, more than max_errors=1") as info:
        parallel_map(
            Echo(failing=("a", "b")),
            [{"name": n} for n in "abcd"],
            num_threads=1,
            max_errors=1,
        )
    assert [str(e) for e in info.value.errors] == ["cannot handle a", "cannot handle b"]
    assert isinstance(info.value.__cause__, ValueError)


def test_an_error_no_item_can_avoid_is_raised_at_once() -> None:
    lm = ScriptedLM({"France": answer("Paris")})  # no answer for Norway: a ConfigError
    qa = Predict("question -> answer", lm=lm)
    with pytest.raises(ConfigError, match="no scripted answer"):
        Parallel(num_threads=1)(
            [(qa, {"question": "capital of Norway?"}), (qa, {"question": "capital of France?"})]
        )


def test_examples_pass_only_their_marked_inputs() -> None:
    examples = [Example(name="a", label="A").with_inputs("name"), {"name": "b"}]
    results = parallel_map(Echo(), examples)
    assert [r.name for r in results] == ["a", "b"]


def test_items_are_checked_before_anything_runs() -> None:
    echo = Echo()
    with pytest.raises(
        InputError, match="item 1 is 'oops'; each item must be a \\(module, inputs\\) pair"
    ):
        Parallel()([(echo, {"name": "a"}), "oops"])  # type: ignore[list-item]
    with pytest.raises(InputError, match="item 0: inputs \\['a'\\] \\(list\\) must be a mapping"):
        Parallel()([(echo, ["a"])])
    with pytest.raises(InputError, match="item 0: 'qa' is not a module"):
        Parallel()([("qa", {"name": "a"})])
    with pytest.raises(ConfigError, match="num_threads=0"):
        Parallel(num_threads=0)


def test_each_item_is_a_child_of_the_parallel_call() -> None:
    lm = ScriptedLM({"France": answer("Paris"), "Japan": answer("Tokyo")})
    qa = Predict("question -> answer", lm=lm)
    results = parallel_map(qa, [{"question": "France?"}, {"question": "Japan?"}])
    parent = results[0].call.parent
    assert parent.module == "Parallel"
    assert results[1].call.parent is parent
    assert sorted(c.call_id for c in parent.children) == sorted(r.call.call_id for r in results)


def test_an_empty_batch_gives_an_empty_result() -> None:
    assert parallel_map(Echo(), []) == []


def test_items_may_use_different_modules() -> None:
    lm = ScriptedLM({"France": answer("Paris")})
    results: Any = Parallel()(
        [(Echo(), {"name": "x"}), (Predict("question -> answer", lm=lm), {"question": "France?"})]
    )
    assert (results[0].name, results[1].answer) == ("x", "Paris")


def test_results_carry_the_usage_and_cost_of_the_whole_batch() -> None:
    lm = ScriptedLM({c: answer(a) for c, a in CAPITALS.items()})
    qa = Predict("question -> answer", lm=lm)
    results = Parallel(num_threads=2)([(qa, {"question": f"{c}?"}) for c in CAPITALS])
    assert results.call is not None and results.call.module == "Parallel"
    assert results.usage.total_tokens == sum(r.usage.total_tokens for r in results) > 0
    assert results.usage.input_tokens == sum(r.usage.input_tokens for r in results)
    assert results.cost == 0.0
    assert len(results.call.lm_calls()) == len(CAPITALS)
