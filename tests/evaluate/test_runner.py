"""evaluate and batch on threads: scores, per-row errors, early stops, frames, run ids."""

from __future__ import annotations

import math
import threading
import time
import warnings
from typing import Any

import pandas as pd
import pytest
from evaluate_helpers import chat, item_answer, items

import lmbench
from lmbench import metrics
from lmbench.errors import BudgetExceeded, RunsFailed
from lmbench.lm.scripted import ScriptedLM
from lmbench.lm.types import LMRequest
from lmbench.modules.predict import Predict
from lmbench.observe import MemoryCollector
from lmbench.settings import context


def test_evaluate_scores_every_row_and_frames_them(collector: MemoryCollector) -> None:
    qa = Predict("question -> answer", lm=ScriptedLM(item_answer))
    result = lmbench.evaluate(qa, items(10), metrics.exact_match, progress=False)
    assert result.score == pytest.approx(0.8)  # items 5 and 10 are answered "wrong"
    assert [r.score for r in result.rows] == [1, 1, 1, 1, 0, 1, 1, 1, 1, 0]
    frame = result.frame()
    assert list(frame.columns) == [
        "question",
        "expected_answer",
        "answer",
        "score",
        "error",
        "cost_usd",
        "metric_cost_usd",
        "tokens",
        "latency_s",
        "cache",
        "repairs",
        "adapter",
    ]
    assert (
        frame["answer"].tolist()[4] == "wrong"
        and frame["expected_answer"].tolist()[4] == "answer-5"
    )
    assert (frame["tokens"] > 0).all() and (frame["adapter"] == "ChatAdapter").all()
    assert set(frame["cache"]) == {"off"}
    totals = result.totals
    assert totals.rows == 10 and totals.errors == 0 and totals.tokens == frame["tokens"].sum()
    assert result.cost == 0.0
    assert [r.position for r in result.worst(2)] == [4, 9]


def test_results_keep_row_order_on_many_threads() -> None:
    seen: set[int] = set()

    def slow(request: LMRequest) -> str:
        seen.add(threading.get_ident())
        time.sleep(0.005)
        return item_answer(request)

    qa = Predict("question -> answer", lm=ScriptedLM(slow))
    result = lmbench.batch(qa, items(40), threads=8, progress=False)
    assert [p.answer for p in result] == [
        "wrong" if i % 5 == 0 else f"answer-{i}" for i in range(1, 41)
    ]
    assert len(seen) > 1


def test_row_errors_are_kept_scored_as_failures_and_never_stop_the_run() -> None:
    def answer(request: LMRequest) -> str:
        text = request.messages[-1].text
        if "item 3" in text:
            return "no markers at all"
        return item_answer(request).replace("answer-", "")  # "4"; "wrong" stays

    qa = Predict("question -> answer: int", lm=ScriptedLM(answer), adapter="chat")

    def metric(example: Any, prediction: Any) -> bool:
        if "item 4" in example.question:
            raise ValueError("metric broke")
        return True

    data = [{"question": f"item {i}", "answer": i} for i in range(1, 7)]
    result = lmbench.evaluate(qa, data, metric, progress=False)
    by_position = {r.position: r for r in result.rows}
    assert by_position[2].failed_in == "program" and "AdapterParseError" in by_position[2].error
    assert by_position[3].failed_in == "metric" and "metric broke" in by_position[3].error
    assert by_position[2].score == 0.0 and by_position[3].score == 0.0
    assert result.totals.errors == 3  # item 5 is answered "wrong", not an int
    unscored = lmbench.evaluate(qa, data, metric, progress=False, failure_score=None)
    assert unscored.rows[2].score is None and unscored.score == 1.0
    assert [e.index for e in unscored.errors] == [2, 3, 4]


def test_max_errors_stops_the_run_and_keeps_what_was_done() -> None:
    qa = Predict("question -> answer: int", lm=ScriptedLM(lambda r: "nothing"), adapter="chat")
    with pytest.raises(RunsFailed, match="more than max_errors=2") as info:
        lmbench.evaluate(
            qa, items(30), metrics.exact_match, threads=1, max_errors=2, progress=False
        )
    partial = info.value.partial_result  # type: ignore[attr-defined]
    assert len(partial.rows) == 3 and all(r.error for r in partial.rows)


def test_a_budget_crossed_stops_the_run_with_the_rows_done() -> None:
    lm = ScriptedLM(item_answer)
    lm.free = False  # priced as an unknown model: usage counts against a token budget
    qa = Predict("question -> answer", lm=lm)
    with pytest.raises(BudgetExceeded) as info:
        lmbench.evaluate(
            qa, items(50), "exact_match", threads=1, progress=False, budget={"tokens": 300}
        )
    partial = info.value.partial_result  # type: ignore[attr-defined]
    assert 0 < len(partial.rows) < 50


