"""Charts of the history: the figures and traces each function returns."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import pytest

import lmbench
from lmbench.lm import LMRequest, ScriptedLM
from lmbench.observe import MemoryCollector
from lmbench.observe.history import CallHistory as History

from .conftest import chat_answer


def _json_only(request: LMRequest) -> str:
    """Answers a JSON prompt; gives a ChatAdapter prompt nothing it can parse."""
    prompt = "\n".join(m.text for m in request.messages)
    return "I cannot say." if "[[ ## answer ## ]]" in prompt else '{"answer": 2}'


@pytest.fixture
def history(memory_history: MemoryCollector) -> History:
    one = ScriptedLM([], default=chat_answer(answer=1), model="one")
    two = ScriptedLM(_json_only, model="two")
    for i in range(3):
        lmbench.Predict("question -> answer: int", lm=one)(question=f"q{i}")
    lmbench.Predict("question -> answer: int", lm=two)(
        question="fallback"
    )  # Chat fails, JSON parses
    return History(memory_history)


def test_cost_has_a_cumulative_line_per_model(history: History) -> None:
    figure = lmbench.plot.cost()
    assert isinstance(figure, go.Figure)
    assert [t.name for t in figure.data] == ["scripted/one", "scripted/two"]
    assert all(t.type == "scatter" for t in figure.data)
    assert len(figure.data[0].x) == 3 and list(figure.data[0].y) == [0.0, 0.0, 0.0]


def test_cost_accumulates_priced_calls() -> None:
    frame = pd.DataFrame(
        {
            "timestamp": pd.to_datetime([1, 2, 3], unit="s", utc=True),
            "kind": "lm",
            "provider": "openai",
            "model": "gpt-4o-mini",
            "cost_usd": [0.001, None, 0.002],
        }
    )
    (trace,) = lmbench.plot.cost(frame).data
    assert list(trace.y) == pytest.approx([0.001, 0.001, 0.003])


def test_latency_has_a_box_per_model(history: History) -> None:
    figure = lmbench.plot.latency(history.frame())
    assert [t.type for t in figure.data] == ["box", "box"]
    assert [len(t.y) for t in figure.data] == [3, 2]


def test_tokens_stack_input_and_output_per_call(history: History) -> None:
    frame = history.frame()
    figure = lmbench.plot.tokens(frame)
    assert [t.name for t in figure.data] == ["input", "output"]
    assert list(figure.data[0].y) == frame.sort_values("timestamp")["input_tokens"].tolist()
    assert figure.layout.barmode == "stack"


def test_repairs_show_repair_fallback_and_error_rates(history: History) -> None:
    rates = lmbench.plot.repair_rates()
    by_group = rates.set_index(["adapter", "model_name"])
    assert by_group.loc[("ChatAdapter", "scripted/one"), "calls"] == 3
    assert by_group.loc[("ChatAdapter", "scripted/two"), "error_rate"] == 1.0
    assert by_group.loc[("JSONAdapter", "scripted/two"), "fallback_rate"] == 1.0
    figure = lmbench.plot.repairs()
    assert [t.name for t in figure.data] == ["repaired", "fell back", "failed"]
    assert len(figure.data[0].x) == 3


@pytest.mark.parametrize("chart", ["cost", "latency", "tokens", "repairs"])
def test_with_no_calls_a_chart_says_so_instead_of_empty_axes(chart: str) -> None:
    figure = getattr(lmbench.plot, chart)()
    assert not figure.data
    assert figure.layout.annotations[0].text == "no calls recorded yet"
    assert figure.layout.xaxis.visible is False and figure.layout.yaxis.visible is False


def test_no_repairs_yet_is_said_in_words() -> None:
    ok = ScriptedLM([], default=chat_answer(answer=1), model="one")
    lmbench.Predict("question -> answer: int", lm=ok)(question="q")
    figure = lmbench.plot.repairs()
    assert not figure.data and "no repairs yet" in figure.layout.annotations[0].text


def test_an_all_free_cost_chart_starts_at_zero(history: History) -> None:
    figure = lmbench.plot.cost()
    assert tuple(figure.layout.yaxis.range) == (0, 1)  # not -1..1 around a flat zero line
    assert figure.layout.yaxis.rangemode == "tozero"


def test_charts_read_on_light_and_dark_pages(history: History) -> None:
    for chart in ("cost", "latency", "tokens", "repairs"):
        layout = getattr(lmbench.plot, chart)().layout
        assert layout.paper_bgcolor == "rgba(0,0,0,0)" and layout.plot_bgcolor == "rgba(0,0,0,0)"
        assert layout.font.color == "rgb(136,136,136)"
