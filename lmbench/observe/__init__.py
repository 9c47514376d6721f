"""Observability: call tree, history entries, collectors, cost, budgets, callbacks, traces.

The seam is ``lmbench.observe.calls``: every LM call goes through ``lm_call`` inside a
``module_call``, and is cached, budgeted, priced, recorded and traced there.
"""

from typing import Any

from lmbench.observe.budget import (
    Budget,
    active_budgets,
    budget,
    session_budget,
    set_session_budget,
)
from lmbench.observe.callbacks import EVENTS, Callback, CallbackEvent, emit
from lmbench.observe.calls import (
    LMCall,
    ModuleCall,
    active_callbacks,
    current_module_call,
    lm_call,
    module_call,
)
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
from lmbench.observe.logs import configure_logging, logger
from lmbench.observe.trace import export_trace

configure_logging()


def __getattr__(name: str) -> Any:
    # sqlite3 loads only when an SQLite history is used
    if name == "SQLiteCollector":
        from lmbench.observe.sqlite import SQLiteCollector

        return SQLiteCollector
    raise AttributeError(f"module 'lmbench.observe' has no attribute {name!r}")


__all__ = [
    "EVENTS",
    "Budget",
    "Callback",
    "CallbackEvent",
    "Collector",
    "CompositeCollector",
    "CostReport",
    "History",
    "HistoryEntry",
    "JSONLCollector",
    "LMCall",
    "MemoryCollector",
    "ModuleCall",
    "Price",
    "SQLiteCollector",
    "active_budgets",
    "active_callbacks",
    "budget",
    "collector_from_spec",
    "configure_logging",
    "current_module_call",
    "emit",
    "estimate_usage",
    "export_trace",
    "history",
    "lm_call",
    "load_history",
    "logger",
    "module_call",
    "price_of",
    "session_budget",
    "set_price",
    "set_session_budget",
]
