"""Observability: what calls leave behind, recorded and read.

History entries, collectors (memory, JSONL, SQLite), the history of calls, its DataFrame,
cost data and traces. This package records and reads; it never drives a call: the path every
model call takes (cache, replay, budgets, callbacks) is ``lmbench.calls``.
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any

from lmbench.logs import configure_logging
from lmbench.observe.collectors import (
    Collector,
    CompositeCollector,
    MemoryCollector,
    collector_from_spec,
)
from lmbench.observe.cost import Price, estimate_usage, price_of, set_price
from lmbench.observe.entry import HistoryEntry
from lmbench.observe.history import CostReport, History, history, load_history
from lmbench.observe.jsonl import JSONLCollector
from lmbench.observe.trace import export_trace

configure_logging()

# Names that moved to the call layer (and the logger to the ground floor) in 0.2; they still
# work here, with a DeprecationWarning, until the next release.
_MOVED = {
    "EVENTS": "lmbench.calls",
    "Budget": "lmbench.calls",
    "Callback": "lmbench.calls",
    "CallbackEvent": "lmbench.calls",
    "LMCall": "lmbench.calls",
    "ModuleCall": "lmbench.calls",
    "active_budgets": "lmbench.calls",
    "active_callbacks": "lmbench.calls",
    "budget": "lmbench.calls",
    "current_module_call": "lmbench.calls",
    "emit": "lmbench.calls",
    "lm_call": "lmbench.calls",
    "module_call": "lmbench.calls",
    "session_budget": "lmbench.calls",
    "set_session_budget": "lmbench.calls",
    "logger": "lmbench.logs",
}


def __getattr__(name: str) -> Any:
    # sqlite3 loads only when an SQLite history is used
    if name == "SQLiteCollector":
        from lmbench.observe.sqlite import SQLiteCollector

        return SQLiteCollector
    moved = _MOVED.get(name)
    if moved is not None:
        warnings.warn(
            f"lmbench.observe.{name} moved to {moved}.{name}; the old name goes in the next release",
            DeprecationWarning,
            stacklevel=2,
        )
        value = globals()[name] = getattr(importlib.import_module(moved), name)  # warned once
        return value
    raise AttributeError(f"module 'lmbench.observe' has no attribute {name!r}")


__all__ = [
    "Collector",
    "CompositeCollector",
    "CostReport",
    "History",
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
