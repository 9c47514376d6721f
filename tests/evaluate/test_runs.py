"""Runs reloaded from JSONL and SQLite histories."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from evaluate_helpers import item_answer, items

import lmbench
from lmbench import metrics
from lmbench.evaluate import load_run, runs
from lmbench.lm.scripted import ScriptedLM
from lmbench.modules.predict import Predict
from lmbench.settings import configure


@pytest.mark.parametrize("backend", ["jsonl", "sqlite"])
def test_a_run_reloads_from_a_history_file(tmp_path: Path, backend: str) -> None:
    path = tmp_path / ("history.jsonl" if backend == "jsonl" else "history.db")
    configure(history=f"{backend}:///{path}")
    qa = Predict("question -> answer", lm=ScriptedLM(item_answer))
    result = lmbench.evaluate(qa, items(6), metrics.exact_match, progress=False, name="baseline")
    batch = lmbench.batch(qa, items(2), progress=False)
    configure(history="memory")

    reloaded = load_run(result.run_id, path)
    assert reloaded.score == result.score and reloaded.name == "baseline"
    assert [r.outputs for r in reloaded.rows] == [r.outputs for r in result.rows]
    assert [r.labels for r in reloaded.rows] == [r.labels for r in result.rows]
    assert reloaded.frame()["score"].tolist() == result.frame()["score"].tolist()
    assert reloaded.metric_name == "exact_match" and reloaded.totals.tokens == result.totals.tokens
    assert [r["run_id"] for r in runs(path)] == [result.run_id, batch.run_id]
    assert load_run(batch.run_id, path)[0] == {"answer": "answer-1"}
    history = lmbench.load_history(path)
    frame = history.frame()
    assert frame.groupby("run_id").size()[result.run_id] == 6
    with pytest.raises(KeyError, match="no run 'nope'"):
        load_run("nope", path)


def test_a_row_is_the_root_of_its_calls_in_the_history_tree() -> None:
    qa = Predict("question -> answer", lm=ScriptedLM(item_answer))
    result = lmbench.evaluate(qa, items(2), metrics.exact_match, progress=False)
    (row_entry, *_) = [
        e for e in lmbench.history.entries("all") if e.run_id == result.run_id and e.kind == "eval"
    ]
    tree = lmbench.history.tree(row_entry.root_id)
    assert tree["kind"] == "eval" and tree["module"] == "Evaluate"
    (predict,) = tree["children"]
    assert predict["module"] == "Predict" and predict["children"][0]["kind"] == "lm"


def test_history_cost_counts_each_model_call_once_after_an_evaluation(collector: Any) -> None:
    """Eval rows and module calls roll up their model calls; totals must not add them again."""
    from lmbench.lm import BaseLM, LMRequest, LMResponse, Usage
    from lmbench.observe.history import cost_report

    class PaidLM(BaseLM):
        provider, model = "openai", "gpt-4o-mini"

        def generate(self, request: LMRequest) -> LMResponse:
            return LMResponse(
                texts=["[[ ## answer ## ]]\nok\n\n[[ ## completed ## ]]"],
                model=self.model,
                provider=self.provider,
                usage=Usage(input_tokens=1000, output_tokens=100),
            )

    program = lmbench.Predict("question -> answer", lm=PaidLM())
    rows = [{"question": f"q{i}", "answer": "ok"} for i in range(3)]
    result = lmbench.evaluate(program, rows, lmbench.metrics.exact_match, progress=False)
    entries = collector.entries()
    model_calls = [e for e in entries if e.kind == "lm"]
    assert len(model_calls) == 3 and {e.kind for e in entries} >= {"eval", "module", "lm"}
    one = model_calls[0].cost_usd
    assert one and one > 0
    assert cost_report(entries).total_usd == pytest.approx(3 * one)
    assert cost_report(entries).calls == 3
    assert result.score == 1.0
