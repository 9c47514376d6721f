"""What a run gives back: ``BatchResult`` (outputs in row order) and ``EvalResult`` (scored).

Both keep every row (``rows``: ``RowResult``), totals (cost, tokens, time, errors), a
``frame()`` with one row per example, and a notebook view. pandas is imported by ``frame()``
only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lmbench.evaluate.rows import RowResult

__all__ = ["BatchResult", "EvalResult", "RowError", "RunTotals"]


@dataclass(frozen=True)
class RowError:
    """A failed row: its position, the inputs it was called with, what went wrong."""

    index: int
    inputs: dict[str, Any]
    error: BaseException | str


@dataclass(frozen=True)
class RunTotals:
    rows: int
    errors: int
    cost_usd: float | None  # None when some call's price is unknown
    metric_cost_usd: float | None
    input_tokens: int
    output_tokens: int
    duration_s: float
    mean_latency_s: float

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def error_rate(self) -> float:
        return self.errors / self.rows if self.rows else 0.0


def _sum(values: Sequence[float | None]) -> float | None:
    total = 0.0
    for value in values:
        if value is None:
            return None
        total += value
    return total


class _RunView:
    """What batch and evaluation results share."""

    rows: list[RowResult]
    run_id: str | None
    program_name: str
    output_names: list[str]
    duration_s: float
    executor: str

    @property
    def totals(self) -> RunTotals:
        rows = self.rows
        count = len(rows)
        return RunTotals(
            rows=count,
            errors=sum(1 for r in rows if r.error is not None),
            cost_usd=_sum([r.cost for r in rows]),
            metric_cost_usd=_sum([r.metric_cost for r in rows]),
            input_tokens=sum(r.input_tokens for r in rows),
            output_tokens=sum(r.output_tokens for r in rows),
            duration_s=self.duration_s,
            mean_latency_s=sum(r.latency_s for r in rows) / count if count else 0.0,
        )

    @property
    def cost(self) -> float | None:
        """USD of the whole run, metric (judge) calls included; None if a price is unknown."""
        totals = self.totals
        if totals.cost_usd is None or totals.metric_cost_usd is None:
            return None
        return totals.cost_usd + totals.metric_cost_usd

    @property
    def errors(self) -> list[RowError]:
        return [
            RowError(r.position, r.inputs, r.exception if r.exception is not None else r.error)
            for r in self.rows
            if r.error is not None
        ]

    @property
    def predictions(self) -> list[Any]:
        """The live predictions in row order (None for failed rows and rows run elsewhere)."""
        return [r.prediction for r in self.rows]

    def _columns(self, with_labels: bool) -> tuple[list[str], list[str], list[str]]:
        inputs = list(dict.fromkeys(k for r in self.rows for k in r.inputs))
        outputs = list(
            dict.fromkeys([*self.output_names, *(k for r in self.rows for k in r.outputs or {})])
        )
        labels = list(dict.fromkeys(k for r in self.rows for k in r.labels)) if with_labels else []
        return inputs, labels, outputs


class BatchResult(_RunView, list[Any]):
    """The outputs of ``lmbench.batch`` in row order (``None`` where a row failed), with
    ``rows``, ``errors``, ``totals`` and ``frame()`` alongside."""

    def __init__(
        self,
        rows: list[RowResult],
        *,
        run_id: str | None,
        program_name: str,
        output_names: list[str],
        duration_s: float,
        executor: str,
        constants: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(r.prediction if r.prediction is not None else r.outputs for r in rows)
        self.rows = rows
        self.constants = constants  # inputs given once for every row, left out of frame()
        self.run_id = run_id
        self.program_name = program_name
        self.output_names = output_names
        self.duration_s = duration_s
        self.executor = executor

    @property
    def failed_inputs(self) -> list[dict[str, Any]]:
        """The inputs of the failed rows, to run them again."""
        return [r.inputs for r in self.rows if r.error is not None]

    def frame(self) -> Any:
        """One row per input row: inputs, outputs, tokens, cost, latency, error."""
        import pandas as pd

        inputs, _labels, outputs = self._columns(with_labels=False)
        inputs = [name for name in inputs if name not in self.constants]
        records = [
            {
                **{name: r.inputs.get(name) for name in inputs},
                **{name: (r.outputs or {}).get(name) for name in outputs},
                "input_tokens": r.input_tokens,
                "output_tokens": r.output_tokens,
                "cost_usd": r.cost if r.error is None else 0.0,
                "latency_s": r.latency_s,
                "error": r.error,
            }
            for r in self.rows
        ]
        columns = [
            *inputs,
            *outputs,
            "input_tokens",
            "output_tokens",
            "cost_usd",
            "latency_s",
            "error",
        ]
        return pd.DataFrame(records, index=[r.index for r in self.rows], columns=columns)

    def __repr__(self) -> str:
        totals = self.totals
        return (
            f"<BatchResult {totals.rows} rows, {totals.errors} errors, "
            f"{totals.duration_s:.2f} s, run {self.run_id}>"
        )

    def _repr_html_(self) -> str:
        from lmbench.evaluate.render import batch_html

        return batch_html(self)


class EvalResult(_RunView):
    """A scored run: ``score`` (mean over rows, failures scored ``failure_score``),
    ``frame()``, ``totals``, ``worst(n)``, and a notebook view."""

    def __init__(
        self,
        rows: list[RowResult],
        *,
        metric_name: str,
        run_id: str | None,
        program_name: str,
        output_names: list[str],
        duration_s: float,
        executor: str,
        name: str | None = None,
    ) -> None:
        self.rows = rows
        self.metric_name = metric_name
        self.run_id = run_id
        self.program_name = program_name
        self.output_names = output_names
        self.duration_s = duration_s
        self.executor = executor
        self.name = name or program_name

    @property
    def scores(self) -> list[float | None]:
        return [r.score for r in self.rows]

    @property
    def score(self) -> float:
        """Mean score over the scored rows (rows left unscored are skipped); NaN if none."""
        values = [s for s in self.scores if s is not None]
        return sum(values) / len(values) if values else math.nan

    def worst(self, n: int = 5) -> list[RowResult]:
        """The ``n`` lowest-scoring rows (errors first), for a look at what went wrong."""
        ranked = sorted(
            self.rows,
            key=lambda r: (r.error is None, r.score if r.score is not None else -1.0, r.position),
        )
        return ranked[:n]

    def frame(self) -> Any:
        """One row per example: inputs, labels, outputs, score, error, cost, tokens, latency,
        cache, repairs, adapter. A label named like an output is shown as ``expected_<name>``."""
        import pandas as pd

        inputs, labels, outputs = self._columns(with_labels=True)
        clash = set(inputs) | set(outputs)
        label_columns = {name: f"expected_{name}" if name in clash else name for name in labels}
        records = []
        for r in self.rows:
            record: dict[str, Any] = dict(r.inputs)
            record.update({label_columns[k]: v for k, v in r.labels.items()})
            record.update({name: (r.outputs or {}).get(name) for name in outputs})
            record.update(
                score=r.score,
                error=r.error,
                cost_usd=r.cost,
                metric_cost_usd=r.metric_cost,
                tokens=r.tokens,
                latency_s=r.latency_s,
                cache=r.cache,
                repairs=r.repairs,
                adapter=r.adapter,
            )
            records.append(record)
        columns = [
            *inputs,
            *label_columns.values(),
            *outputs,
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
        return pd.DataFrame(records, index=[r.index for r in self.rows], columns=columns)

    def __repr__(self) -> str:
        totals = self.totals
        cost = "?" if self.cost is None else f"${self.cost:.6f}"
        return (
            f"<EvalResult {self.name}: {self.metric_name} {self.score:.3f} over {totals.rows} rows, "
            f"{totals.errors} errors, {cost}, {totals.duration_s:.2f} s, run {self.run_id}>"
        )

    def _repr_html_(self) -> str:
        from lmbench.evaluate.render import eval_html

        return eval_html(self)
