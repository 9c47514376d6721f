"""Observability: what calls leave behind, recorded and read.

History entries, collectors (memory, JSONL, SQLite), the history of calls, its DataFrame,
cost data and traces. This package records and reads; it never drives a call: the path every
model call takes (cache, replay, budgets, callbacks) is ``lmbench.calls``.
"""

from __future__ import annotations

from typing import Any

from lmbench.deprecation import Moved
from lmbench.logs import configure_logging
from lmbench.observe.collectors import (
    Collector,
    CompositeCollector,
    MemoryCollector,
    collector_from_spec,
)
from lmbench.observe.cost import Price, estimate_usage, price_of, set_price
from lmbench.observe.entry import HistoryEntry
from lmbench.observe.history import CallHistory, CostReport, history, load_history
from lmbench.observe.jsonl import JSONLCollector
from lmbench.observe.trace import export_trace

configure_logging()

# Names that moved to the call layer (and the logger to the ground floor) in 0.2; they still
# work here, with a DeprecationWarning, until the next release.
_TO_CALLS = (
    "EVENTS Budget Callback CallbackEvent LMCall ModuleCall active_budgets active_callbacks budget "
    "current_module_call emit lm_call module_call session_budget set_session_budget"
)
_MOVED = Moved(
    __name__,
    {
        **{name: f"lmbench.calls:{name}" for name in _TO_CALLS.split()},
        "History": "lmbench.observe.history:CallHistory",
        "logger": "lmbench.logs:logger",
    },
)


def __getattr__(name: str) -> Any:
    # sqlite3 loads only when an SQLite history is used
    if name == "SQLiteCollector":
        from lmbench.observe.sqlite import SQLiteCollector

        return SQLiteCollector
    if name in _MOVED:
        value = globals()[name] = _MOVED.load(name)  # warned once
        return value
    raise AttributeError(f"module 'lmbench.observe' has no attribute {name!r}")


__all__ = [
    "CallHistory",
    "Collector",
    "CompositeCollector",
    "CostReport",
    "HistoryEntry",
    "JSONLCollector",
    "MemoryCollector",
    "Price",
    "SQLiteCollector",
    "collector_from_spec",
    "configure_logging",
    "estimate_usage",
    "export_trace",
    "history",
    "load_history",
    "price_of",
    "set_price",
]
