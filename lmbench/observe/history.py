"""``history``: every LM call this process made (or a history file holds), to look at.

``history.last(3)``, ``history.filter(model="gpt-4o-mini", errors_only=True)``,
``history.inspect()`` prints the last call readably, ``history.cost()`` rolls costs up,
``history.frame()`` is a pandas DataFrame, ``history.tree(root_id)`` rebuilds one program
run as a call tree. ``history`` reads the collector in force (``configure(history=...)``);
``load_history(path)`` opens a JSONL or SQLite history written by any process.

LM calls are the entries of kind ``"lm"`` (the default of every view); module calls are
recorded too, as kind ``"module"``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal, TextIO

from lmbench.deprecation import Moved
from lmbench.display import RichDisplay
from lmbench.errors import ConfigError
from lmbench.lm.types import Usage
from lmbench.money import format_usd
from lmbench.observe.collectors import Collector, MemoryCollector, resolve_collector
from lmbench.observe.entry import HistoryEntry
from lmbench.observe.frame import entries_frame
from lmbench.observe.jsonl import read_jsonl
from lmbench.observe.render import render_entries
from lmbench.settings import current

__all__ = ["CallHistory", "CostReport", "history", "load_history"]

KindFilter = Literal["lm", "embedding", "module", "all"]
TimeBound = datetime | float | timedelta | None


def _epoch(bound: TimeBound, name: str) -> float | None:
    if bound is None:
        return None
    if isinstance(bound, timedelta):
        return time.time() - bound.total_seconds()
    if isinstance(bound, datetime):
        return bound.timestamp()
    if isinstance(bound, (int, float)):
        return float(bound)
    raise ConfigError(
        f"{name}={bound!r} is not a time: pass a datetime, epoch seconds, or a timedelta (ago)"
    )


@dataclass
class CostReport:
    """Costs rolled up. ``total_usd`` sums the priced calls; ``known`` is False when some call
    has no price (they are counted in ``unpriced_calls`` and leave their group's total None)."""

    total_usd: float = 0.0
    known: bool = True
    unpriced_calls: int = 0
    saved_usd: float = 0.0
    calls: int = 0
    cache_hits: int = 0
    usage: Usage = field(default_factory=Usage)
    by_model: dict[str, float | None] = field(default_factory=dict)
    by_module: dict[str, float | None] = field(default_factory=dict)
    by_session: dict[str, float | None] = field(default_factory=dict)

    def __str__(self) -> str:
        total = format_usd(self.total_usd) + (
            "" if self.known else f" + {_plural(self.unpriced_calls, 'unpriced call')}"
        )
        lines = [
            f"{_plural(self.calls, 'call')} ({self.cache_hits} from cache, saved {format_usd(self.saved_usd)}) · "
            f"{self.usage.input_tokens} in / {self.usage.output_tokens} out tokens · total {total}"
        ]
        for title, groups in (
            ("model", self.by_model),
            ("module", self.by_module),
            ("session", self.by_session),
        ):
            if groups:
                lines.append(f"by {title}:")
                lines.extend(
                    f"  {name:<40} {format_usd(usd)}"
                    for name, usd in sorted(groups.items(), key=lambda kv: -(kv[1] or 0))
                )
        return "\n".join(lines)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _add(groups: dict[str, float | None], key: str, usd: float | None) -> None:
    if key in groups and groups[key] is None:
        return
    groups[key] = None if usd is None else (groups.get(key) or 0.0) + usd


def cost_report(entries: list[HistoryEntry]) -> CostReport:
    report = CostReport()
    for e in entries:
        if e.kind == "module":  # model calls only: LM and embedding calls
            continue
        report.calls += 1
        if e.cache_hit:
            report.cache_hits += 1
            report.saved_usd += e.saved_usd or 0.0
        else:
            report.usage = report.usage + e.usage
        if e.cost_usd is None:
            report.known = False
            report.unpriced_calls += 1
        else:
            report.total_usd += e.cost_usd
        _add(report.by_model, f"{e.provider}/{e.model}", e.cost_usd)
        _add(report.by_module, e.module or "(no module)", e.cost_usd)
        _add(report.by_session, e.session_id, e.cost_usd)
    return report


class CallHistory(RichDisplay):
    """A view over a collector: the one in force (``history``), or a fixed one."""

    def __init__(self, collector: Collector | None = None) -> None:
        self._fixed = collector

    @property
    def collector(self) -> Collector:
        if self._fixed is not None:
            return self._fixed

        return resolve_collector(current().history)

    def entries(self, kind: KindFilter = "lm") -> list[HistoryEntry]:
        """All entries of ``kind``, oldest first."""
        entries = self.collector.entries()
        return entries if kind == "all" else [e for e in entries if e.kind == kind]

    def __len__(self) -> int:
        return len(self.entries())

    def __iter__(self) -> Iterator[HistoryEntry]:
        return iter(self.entries())

    def __getitem__(self, index: int) -> HistoryEntry:
        return self.entries()[index]

    def last(self, n: int = 1, *, kind: KindFilter = "lm") -> list[HistoryEntry]:
        """The ``n`` most recent entries, oldest first."""
        entries = self.entries(kind)
        return entries[-n:] if n > 0 else []

    def filter(
        self,
        *,
        module: str | None = None,
        model: str | None = None,
        since: TimeBound = None,
        until: TimeBound = None,
        errors_only: bool = False,
        kind: KindFilter = "lm",
    ) -> list[HistoryEntry]:
        """Entries matching every given condition. ``model`` matches the requested model, its
        ``provider/model`` name, or the model the provider reported; ``since``/``until`` take a
        datetime, epoch seconds, or a timedelta meaning that long ago."""
        start, end = _epoch(since, "since"), _epoch(until, "until")
        out = []
        for e in self.entries(kind):
            if module is not None and e.module != module:
                continue
            if model is not None and model not in (
                e.model,
                e.response_model,
                f"{e.provider}/{e.model}",
            ):
                continue
            if start is not None and e.timestamp < start:
                continue
            if end is not None and e.timestamp > end:
                continue
            if errors_only and not e.error:
                continue
            out.append(e)
        return out

    def inspect(self, n: int = 1, *, file: TextIO | None = None) -> None:
        """Print the last ``n`` LM calls: messages, response, usage, cost, repairs, errors."""

        entries = self.entries()
        stream = file if file is not None else sys.stdout
        if not entries:
            print("history is empty: no LM call was recorded yet", file=stream)
            return
        print(render_entries(entries[-n:], total=len(entries)), file=stream)

    def cost(self) -> CostReport:
        """Total, per model, per module and per session cost of the model calls (LM and embedding calls)."""
        return cost_report(self.entries("all"))

    def clear(self) -> None:
        self.collector.clear()

    def frame(self, kind: KindFilter = "lm") -> Any:
        """A pandas DataFrame, one row a call (see ``lmbench.observe.frame.COLUMNS``)."""

        return entries_frame(self.entries(kind))

    def tree(self, root_id: str) -> dict[str, Any]:
        """One program run (all entries sharing ``root_id``) as a nested call tree."""
        entries = [e for e in self.entries("all") if e.root_id == root_id]
        if not entries:
            raise KeyError(f"no history entry has root_id {root_id!r}")
        nodes = {e.call_id: {"entry": e, "children": []} for e in entries}
        roots = []
        for e in entries:
            parent = nodes.get(e.parent_id) if e.parent_id else None
            (parent["children"] if parent is not None else roots).append(nodes[e.call_id])

        def plain(node: dict[str, Any]) -> dict[str, Any]:
            e: HistoryEntry = node["entry"]
            children = sorted(node["children"], key=lambda n: n["entry"].timestamp)
            out: dict[str, Any] = {
                "kind": e.kind,
                "call_id": e.call_id,
                "module": e.module,
                "started_at": e.timestamp,
                "duration_s": e.latency_s,
                "usage": e.usage.to_dict(),
                "cost_usd": e.cost_usd,
                "error": e.error,
            }
            if e.kind == "lm":
                out.update(
                    model=e.model, adapter=e.adapter, cache=e.cache, diagnostics=e.diagnostics
                )
            else:
                out["children"] = [plain(c) for c in children]
            return out

        if len(roots) == 1:
            return plain(roots[0])
        return {"kind": "forest", "root_id": root_id, "children": [plain(r) for r in roots]}

    def __repr__(self) -> str:
        return f"<CallHistory {len(self)} LM calls in {self.collector!r}>"


#: The history of this process (the collector in force), exposed as ``lmbench.history``.
history = CallHistory()

_SQLITE_MAGIC = b"SQLite format 3\x00"


def load_history(path: str | Path) -> CallHistory:
    """Open a history file (JSONL or SQLite, told apart by content) written by any process."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(
            f"history file {path} does not exist; pass the path of a .jsonl or .db history"
        )
    with open(path, "rb") as handle:
        head = handle.read(4096)
    if not head.startswith(_SQLITE_MAGIC) and (b"\x00" in head or head.startswith(b"SQLite")):
        # JSONL is text and never holds a NUL byte: this is binary, most likely an SQLite
        # history whose header was overwritten. Reading it as JSONL would only show garbage.
        raise ConfigError(
            f"history file {path} is damaged: it is binary but does not start like an SQLite "
            "database (its header is garbled), and it is not JSONL text. Restore it from a "
            "backup or move it aside"
        )
    if head.startswith(_SQLITE_MAGIC):
        from lmbench.observe.sqlite import read_sqlite  # sqlite3 loads only when used

        entries = read_sqlite(path)
    else:
        rotated = sorted(
            path.parent.glob(path.name + ".[0-9]*"), key=lambda p: -int(p.suffix[1:] or 0)
        )
        entries = [e for file in [*rotated, path] for e in read_jsonl(file)]
    collector = MemoryCollector(maxlen=max(len(entries), 1))
    for entry in entries:
        collector.add(entry)
    return CallHistory(collector)


_MOVED = Moved(__name__, {"History": "lmbench.observe.history:CallHistory"})


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        return _MOVED.load(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
