"""Runs in history: the closing summary entry of a run, and ``load_run`` to rebuild a result.

A run writes one ``"eval"`` entry per row (``metadata["row"]``, see ``rows.py``) and one
summary entry (``metadata["summary"]``: kind, program, metric, executor, duration), all under
its ``run_id``. Any history holding them (memory, JSONL, SQLite, ``load_history(path)``)
can give the run back.
"""

from __future__ import annotations

import time
from typing import Any

from lmbench.errors import describe_error
from lmbench.observe import entry as _entry
from lmbench.observe.collectors import resolve_collector
from lmbench.observe.entry import HistoryEntry
from lmbench.settings import current

__all__ = ["load_run", "record_summary", "runs"]


def record_summary(result: Any, run_id: str, *, stopped: str | None = None) -> None:
    """Write the run's summary entry to the history in force."""
    totals = result.totals
    metric = getattr(result, "metric_name", None)
    summary = {
        "kind": "evaluate" if metric is not None else "batch",
        "name": getattr(result, "name", None),
        "program": result.program_name,
        "metric": metric,
        "outputs": result.output_names,
        "executor": result.executor,
        "rows": totals.rows,
        "errors": totals.errors,
        "score": getattr(result, "score", None),
        "duration_s": result.duration_s,
        "stopped": stopped,
    }
    entry = HistoryEntry(
        kind="eval",
        call_id=f"run-{run_id}",
        parent_id=None,
        root_id=f"run-{run_id}",
        session_id=_entry.SESSION_ID,
        timestamp=time.time(),
        module="Evaluate" if metric is not None else "Batch",
        signature=result.program_name,
        cost_usd=result.cost,
        cost_known=result.cost is not None,
        latency_s=result.duration_s,
        metadata={"summary": summary},
        error=stopped,
        run_id=run_id,
    )
    try:
        resolve_collector(current().history).add(entry)
    except Exception as exc:
        from lmbench.logs import warn

        warn(f"run {run_id} summary was not recorded in history: {describe_error(exc)}")


def _history(history: Any) -> Any:
    if history is None:
        from lmbench.observe.history import history as default

        return default
    if isinstance(history, str) or hasattr(history, "__fspath__"):
        from lmbench.observe.history import load_history

        return load_history(history)
    return history


def runs(history: Any = None) -> list[dict[str, Any]]:
    """The runs a history holds, oldest first: run id, kind, program, metric, score, rows..."""
    out = []
    for entry in _history(history).entries("all"):
        summary = entry.metadata.get("summary") if entry.kind == "eval" else None
        if summary is not None:
            out.append({"run_id": entry.run_id, "timestamp": entry.timestamp, **summary})
    return out


def load_run(run_id: str, history: Any = None) -> Any:
    """The ``EvalResult`` (or ``BatchResult``) of run ``run_id``, rebuilt from ``history``
    (default: the history in force; or a ``History``, or the path of a JSONL/SQLite file).
    Predictions are plain output dicts: the live objects stay with the process that ran."""
    from lmbench.evaluate.result import BatchResult, EvalResult
    from lmbench.evaluate.rows import RowResult

    entries = [
        e for e in _history(history).entries("all") if e.run_id == run_id and e.kind == "eval"
    ]
    summary = next((e.metadata["summary"] for e in entries if "summary" in e.metadata), None)
    rows = sorted(
        (RowResult.from_metadata(e.metadata["row"]) for e in entries if "row" in e.metadata),
        key=lambda r: r.position,
    )
    if summary is None and not rows:
        known = [r["run_id"] for r in runs(history)][-10:]
        raise KeyError(f"no run {run_id!r} in this history; recent runs: {known}")
    summary = summary or {}
    common = {
        "run_id": run_id,
        "program_name": summary.get("program", "program"),
        "output_names": list(summary.get("outputs") or []),
        "duration_s": float(summary.get("duration_s") or 0.0),
        "executor": summary.get("executor", "threads"),
    }
    metric = summary.get("metric") or next(
        (e.metadata.get("metric") for e in entries if e.metadata.get("metric")), None
    )
    if metric is None:
        return BatchResult(rows, **common)
    return EvalResult(rows, metric_name=metric, name=summary.get("name"), **common)
