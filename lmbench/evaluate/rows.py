"""One row of a run: call the program, score it, and keep what happened (``RowTask.run``).

Every executor (threads here, Dask workers) runs rows through ``RowTask.run``, so a row is
handled the same way wherever it runs. A row is one node of the call tree (``Evaluate`` or
``Batch``) holding the program's calls and the metric's (a judge's) calls, so its tokens and
cost cover both, failed rows included; the node's history entry (kind ``"eval"``) carries
inputs, labels, outputs and score under the run id, which is what ``load_run`` reads back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lmbench.calls.tree import ModuleCall
from lmbench.errors import describe_error
from lmbench.evaluate.data import Row
from lmbench.metrics import FieldMetric
from lmbench.modules.best_of_n import FATAL_ERRORS
from lmbench.observe.entry import HistoryEntry

__all__ = ["FATAL_ERRORS", "RowCall", "RowResult", "RowTask"]

# FATAL_ERRORS would fail every other row too: the run stops instead of counting them.


@dataclass(slots=True)
class RowResult:
    """What one row gave: outputs (or the error), score, tokens, cost, latency, diagnostics.

    ``prediction`` and ``exception`` are the live objects, kept only where the row ran in
    this process (not sent back from Dask workers).
    """

    position: int
    index: Any
    inputs: dict[str, Any]
    labels: dict[str, Any]
    outputs: dict[str, Any] | None = None
    score: float | None = None
    error: str | None = None
    failed_in: str | None = None  # "program" or "metric"
    cost: float | None = 0.0
    metric_cost: float | None = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    latency_s: float = 0.0
    cache: str | None = None
    repairs: int = 0
    adapter: str | None = None
    prediction: Any = field(default=None, repr=False)
    exception: BaseException | None = field(default=None, repr=False)

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def shipped(self) -> RowResult:
        """A copy without the live objects, to send from a worker to the driver."""
        copy = RowResult(**{name: getattr(self, name) for name in _FIELDS})
        copy.prediction = None
        copy.exception = None
        return copy

    def to_metadata(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _META_FIELDS}

    @classmethod
    def from_metadata(cls, data: Mapping[str, Any]) -> RowResult:
        return cls(**{name: data.get(name) for name in _META_FIELDS if name in data})


_FIELDS = tuple(RowResult.__dataclass_fields__)
_META_FIELDS = tuple(n for n in _FIELDS if n not in ("prediction", "exception"))


def _outputs(prediction: Any) -> dict[str, Any]:
    if isinstance(prediction, Mapping):
        return dict(prediction)
    to_dict = getattr(prediction, "to_dict", None)
    if callable(to_dict):
        return dict(to_dict())
    return {"output": prediction}


def _cache_state(node: Any) -> str | None:
    states = {call.cache_state for call in node.model_calls()}
    if not states:
        return None
    return states.pop() if len(states) == 1 else "mixed"


class RowCall(ModuleCall):
    """The call-tree node of one row. Its history entry is the row's record (kind
    ``"eval"``): the node's usage and cost roll-up, with inputs, labels, outputs and score
    in ``metadata``; the same roll-up fills the row's tokens and cost."""

    def __init__(self, kind: str, program_name: str, result: RowResult, metric: str | None) -> None:
        super().__init__(kind, program_name)
        self.row = result
        self.metric_name = metric

    def _make_entry(self) -> HistoryEntry:
        entry = super()._make_entry()
        row = self.row
        row.input_tokens, row.output_tokens = entry.usage.input_tokens, entry.usage.output_tokens
        total = entry.cost_usd
        row.metric_cost = None if total is None or row.cost is None else max(0.0, total - row.cost)
        row.cache = _cache_state(self)
        entry.kind = "eval"
        entry.adapter = row.adapter
        entry.cache = row.cache if row.cache in _CACHE_STATES else "off"  # type: ignore[assignment]
        entry.error = entry.error or row.error
        entry.metadata = {"row": row.to_metadata(), "metric": self.metric_name}
        return entry


_CACHE_STATES = frozenset({"off", "miss", "memory", "disk", "replay"})


@dataclass
class RowTask:
    """How to run one row: the program, the call options, the metric (None for a batch)."""

    program: Callable[..., Any]
    metric: Callable[[Any, Any], Any] | None = None
    call_kwargs: dict[str, Any] = field(default_factory=dict)
    program_name: str = "program"
    metric_name: str | None = None
    failure_score: float | None = 0.0

    def run(self, row: Row, position: int) -> RowResult:
        """Run ``row``; a failure is kept on the result. ``FATAL_ERRORS`` propagate."""
        result = RowResult(position, row.index, row.inputs, row.labels)
        kind = "Evaluate" if self.metric is not None else "Batch"
        with RowCall(kind, self.program_name, result, self.metric_name):
            started = time.perf_counter()
            try:
                prediction = self.program(**row.inputs, **self.call_kwargs)
            except FATAL_ERRORS:
                raise
            except Exception as exc:  # one row's failure is that row's result
                result.latency_s = time.perf_counter() - started
                result.error, result.exception, result.failed_in = (
                    describe_error(exc),
                    exc,
                    "program",
                )
            else:
                result.latency_s = time.perf_counter() - started
                self._keep(result, prediction)
                if self.metric is not None:
                    self._score(result, row, prediction)
            if result.error is not None and self.metric is not None:
                result.score = self.failure_score
        return result

    def _keep(self, result: RowResult, prediction: Any) -> None:
        result.prediction = prediction
        result.outputs = _outputs(prediction)
        entry = getattr(getattr(prediction, "call", None), "entry", None)  # its node's roll-up
        result.cost = entry.cost_usd if entry is not None else getattr(prediction, "cost", 0.0)
        result.repairs = len(getattr(prediction, "repairs", ()) or ())
        result.adapter = getattr(prediction, "adapter", None)

    def _score(self, result: RowResult, row: Row, prediction: Any) -> None:
        metric = self.metric
        assert metric is not None
        try:
            if isinstance(metric, FieldMetric):  # compares fields: no Example needed
                value = metric.score_labels(row.labels, result.outputs or {})
            else:
                value = metric(row.example(), prediction)
        except FATAL_ERRORS:
            raise
        except Exception as exc:
            result.error, result.exception, result.failed_in = describe_error(exc), exc, "metric"
            return
        if isinstance(value, (bool, int, float)):
            result.score = float(value)
            return
        result.error = (
            f"TypeError: metric {self.metric_name} returned {value!r} "
            f"({type(value).__name__}); a metric returns a float or a bool"
        )
        result.failed_in = "metric"
