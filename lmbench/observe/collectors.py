"""Where history entries go: the ``Collector`` interface, memory and composite collectors,
and the choice of collector from settings (``configure(history=...)``) or ``LMBENCH_HISTORY``.

``history`` settings accept a collector object or a spec string:
``"memory"``, ``"jsonl:///abs/path.jsonl"``, ``"sqlite:///abs/path.db"``.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from lmbench.env import env_str
from lmbench.errors import ConfigError
from lmbench.observe.entry import HistoryEntry
from lmbench.once import Once

__all__ = [
    "Collector",
    "CompositeCollector",
    "MemoryCollector",
    "collector_from_spec",
    "default_collector",
    "resolve_collector",
]


class Collector:
    """Receives every entry (``add``) and gives them back oldest first (``entries``)."""

    def add(self, entry: HistoryEntry) -> None:
        raise NotImplementedError

    def entries(self) -> list[HistoryEntry]:
        raise NotImplementedError

    def clear(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Release files and connections. The default has none."""

    def __len__(self) -> int:
        return len(self.entries())


class MemoryCollector(Collector):
    """The last ``maxlen`` entries in memory (the default collector)."""

    def __init__(self, maxlen: int = 10_000) -> None:
        self._entries: deque[HistoryEntry] = deque(maxlen=maxlen)

    def add(self, entry: HistoryEntry) -> None:
        self._entries.append(entry)

    @property
    def maxlen(self) -> int | None:
        return self._entries.maxlen

    def entries(self) -> list[HistoryEntry]:
        return list(self._entries)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"<MemoryCollector {len(self)}/{self.maxlen} entries>"


class CompositeCollector(Collector):
    """Sends each entry to every collector; reads from the first one."""

    def __init__(self, *collectors: Collector | Sequence[Collector]) -> None:
        if len(collectors) == 1 and isinstance(collectors[0], (list, tuple)):
            collectors = tuple(collectors[0])
        if not collectors:
            raise ConfigError("CompositeCollector needs at least one collector")
        for collector in collectors:
            if not isinstance(collector, Collector):
                raise ConfigError(
                    f"CompositeCollector takes collectors, got {collector!r}; use MemoryCollector(), "
                    "JSONLCollector(path) or SQLiteCollector(path)"
                )
        self.collectors: tuple[Collector, ...] = collectors  # type: ignore[assignment]

    def add(self, entry: HistoryEntry) -> None:
        for collector in self.collectors:
            collector.add(entry)

    def entries(self) -> list[HistoryEntry]:
        return self.collectors[0].entries()

    def clear(self) -> None:
        for collector in self.collectors:
            collector.clear()

    def close(self) -> None:
        for collector in self.collectors:
            collector.close()

    def __len__(self) -> int:
        return len(self.collectors[0])

    def __repr__(self) -> str:
        return f"<CompositeCollector {list(self.collectors)!r}>"


_SCHEMES = "memory, jsonl:///absolute/path.jsonl or sqlite:///absolute/path.db"


def collector_from_spec(spec: str, *, source: str = "history") -> Collector:
    """Build the collector a spec string names; ``source`` names the setting in errors."""
    text = spec.strip()
    if text == "memory":
        return MemoryCollector()
    scheme, sep, rest = text.partition("://")
    if not sep or scheme not in ("jsonl", "sqlite"):
        raise ConfigError(f"{source}={spec!r} is not a history backend: use {_SCHEMES}")
    path = Path(rest).expanduser()
    if not path.is_absolute():
        raise ConfigError(
            f"{source}={spec!r} needs an absolute path after '{scheme}://', "
            f"e.g. {scheme}:///home/me/lmbench-history.{'jsonl' if scheme == 'jsonl' else 'db'}"
        )
    if scheme == "jsonl":
        from lmbench.observe.jsonl import JSONLCollector  # jsonl builds on this module

        return JSONLCollector(path)
    from lmbench.observe.sqlite import SQLiteCollector  # sqlite3 loads only when used

    return SQLiteCollector(path)


def _from_environment() -> Collector:
    spec = env_str("LMBENCH_HISTORY")
    return collector_from_spec(spec, source="LMBENCH_HISTORY") if spec else MemoryCollector()


_default: Once[Collector] = Once(_from_environment)
_by_spec: dict[str, Collector] = {}
_lock = threading.Lock()


def default_collector() -> Collector:
    """The process's collector when settings name none: ``LMBENCH_HISTORY``, else memory."""
    return _default.get()


def resolve_collector(setting: Any) -> Collector:
    """The collector a ``history`` setting stands for (None, a spec string, or a collector)."""
    if setting is None:
        return _default.get()
    if isinstance(setting, Collector):
        return setting
    if isinstance(setting, str):
        collector = _by_spec.get(setting)
        if collector is None:
            with _lock:
                collector = _by_spec.get(setting)
                if collector is None:
                    collector = _by_spec[setting] = collector_from_spec(setting)
        return collector
    if isinstance(setting, Iterable):
        return CompositeCollector(*(resolve_collector(s) for s in setting))
    raise ConfigError(
        f"history={setting!r} is not a collector: pass a Collector object, a list of them, "
        f"or one of {_SCHEMES}"
    )
