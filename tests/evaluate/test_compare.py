"""compare: variants over the same rows, a table, a score-vs-cost chart, disagreements."""

from __future__ import annotations

import pytest
from evaluate_helpers import chat, item_answer, items

import lmbench
from lmbench import metrics
from lmbench.errors import ConfigError
from lmbench.lm.scripted import ScriptedLM
from lmbench.modules.predict import Predict


def test_variants_side_by_side() -> None:
    good = Predict("question -> answer", lm=ScriptedLM(item_answer))
    lazy = Predict("question -> answer", lm=ScriptedLM(lambda r: chat(answer="answer-1")))
    shared_lm = ScriptedLM(item_answer, model="other")
    comparison = lmbench.compare(
        {
            "good": good,
            "lazy": lazy,
            "settings": (Predict("question -> answer"), {"lm": shared_lm}),
        },
        items(5),
        metrics.exact_match,
        progress=False,
    )
    table = comparison.table()
    assert list(table.index) == ["good", "lazy", "settings"]
    assert table.loc["good", "score"] == pytest.approx(0.8)
    assert table.loc["lazy", "score"] == pytest.approx(0.2)
    assert table.loc["settings", "score"] == pytest.approx(0.8) and shared_lm.requests
    assert {"cost_usd", "mean_latency_s", "error_rate", "tokens", "run_id"} <= set(table.columns)
    differ = comparison.disagreements()
    # items 2, 3, 4 differ (good right, lazy wrong); item 1 both right, item 5 both wrong
    assert list(differ.index) == [1, 2, 3]
    assert differ.loc[1, "score[good]"] == 1.0 and differ.loc[1, "score[lazy]"] == 0.0
    assert differ.loc[1, "answer[lazy]"] == "answer-1"
    assert differ.loc[1, "expected_answer"] == "answer-2"
    figure = comparison.chart()
    assert figure.data[0].type == "scatter" and list(figure.data[0].text) == list(table.index)
    page = comparison._repr_html_()
    assert "<style" not in page and "★" in page and "3 rows where the variants" in page
    assert "good=0.800" in repr(comparison)


def test_variants_must_be_a_dict() -> None:
    with pytest.raises(ConfigError, match="dict of name -> program"):
        lmbench.compare([Predict("question -> answer")], items(1), "exact_match")
