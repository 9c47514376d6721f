"""``lmbench.plot``: charts of the call history as plotly figures.

Each function takes a history frame (``lmbench.observe.history.frame()``, the default, or any
frame with the same columns, e.g. one loaded from a saved history) and returns a
``plotly.graph_objects.Figure``: ``cost`` (cumulative, over time, per model), ``latency``
(box per model), ``tokens`` (input and output per call) and ``repairs`` (parse repair,
fallback and error rates per adapter and model). Displayed figures carry an HTML fallback so
they show in saved notebooks (see ``lmbench.notebook.plotly_output``).

The charts read in light and dark themes alike: transparent backgrounds (the notebook's own
shows through), mid-grey text and translucent grid lines. With nothing to draw, a chart says so
in words instead of showing empty axes.
"""

from __future__ import annotations

from typing import Any

from lmbench.notebook.plotly_output import use_html_fallback

__all__ = ["THEME_NEUTRAL", "cost", "latency", "neutral_theme", "repair_rates", "repairs", "tokens"]

_GREY = "rgb(136,136,136)"
_GRID = "rgba(136,136,136,0.25)"

#: Layout that reads on a light and on a dark page: no background of its own, grey text.
THEME_NEUTRAL: dict[str, Any] = {
    "template": "plotly_white",
    "paper_bgcolor": "rgba(0,0,0,0)",
    "plot_bgcolor": "rgba(0,0,0,0)",
    "font": {"color": _GREY},
    "legend": {"bgcolor": "rgba(0,0,0,0)"},
}
_AXES: dict[str, Any] = {"gridcolor": _GRID, "zerolinecolor": _GRID, "linecolor": _GRID}


def _lm_calls(frame: Any) -> Any:
    if frame is None:
        from lmbench.observe.history import history

        frame = history.frame()
    if "kind" in frame.columns:
        frame = frame[frame["kind"] == "lm"]
    frame = frame.sort_values("timestamp").copy()
    frame["model_name"] = frame["provider"].fillna("?") + "/" + frame["model"].fillna("?")
    return frame


def neutral_theme(figure: Any) -> Any:
    """Give ``figure`` lmbench's look, readable on light and dark pages, and an HTML
    fallback for saved notebooks; returns it."""
    use_html_fallback()
    figure.update_layout(**THEME_NEUTRAL)
    figure.update_xaxes(**_AXES)
    figure.update_yaxes(**_AXES)
    return figure


def _figure(title: str, xaxis: str, yaxis: str, **layout: Any) -> Any:
    import plotly.graph_objects as go

    figure = neutral_theme(go.Figure())
    figure.update_layout(title=title, xaxis_title=xaxis, yaxis_title=yaxis, **layout)
    return figure


def _note(figure: Any, text: str) -> Any:
    """Say ``text`` in the middle of a chart with nothing to draw, with no empty axes."""
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    figure.add_annotation(
        text=text, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5, font={"size": 14}
    )
    figure.update_layout(height=240)
    return figure


def cost(frame: Any = None) -> Any:
    """Cumulative cost in USD over time, one line per model (unpriced calls count as 0)."""
    import plotly.graph_objects as go

    calls = _lm_calls(frame)
    figure = _figure("Cost over time", "time", "cumulative cost (USD)")
    if calls.empty:
        return _note(figure, "no calls recorded yet")
    for model, group in calls.groupby("model_name", sort=True):
        figure.add_trace(
            go.Scatter(
                x=group["timestamp"],
                y=group["cost_usd"].fillna(0.0).cumsum(),
                mode="lines+markers",
                name=model,
                line_shape="hv",
            )
        )
    figure.update_yaxes(rangemode="tozero")
    if not calls["cost_usd"].fillna(0.0).any():
        # all free (local, cached): a flat line at 0 on a 0..1 axis, said in words
        figure.update_yaxes(range=[0, 1])
        figure.add_annotation(
            text="every call so far cost 0 USD", showarrow=False, xref="paper", yref="paper",
            x=0.5, y=0.6,
        )  # fmt: skip
    return figure


def latency(frame: Any = None) -> Any:
    """Latency of each call in seconds, a box per model."""
    import plotly.graph_objects as go

    calls = _lm_calls(frame)
    figure = _figure("Latency per model", "model", "latency (s)", showlegend=False)
    if calls.empty:
        return _note(figure, "no calls recorded yet")
    for model, group in calls.groupby("model_name", sort=True):
        figure.add_trace(go.Box(y=group["latency_s"], name=model, boxpoints="all"))
    return figure


def tokens(frame: Any = None) -> Any:
    """Input and output tokens of each call, stacked, in call order."""
    import plotly.graph_objects as go

    calls = _lm_calls(frame)
    number = list(range(1, len(calls) + 1))
    hover = calls["model_name"] + " · " + calls["module"].fillna("-")
    figure = _figure("Tokens per call", "call", "tokens", barmode="stack")
    if calls.empty:
        return _note(figure, "no calls recorded yet")
    for column, name in (("input_tokens", "input"), ("output_tokens", "output")):
        figure.add_trace(go.Bar(x=number, y=calls[column], name=name, hovertext=hover))
    return figure


def repair_rates(frame: Any = None) -> Any:
    """Per adapter and model: calls, and the share with parse repairs, fallbacks and errors."""
    calls = _lm_calls(frame)
    calls["adapter"] = calls["adapter"].fillna("(none)")
    calls["repaired"] = calls["n_diagnostics"] > 0
    calls["fell_back"] = calls["fallback_from"].notna()
    calls["failed"] = calls["error"].notna()
    grouped = calls.groupby(["adapter", "model_name"], sort=True)
    table = grouped.agg(
        calls=("call_id", "count"),
        repair_rate=("repaired", "mean"),
        fallback_rate=("fell_back", "mean"),
        error_rate=("failed", "mean"),
    )
    return table.reset_index()


def repairs(frame: Any = None) -> Any:
    """Parse repair, fallback and error rates (share of calls) per adapter and model."""
    import plotly.graph_objects as go

    rates = repair_rates(frame)
    groups = rates["adapter"] + " · " + rates["model_name"]
    figure = _figure(
        "Parse repairs and fallbacks", "adapter · model", "share of calls", barmode="group"
    )
    if rates.empty:
        return _note(figure, "no calls recorded yet")
    if not rates[["repair_rate", "fallback_rate", "error_rate"]].to_numpy().any():
        calls = int(rates["calls"].sum())
        return _note(figure, f"no repairs yet: all {calls} answers parsed as they came")
    for column, name in (
        ("repair_rate", "repaired"),
        ("fallback_rate", "fell back"),
        ("error_rate", "failed"),
    ):
        figure.add_trace(go.Bar(x=groups, y=rates[column], name=name, customdata=rates["calls"]))
    figure.update_yaxes(range=[0, 1], tickformat=".0%")
    return figure
