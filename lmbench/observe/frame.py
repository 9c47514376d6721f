"""History entries as a pandas DataFrame: one row a call, nested data flattened to columns.

Columns are built one at a time from the entries' attributes (no per-row dicts), which keeps
100,000 entries well under a second. pandas is imported here only, when a frame is asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter
from typing import Any

from lmbench.errors import ConfigError
from lmbench.observe.entry import HistoryEntry

__all__ = ["COLUMNS", "entries_frame"]

_TEXT = (
    "call_id",
    "parent_id",
    "root_id",
    "session_id",
    "kind",
    "module",
    "signature",
    "provider",
    "model",
    "response_model",
    "cache",
    "cache_key",
    "adapter",
    "fallback_from",
    "error",
    "run_id",
)
_FLOAT = ("cost_usd", "saved_usd", "latency_s", "ttft_s")  # None becomes NaN
_BOOL = ("cost_known", "stream")
_USAGE = ("input_tokens", "output_tokens", "cached_tokens", "reasoning_tokens")

#: Every column of ``entries_frame``, in order.
COLUMNS = (
    "timestamp",
    *_TEXT,
    *_FLOAT,
    *_BOOL,
    *_USAGE,
    "total_tokens",
    "attempts",
    "diagnostics",
    "n_diagnostics",
    "finish_reason",
    "text",
)


def _table(items: Sequence[Any], names: tuple[str, ...], dtype: Any) -> Any:
    """A 2-D array, one column per attribute in ``names``: one C-level getter per item."""
    import numpy as np

    table = np.empty((len(items), len(names)), dtype=dtype)
    if items:
        table[:] = list(map(attrgetter(*names), items))
    return table


def _pandas() -> Any:
    try:
        import pandas
    except ImportError:
        raise ConfigError(
            "history.frame() needs pandas: pip install 'lmbench[notebook]' (or pandas)"
        ) from None
    return pandas


def entries_frame(entries: Sequence[HistoryEntry]) -> Any:
    """A DataFrame with the ``COLUMNS`` above; ``timestamp`` is a UTC datetime."""
    pd = _pandas()
    import numpy as np

    count = len(entries)
    stamps = np.fromiter((e.timestamp for e in entries), dtype=np.float64, count=count)
    columns: dict[str, Any] = {
        "timestamp": pd.to_datetime((stamps * 1e6).astype(np.int64), unit="us", utc=True)
    }
    for dtype, names, items in (
        (object, _TEXT, entries),
        (np.float64, _FLOAT, entries),
        (bool, _BOOL, entries),
        (np.int64, _USAGE, [e.usage for e in entries]),
    ):
        table = _table(items, names, dtype)
        for index, name in enumerate(names):
            columns[name] = table[:, index]
    columns["total_tokens"] = columns["input_tokens"] + columns["output_tokens"]
    columns["attempts"] = np.fromiter(
        (len(e.attempts) for e in entries), dtype=np.int64, count=count
    )
    columns["diagnostics"] = [e.diagnostics for e in entries]
    columns["n_diagnostics"] = np.fromiter(
        (len(e.diagnostics) for e in entries), dtype=np.int64, count=count
    )
    responses = [e.response for e in entries]
    # other kinds of call (embeddings) have no finish reason or text
    columns["finish_reason"] = [getattr(r, "finish_reason", None) for r in responses]
    columns["text"] = [(getattr(r, "texts", None) or [None])[0] for r in responses]
    return pd.DataFrame(columns, copy=False)