def test_metric_returning_something_else_is_that_rows_error() -> None:
    qa = Predict("question -> answer", lm=ScriptedLM(item_answer))
    result = lmbench.evaluate(qa, items(2), lambda e, p: "yes", progress=False)
    assert "returned 'yes'" in result.rows[0].error and result.score == 0.0


def test_judge_calls_are_in_the_row_cost_and_in_history_under_the_run(
    collector: MemoryCollector,
) -> None:
    qa = Predict("question -> answer", lm=ScriptedLM(item_answer))
    judge = metrics.judge(lm=ScriptedLM(lambda r: chat(score=1)))
    result = lmbench.evaluate(qa, items(3), judge, progress=False)
    assert result.score == 1.0
    modules = [
        e.module for e in collector.entries() if e.kind == "lm" and e.run_id == result.run_id
    ]
    assert sorted(modules) == ["Judge"] * 3 + ["Predict"] * 3
    assert all(r.metric_cost == 0.0 for r in result.rows)


def test_runs_group_in_the_history_frame(collector: MemoryCollector) -> None:
    qa = Predict("question -> answer", lm=ScriptedLM(item_answer))
    first = lmbench.evaluate(qa, items(4), metrics.exact_match, progress=False)
    second = lmbench.batch(qa, items(3), progress=False)
    assert first.run_id != second.run_id
    lm_calls = lmbench.history.frame().groupby("run_id").size()
    assert lm_calls[first.run_id] == 4 and lm_calls[second.run_id] == 3
    outside = qa(question="What is item 1?")
    assert outside.answer == "answer-1" and lmbench.history.last()[0].run_id is None


def test_batch_frame_and_the_deprecated_names() -> None:
    qa = Predict("question, style -> answer", lm=ScriptedLM(item_answer))
    frame = pd.DataFrame({"question": ["item 1", "item 2"], "extra": [1, 2]}, index=[10, 20])
    result = lmbench.batch(qa, frame, constants={"style": "terse"}, progress=False)
    table = result.frame()
    assert list(table.index) == [10, 20]
    assert list(table.columns) == [
        "question",
        "answer",
        "input_tokens",
        "output_tokens",
        "cost_usd",
        "latency_s",
        "error",
    ]
    from lmbench.notebook.batch import run_over

    with pytest.warns(DeprecationWarning, match="lmbench.batch"):
        old = run_over(qa, frame, constants={"style": "terse"})
    assert old["answer"].tolist() == table["answer"].tolist()
    with pytest.warns(DeprecationWarning, match="lmbench.batch"):
        lmbench.parallel_map(qa, [{"question": "item 1", "style": "x"}])


def test_plain_functions_and_settings_from_the_caller() -> None:
    def shout(question: str) -> dict[str, str]:
        from lmbench.settings import current

        return {"answer": f"{question.upper()} {current().temperature}"}

    with context(temperature=0.3):
        result = lmbench.batch(
            shout, [{"question": "hi"}, {"question": "yo"}], threads=2, progress=False
        )
    assert [r["answer"] for r in result] == ["HI 0.3", "YO 0.3"]


def test_notebook_view_uses_inline_styles_only() -> None:
    qa = Predict("question -> answer", lm=ScriptedLM(item_answer))
    result = lmbench.evaluate(qa, items(10), metrics.exact_match, progress=False)
    page = result._repr_html_()
    assert "<style" not in page and 'style="' in page
    assert page.startswith('<div class="lmb tex2jax_ignore mathjax_ignore"')  # no MathJax on $
    assert "0.800" in page and "Worst rows" in page and "answer-5" in page and "wrong" in page
    assert "score 0 → 1 (10 rows)" in page  # the histogram of per-row scores
    assert "cost $0" in page
    # the headline score in colour: a plain one, then the theme's (brighter on a dark page)
    assert "color:#2e7d32;color:var(--jp-success-color1,#2e7d32)" in page
    # small scores keep the page's text colour, on a tint (readable in every theme)
    assert '<b style="background:rgba(211,47,47,.24);border-radius:3px;padding:0 4px">0.00' in page
    assert "color:#c62828" not in page
    assert "exact_match 0.800" in repr(result)
    empty = lmbench.evaluate(qa, [], metrics.exact_match, progress=False)
    assert math.isnan(empty.score) and "n/a" in empty._repr_html_()


def test_progress_bar_final_state_reads_rows_and_seconds(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from lmbench.progress import RunProgress

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bar = RunProgress(20, description="evaluate")
        for _ in range(20):
            bar.advance(1)
        bar.close()
    assert bar.text.startswith("20/20 rows · ")
    assert "20/20" in capsys.readouterr().err
