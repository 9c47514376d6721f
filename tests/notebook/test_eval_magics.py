"""%%predict --over DF --metric/--expected/--executor, and %lmbench eval."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from lmbench.lm import ScriptedLM
from lmbench.lm.types import LMRequest
from lmbench.settings import configure

from .conftest import chat_answer, run_cell


def answer(request: LMRequest) -> str:
    number = int(re.findall(r"item (\d+)", request.messages[-1].text)[-1])
    return chat_answer(answer="wrong" if number % 5 == 0 else f"answer-{number}")


def test_over_with_a_metric_scores_the_rows_and_lmbench_eval_shows_the_run(shell: Any) -> None:
    configure(lm=ScriptedLM(answer))
    shell.user_ns["df"] = pd.DataFrame(
        {
            "question": [f"What is item {i}?" for i in range(1, 11)],
            "gold": [f"answer-{i}" for i in range(1, 11)],
        }
    )
    run = run_cell(
        shell,
        '%%predict "question -> answer" --over df --metric exact_match --expected gold --out result\n# every row of df\n',
    )
    assert run.error is None
    result = shell.user_ns["result"]
    assert result.score == 0.8 and result.metric_name == "exact_match.on('answer', expected='gold')"
    assert "0.800" in run.html() and "<style" not in run.html()
    shown = run_cell(shell, "%lmbench eval")
    assert (
        shown.error is None and shown.result.score == 0.8 and shown.result.run_id == result.run_id
    )
    listed = run_cell(shell, "%lmbench eval runs")
    assert result.run_id in listed.result.index
    missing = run_cell(shell, "%lmbench eval nope")
    assert missing.error is not None and "no run 'nope'" in missing.html() + missing.text()


def test_metric_options_need_over_and_name_the_columns(shell: Any) -> None:
    configure(lm=ScriptedLM(answer))
    shell.user_ns["df"] = pd.DataFrame({"question": ["What is item 1?"], "gold": ["answer-1"]})
    alone = run_cell(shell, '%%predict "question -> answer" --metric f1\nquestion: hi\n')
    assert alone.error is not None and "add --over" in alone.html() + alone.text()
    wrong = run_cell(
        shell, '%%predict "question -> answer" --over df --metric f1 --expected label\n# rows\n'
    )
    assert wrong.error is not None
    assert "no such column" in wrong.html() + wrong.text() and "gold" in wrong.html() + wrong.text()
    unknown = run_cell(
        shell, '%%predict "question -> answer" --over df --metric accuracy\n# rows\n'
    )
    assert unknown.error is not None and "unknown metric" in unknown.html() + unknown.text()


def _progress_lines(run: Any) -> list[str]:
    return [
        o.data.get("text/html", "")
        for o in run.outputs
        if "lmb-status" in o.data.get("text/html", "")
    ]


def test_over_and_evaluate_show_the_progress_line_compare_shows(shell: Any) -> None:
    """One progress view for every run over many items: a live line that ends as a summary."""
    configure(lm=ScriptedLM(answer))
    shell.user_ns["df"] = pd.DataFrame(
        {"question": [f"What is item {i}?" for i in range(1, 6)], "answer": ["x"] * 5}
    )
    over = run_cell(shell, '%%predict "question -> answer" --over df\n# rows\n')
    evaluated = run_cell(
        shell,
        "import lmbench\n"
        "qa = lmbench.Predict('question -> answer')\n"
        "lmbench.evaluate(qa, df, 'exact_match', name='qa run')",
    )
    for run, name in ((over, "%%predict over df"), (evaluated, "qa run")):
        assert run.error is None, run.error
        lines = _progress_lines(run)
        assert f"• {name} · 0/5 rows" in lines[0]
        assert f"✓ {name} · 5/5 rows · " in lines[-1]  # the static summary a saved notebook keeps
        # no widget bar: nothing a reopened notebook would need widget state to draw
        assert not any("application/vnd.jupyter.widget-view+json" in o.data for o in run.outputs)
    scored = _progress_lines(evaluated)[-1]
    assert "error" not in scored  # rows that score 0 are not errors
