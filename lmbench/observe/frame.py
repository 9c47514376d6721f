"""History entries as a pandas DataFrame: one row a call, nested data flattened to columns.

Columns are built one at a time from the entries' attributes (no per-row dicts), which keeps
100,000 entries well under a second. pandas is imported here only, when a frame is asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter
from typing import Any

from lmbench.observe.entry import HistoryEntry

__all__ = ["COLUMNS", "entries_frame"]

_PLAIN = (
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
    "cost_usd",
    "cost_known",
    "saved_usd",
    "latency_s",
    "ttft_s",
    "stream",
    "cache",
    "cache_key",
    "adapter",
    "fallback_from",
    "error",
)
_USAGE = ("input_tokens", "output_tokens", "cached_tokens", "reasoning_tokens")

#: Every column of ``entries_frame``, in order.
COLUMNS = (
    "timestamp",
    *_PLAIN,
    *_USAGE,
    "total_tokens",
    "attempts",
    "diagnostics",
    "n_diagnostics",
    "finish_reason",
    "text",
)


def _pandas() -> Any:
    try:
        import pandas
    except ImportError:
        from lmbench.errors import ConfigError

        raise ConfigError(
            "history.frame() needs pandas: pip install 'lmbench[notebook]' (or pandas)"
        ) from None
    return pandas


def entries_frame(entries: Sequence[HistoryEntry]) -> Any:
    """A DataFrame with the ``COLUMNS`` above; ``timestamp`` is a UTC datetime."""
    pd = _pandas()
    columns: dict[str, Any] = {
        "timestamp": pd.to_datetime([e.timestamp for e in entries], unit="s", utc=True)
    }
    for name in _PLAIN:
        getter = attrgetter(name)
        columns[name] = [getter(e) for e in entries]
    usages = [e.usage for e in entries]
    for name in _USAGE:
        getter = attrgetter(name)
        columns[name] = [getter(u) for u in usages]
    columns["total_tokens"] = [u.input_tokens + u.output_tokens for u in usages]
    columns["attempts"] = [len(e.attempts) for e in entries]
    columns["diagnostics"] = [e.diagnostics for e in entries]
    columns["n_diagnostics"] = [len(e.diagnostics) for e in entries]
    responses = [e.response for e in entries]
    columns["finish_reason"] = [r.finish_reason if r is not None else None for r in responses]
    columns["text"] = [r.texts[0] if r is not None and r.texts else None for r in responses]
    frame = pd.DataFrame(columns)
    for name in ("cost_usd", "saved_usd", "ttft_s"):
        frame[name] = frame[name].astype("float64")
    return frame
