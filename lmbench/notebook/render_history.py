"""History entries as HTML and text: one entry in full, or many as a table (newest last)."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import TYPE_CHECKING

from lmbench.notebook.html import badge, box, details, esc, kv_table, pre, table
from lmbench.notebook.render_prediction import format_cost, messages_html, messages_text

if TYPE_CHECKING:
    from lmbench.observe.entry import HistoryEntry

__all__ = ["EntriesView", "entries_html", "entries_text", "entry_html", "entry_text", "entry_title"]

_HEADERS = [
    "time",
    "kind",
    "model / module",
    "prompt",
    "tokens in/out",
    "cost",
    "latency",
    "cache",
    "adapter",
    "status",
]
_PREVIEW_CHARS = 60


def _clock(timestamp: float) -> str:
    return datetime.datetime.fromtimestamp(timestamp).strftime("%H:%M:%S")


def _what(entry: HistoryEntry) -> str:
    """``provider/model`` of an LM call, the module of a module call."""
    if entry.kind == "lm":
        return f"{entry.provider}/{entry.model}"
    return entry.module or "?"


def _preview(entry: HistoryEntry) -> str:
    """The start of the last message, on one line."""
    text = " ".join(entry.messages[-1].text.split()) if entry.messages else ""
    return text if len(text) <= _PREVIEW_CHARS else text[: _PREVIEW_CHARS - 1] + "…"


def entry_title(entry: HistoryEntry) -> str:
    """One line naming the call: kind, model or module, time, id."""
    what = _what(entry)
    return f"{entry.kind} call · {what} · {_clock(entry.timestamp)} · {entry.call_id}"


def _status(entry: HistoryEntry) -> str:
    if entry.error:
        return badge("error", "err")
    if entry.fallback_from or entry.diagnostics:
        return badge("repaired", "warn")
    return badge("ok", "ok")


def _row(entry: HistoryEntry) -> list[str]:
    return [
        esc(_clock(entry.timestamp)),
        esc(entry.kind),
        esc(_what(entry)),
        esc(_preview(entry)),
        esc(f"{entry.usage.input_tokens}/{entry.usage.output_tokens}"),
        esc(format_cost(entry.cost_usd)),
        esc(f"{entry.latency_s:.3f} s"),
        esc(entry.cache),
        esc(entry.adapter or ""),
        _status(entry),
    ]


def entries_html(entries: Sequence[HistoryEntry], *, title: str = "History") -> str:
    if not entries:
        return box(title, "<i>no calls recorded yet</i>")
    total = sum(e.cost_usd or 0.0 for e in entries if e.kind != "module")
    meta = esc(f"{len(entries)} calls, {format_cost(total)}")
    return box(title, table(_HEADERS, [_row(e) for e in entries]), meta=meta)


def entries_text(entries: Sequence[HistoryEntry]) -> str:
    if not entries:
        return "History: no calls recorded yet"
    lines = [f"History ({len(entries)} calls)"]
    for e in entries:
        lines.append(
            f"  {_clock(e.timestamp)} {e.kind:<6} {_what(e):<28} "
            f"{e.usage.input_tokens:>6}/{e.usage.output_tokens:<6} {format_cost(e.cost_usd):>10} "
            f"{e.latency_s:7.3f}s cache={e.cache}{' ERROR' if e.error else ''}"
        )
    return "\n".join(lines)


def entry_html(entry: HistoryEntry) -> str:
    pairs = [
        ("kind", esc(entry.kind)),
        ("model", esc(f"{entry.provider}/{entry.model}" if entry.model else "")),
        ("module", esc(entry.module or "")),
        ("signature", esc(entry.signature or "")),
        ("tokens", esc(f"{entry.usage.input_tokens} in / {entry.usage.output_tokens} out")),
        ("cost", esc(format_cost(entry.cost_usd))),
        ("latency", esc(f"{entry.latency_s:.3f} s")),
        ("cache", esc(entry.cache)),
        ("adapter", esc(entry.adapter or "")),
    ]
    if entry.fallback_from:
        pairs.append(("fell back from", badge(entry.fallback_from, "warn")))
    if entry.attempts:
        pairs.append(
            ("attempts", esc("; ".join(f"#{a.number} {a.reason}" for a in entry.attempts)))
        )
    body = kv_table(pairs)
    if entry.error:
        body += f"<div>{badge('error', 'err')}{pre(entry.error)}</div>"
    if entry.diagnostics:
        rows = [
            [esc(d.get("rule", "")), esc(d.get("field") or ""), esc(d.get("detail", ""))]
            for d in entry.diagnostics
        ]
        body += details("Repairs", table(["rule", "field", "detail"], rows), open_=True)
    if entry.messages:
        body += details("Prompt", messages_html(entry.messages))
    if entry.texts:
        body += details("Response", "".join(pre(t) for t in entry.texts), open_=True)
    return box(entry_title(entry), body)


def entry_text(entry: HistoryEntry) -> str:
    lines = [
        entry_title(entry),
        f"  tokens {entry.usage.input_tokens} in / {entry.usage.output_tokens} out; "
        f"cost {format_cost(entry.cost_usd)}; {entry.latency_s:.3f} s; cache {entry.cache}; "
        f"adapter {entry.adapter or '-'}",
    ]
    if entry.error:
        lines.append(f"  error: {entry.error}")
    if entry.messages:
        lines.append(messages_text(entry.messages))
    if entry.texts:
        lines.append("--- response ---\n" + "\n".join(entry.texts))
    return "\n".join(lines)


class EntriesView(list):  # type: ignore[type-arg]
    """A list of history entries that displays as a table."""

    def __init__(self, entries: Sequence[HistoryEntry] = (), *, title: str = "History") -> None:
        super().__init__(entries)
        self.title = title

    def _repr_html_(self) -> str:
        return entries_html(self, title=self.title)

    def _repr_pretty_(self, printer: object, cycle: bool) -> None:
        printer.text(entries_text(self))  # type: ignore[attr-defined]
