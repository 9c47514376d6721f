"""``compare``: several variants of a program over the same rows, side by side.

::

    cmp = lmbench.compare(
        {"chat": Predict(sig), "json": Predict(sig, adapter="json"),
         "mini": (Predict(sig), {"lm": "openai/gpt-4o-mini"})},   # settings for one variant
        df, metrics.exact_match,
    )
    cmp.table()            # score, cost, latency, error rate, tokens per variant
    cmp.chart()            # plotly: score against cost
    cmp.disagreements()    # rows whose scores differ between variants

Each variant is one evaluation run (its own run id in history); ``cmp.results[name]`` is its
``EvalResult``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from lmbench.errors import ConfigError
from lmbench.evaluate.result import EvalResult
from lmbench.evaluate.runner import DEFAULT_THREADS, evaluate
from lmbench.settings import context

__all__ = ["Comparison", "compare"]


class Comparison:
    """The evaluation of every variant; see the module docstring."""

    def __init__(self, results: dict[str, EvalResult], metric_name: str) -> None:
        self.results = results
        self.metric_name = metric_name

    @property
    def rows(self) -> int:
        return max((len(r.rows) for r in self.results.values()), default=0)

    def table_rows(self) -> list[dict[str, Any]]:
        out = []
        for name, result in self.results.items():
            totals = result.totals
            out.append(
                {
                    "variant": name,
                    "score": result.score,
                    "cost_usd": result.cost,
                    "mean_latency_s": totals.mean_latency_s,
                    "error_rate": totals.error_rate,
                    "tokens": totals.tokens,
                    "rows": totals.rows,
                    "run_id": result.run_id,
                }
            )
        return out

    def table(self) -> Any:
        """A DataFrame, one row per variant: score, cost, latency, error rate, tokens."""
        import pandas as pd

        return pd.DataFrame(self.table_rows()).set_index("variant")

    def disagreements(self, *, outputs: bool = True) -> Any:
        """Rows whose scores differ between variants: inputs, labels, each variant's score
        (``score[name]``) and, with ``outputs``, its outputs (``<field>[name]``)."""
        import pandas as pd

        names = list(self.results)
        first = self.results[names[0]]
        records = []
        for position, row in enumerate(first.rows):
            scores = {n: _row(self.results[n], position).score for n in names}
            if len({s for s in scores.values()}) <= 1:
                continue
            record: dict[str, Any] = {
                **row.inputs,
                **{f"expected_{k}": v for k, v in row.labels.items()},
            }
            for n in names:
                other = _row(self.results[n], position)
                record[f"score[{n}]"] = scores[n]
                if outputs:
                    for field, value in (other.outputs or {}).items():
                        record[f"{field}[{n}]"] = value
                    if other.error:
                        record[f"error[{n}]"] = other.error
            records.append((row.index, record))
        return pd.DataFrame([r for _, r in records], index=[i for i, _ in records])

    def chart(self) -> Any:
        """A plotly scatter of score against cost, one point per variant; against tokens
        when no variant cost anything (local or scripted models). Variants that land on the
        same point share one label."""
        import plotly.graph_objects as go

        from lmbench.notebook.plot import neutral_theme  # plotly's look lives there: load on use

        table = self.table_rows()
        costs = [math.nan if r["cost_usd"] is None else r["cost_usd"] for r in table]
        priced = any(c > 0 for c in costs if not math.isnan(c))
        xs = costs if priced else [r["tokens"] for r in table]
        figure = neutral_theme(
            go.Figure(
                go.Scatter(
                    x=xs,
                    y=[r["score"] for r in table],
                    mode="markers+text",
                    text=_point_labels(
                        xs, [r["score"] for r in table], [r["variant"] for r in table]
                    ),
                    textposition="top center",
                    marker={"size": 12},
                    customdata=[
                        [r["variant"], r["error_rate"], r["mean_latency_s"] * 1000, r["tokens"]]
                        for r in table
                    ],
                    hovertemplate="%{customdata[0]}<br>score %{y:.3f}"
                    + ("<br>cost $%{x:.6f}" if priced else "")
                    + "<br>tokens %{customdata[3]:,}<br>errors %{customdata[1]:.0%}"
                    "<br>latency %{customdata[2]:.0f} ms<extra></extra>",
                )
            )
        )
        against = "cost" if priced else "tokens (no cost recorded)"
        figure.update_layout(
            title=f"{self.metric_name} against {against} · {self.rows} rows",
            xaxis_title="cost (USD)" if priced else "tokens",
            yaxis_title=self.metric_name,
            yaxis_range=[-0.05, 1.12],
            xaxis_rangemode="tozero",
            height=360,
            margin={"l": 50, "r": 20, "t": 50, "b": 40},
        )
        return figure

    def __repr__(self) -> str:
        parts = ", ".join(f"{r['variant']}={r['score']:.3f}" for r in self.table_rows())
        return f"<Comparison {self.metric_name} over {self.rows} rows: {parts}>"

    def _repr_html_(self) -> str:
        from lmbench.evaluate.render import comparison_html

        return comparison_html(self)


def _point_labels(xs: list[Any], ys: list[Any], names: list[str]) -> list[str]:
    """One label per point; variants on the same point are named together, on the first."""
    labels = [""] * len(names)
    first: dict[tuple[Any, Any], int] = {}
    for i, point in enumerate(zip(xs, ys, strict=True)):
        if point in first:
            labels[first[point]] += f", {names[i]}"
        else:
            first[point] = i
            labels[i] = names[i]
    return labels


def _row(result: EvalResult, position: int) -> Any:
    return result.rows[position]


def compare(
    variants: Mapping[str, Any],
    data: Any,
    metric: Any,
    *,
    threads: int = DEFAULT_THREADS,
    executor: Any = None,
    progress: bool = True,
    max_errors: int | None = None,
    failure_score: float | None = 0.0,
) -> Comparison:
    """Evaluate every variant on the same ``data`` with ``metric``. A variant is a program,
    or a ``(program, settings)`` pair whose settings (``lm``, ``adapter``, ``temperature``...)
    apply to its run only."""
    if not isinstance(variants, Mapping) or not variants:
        raise ConfigError(
            "compare(variants=...) takes a dict of name -> program (or (program, settings)), "
            f"got {variants!r}"
        )
    results: dict[str, EvalResult] = {}
    metric_name = "metric"
    for name, variant in variants.items():
        program, settings = variant if isinstance(variant, tuple) else (variant, {})
        if not isinstance(settings, Mapping):
            raise ConfigError(f"variant {name!r}: settings {settings!r} must be a dict")
        with context(**settings):
            result = evaluate(
                program,
                data,
                metric,
                threads=threads,
                executor=executor,
                progress=progress,
                max_errors=max_errors,
                failure_score=failure_score,
                name=str(name),
            )
        results[str(name)] = result
        metric_name = result.metric_name
    return Comparison(results, metric_name)
