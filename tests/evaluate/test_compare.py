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
    assert figure.data[0].type == "scatter"
    # every variant is named once; variants on the same point share its label
    labels = [name for label in figure.data[0].text if label for name in label.split(", ")]
    assert sorted(labels) == sorted(table.index)
    # scripted models cost nothing: the chart is against tokens, never a cost axis around 0
    assert figure.layout.xaxis.title.text == "tokens" and list(figure.data[0].x) == list(
        table["tokens"]
    )
    assert figure.layout.xaxis.rangemode == "tozero"
    assert figure.layout.paper_bgcolor == "rgba(0,0,0,0)"  # reads on a dark page too
    page = comparison._repr_html_()
    assert "<style" not in page and "★" in page and "3 rows where the variants" in page
    assert "good=0.800" in repr(comparison)


def test_variants_must_be_a_dict() -> None:
    with pytest.raises(ConfigError, match="dict of name -> program"):
        lmbench.compare([Predict("question -> answer")], items(1), "exact_match")


def test_variants_on_the_same_point_share_one_label() -> None:
    from lmbench.evaluate.compare import _point_labels

    labels = _point_labels([10, 12, 10], [0.9, 0.5, 0.9], ["3-shot", "zero-shot", "bootstrapped"])
    assert labels == ["3-shot, bootstrapped", "zero-shot", ""]
