"""One row of a run: call the program, score it, and keep what happened (``RowTask.run``).

Every executor (threads here, Dask workers) runs rows through ``RowTask.run``, so a row is
handled the same way wherever it runs. A row is one node of the call tree (``Evaluate`` or
``Batch``) holding the program's calls and the metric's (a judge's) calls, so its tokens and
cost cover both; the row's own history entry (kind ``"eval"``) carries inputs, labels,
outputs and score under the run id, which is what ``load_run`` reads back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lmbench.errors import AuthenticationError, BudgetExceeded, ConfigError
from lmbench.evaluate.data import Row
from lmbench.observe import entry as _entry
from lmbench.observe.calls import module_call
from lmbench.observe.collectors import resolve_collector
from lmbench.observe.entry import HistoryEntry
from lmbench.settings import current

__all__ = ["FATAL_ERRORS", "RowResult", "RowTask", "describe"]

# Errors that would fail every other row too: the run stops instead of counting them.
FATAL_ERRORS: tuple[type[BaseException], ...] = (ConfigError, AuthenticationError, BudgetExceeded)


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


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
    states = {call.cache_state for call in node.lm_calls()}
    if not states:
        return None
    return states.pop() if len(states) == 1 else "mixed"


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
        with module_call(kind, signature=self.program_name) as node:
            started = time.perf_counter()
            try:
                prediction = self.program(**row.inputs, **self.call_kwargs)
            except FATAL_ERRORS:
                raise
            except Exception as exc:  # one row's failure is that row's result
                result.latency_s = time.perf_counter() - started
                result.error, result.exception, result.failed_in = describe(exc), exc, "program"
                prediction = None
            else:
                result.latency_s = time.perf_counter() - started
                self._keep(result, prediction)
                if self.metric is not None:
                    self._score(result, row, prediction)
        if result.error is not None and self.metric is not None:
            result.score = self.failure_score
        usage = node.usage
        result.input_tokens, result.output_tokens = usage.input_tokens, usage.output_tokens
        total = node.cost
        result.metric_cost = (
            None if total is None or result.cost is None else max(0.0, total - result.cost)
        )
        result.cache = _cache_state(node)
        self._record(result, node)
        return result

    def _keep(self, result: RowResult, prediction: Any) -> None:
        result.prediction = prediction
        result.outputs = _outputs(prediction)
        result.cost = getattr(prediction, "cost", 0.0)
        result.repairs = len(getattr(prediction, "repairs", ()) or ())
        result.adapter = getattr(prediction, "adapter", None)

    def _score(self, result: RowResult, row: Row, prediction: Any) -> None:
        assert self.metric is not None
        try:
            value = self.metric(row.example(), prediction)
        except FATAL_ERRORS:
            raise
        except Exception as exc:
            result.error, result.exception, result.failed_in = describe(exc), exc, "metric"
            return
        if isinstance(value, (bool, int, float)):
            result.score = float(value)
            return
        result.error = (
            f"TypeError: metric {self.metric_name} returned {value!r} "
            f"({type(value).__name__}); a metric returns a float or a bool"
        )
        result.failed_in = "metric"

    def _record(self, result: RowResult, node: Any) -> None:
        """The row's history entry (kind ``"eval"``), under the run id in force."""
        settings = current()
        if settings.run_id is None:
            return
        entry = HistoryEntry(
            kind="eval",
            call_id=f"{node.call_id}e",  # one row entry per row node
            parent_id=node.call_id,
            root_id=node.root_id,
            session_id=_entry.SESSION_ID,
            timestamp=node.timestamp,
            module=node.module,
            signature=self.program_name,
            usage=node.usage,
            cost_usd=None if result.cost is None else result.cost + (result.metric_cost or 0.0),
            cost_known=result.cost is not None,
            latency_s=result.latency_s,
            cache=result.cache
            if result.cache in ("off", "miss", "memory", "disk", "replay")
            else "off",  # type: ignore[arg-type]
            adapter=result.adapter,
            metadata={"row": result.to_metadata(), "metric": self.metric_name},
            error=result.error,
            run_id=settings.run_id,
        )
        try:
            resolve_collector(settings.history).add(entry)
        except Exception as exc:
            from lmbench.observe.logs import warn

            warn(f"evaluation row {result.position} was not recorded in history: {describe(exc)}")
