"""Runs reloaded from JSONL and SQLite histories."""

from __future__ import annotations

from pathlib import Path

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
