"""History entries as HTML and text: one entry in full, or many as a table (newest last)."""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from lmbench.notebook.html import badge, box, details, esc, kv_table, note, pre, table
from lmbench.notebook.render_prediction import format_cost, messages_html, messages_text

if TYPE_CHECKING:
    from lmbench.observe.entry import HistoryEntry

__all__ = [
    "EntriesView",
    "adapter_label",
    "entries_html",
    "entries_text",
    "entry_html",
    "entry_text",
    "entry_title",
    "inputs_preview",
]

_HEADERS = [
    "time",
    "kind",
    "model / module",
    "inputs",
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


_MARKER = re.compile(r"^\[\[ ## (\w+) ## \]\]", re.M)  # at a line start: not the closing request


def _input_names(signature: str | None) -> list[str]:
    """The input names of a signature string ``a, b: int -> c`` (empty when there is none)."""
    if not signature or "->" not in signature:
        return []
    named = re.fullmatch(r"\w+\((.*)\)", signature, re.S)  # Trip(sentence -> city)
    if named:
        signature = named.group(1)
    names = []
    for part in re.split(r",(?![^\[]*\])", signature.split("->", 1)[0]):
        name = part.split(":", 1)[0].strip()
        if name.isidentifier():
            names.append(name)
    return names


def _inputs_of(entry: HistoryEntry) -> dict[str, str]:
    """The inputs of the call, read back from the last user turn: ``[[ ## name ## ]]`` sections
    (chat), ``<name>`` elements (XML) or ``name:`` lines, for the signature's input names."""
    users = [m for m in entry.messages if m.role == "user"]
    text = users[-1].text if users else ""
    found: dict[str, str] = {}
    markers = list(_MARKER.finditer(text))
    for number, match in enumerate(markers):
        if number + 1 < len(markers):
            value = text[match.end() : markers[number + 1].start()]
        else:  # the last one runs up to the closing request ("Respond with ...")
            value = text[match.end() :].strip("\n").split("\n\n", 1)[0]
        found.setdefault(match.group(1), value.strip())
    names = _input_names(entry.signature) or list(found)
    out = {}
    for name in names:
        if name in found:
            out[name] = found[name]
            continue
        element = re.search(rf"<{name}>(.*?)</{name}>", text, re.S)
        line = re.search(rf"^{name}:\s*(.+)$", text, re.M)
        if element or line:
            out[name] = (element or line).group(1).strip()  # type: ignore[union-attr]
    return out


def inputs_preview(entry: HistoryEntry) -> str:
    """The call's inputs on one line (``question: ...``), else the start of its last message."""
    inputs = _inputs_of(entry)
    if inputs:
        text = " · ".join(f"{k}: {' '.join(v.split())}" for k, v in inputs.items())
    else:
        text = " ".join(entry.messages[-1].text.split()) if entry.messages else ""
    return text if len(text) <= _PREVIEW_CHARS else text[: _PREVIEW_CHARS - 1] + "…"


def adapter_label(entry: HistoryEntry) -> str:
    """The adapter that parsed the answer, with the one it fell back from."""
    if not entry.adapter:
        return ""
    return (
        f"{entry.adapter} (after {entry.fallback_from})" if entry.fallback_from else entry.adapter
    )


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
        esc(inputs_preview(entry)),
        esc(f"{entry.usage.input_tokens}/{entry.usage.output_tokens}"),
        esc(format_cost(entry.cost_usd)),
        esc(f"{entry.latency_s:.3f} s"),
        esc(entry.cache),
        esc(adapter_label(entry)),
        _status(entry),
    ]


def entries_html(entries: Sequence[HistoryEntry], *, title: str = "History") -> str:
    if not entries:
        return box(title, note("no calls recorded yet"))
    total = sum(e.cost_usd or 0.0 for e in entries if e.is_model_call)
    meta = esc(f"{len(entries)} calls, {format_cost(total)}")
    rows = table(_HEADERS, [_row(e) for e in entries], nowrap=(0, 1, 2, 4, 5, 6, 7, 8, 9))
    return box(title, rows, meta=meta)


def entries_text(entries: Sequence[HistoryEntry], *, title: str = "History") -> str:
    if not entries:
        return f"{title}: no calls recorded yet"
    lines = [title if title != "History" else f"History ({len(entries)} calls)"]
    for e in entries:
        lines.append(
            f"  {_clock(e.timestamp)} {e.kind:<6} {_what(e):<28} {inputs_preview(e)!r} "
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
        ("adapter", esc(adapter_label(entry))),
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
        printer.text(entries_text(self, title=self.title))  # type: ignore[attr-defined]
