"""Plain-text rendering of history entries for ``history.inspect()``.

Each call shows: when and where it ran, the model (requested and actually used), cache,
tokens, cost, latency and retries on one line, then every message, the response (each
choice and tool call), the parse repairs and fallbacks, and the error if it failed.

Model output can hold terminal control characters (an escape sequence that clears the screen,
recolours the rest, or a carriage return that hides a line): every control character but
newline and tab, and the bidirectional overrides, are shown escaped (``\x1b``, ``\r``,
``\u202e``), never printed raw.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from lmbench.display import printable
from lmbench.money import format_usd
from lmbench.observe.entry import HistoryEntry

__all__ = ["render_entries", "render_entry"]

_RULE = "─" * 78


def _content_text(content: str | list[dict[str, Any]]) -> str:
    if isinstance(content, str):
        return content
    parts = []
    for part in content:
        if part.get("type") == "text":
            parts.append(part.get("text", ""))
        else:
            parts.append(
                f"<{part.get('type', 'part')} {part.get('media_type') or part.get('url') or ''}>".rstrip()
            )
    return "\n".join(parts)


def _money(value: float | None) -> str:
    return format_usd(value, unknown="unknown (no price data)")


def _summary(entry: HistoryEntry) -> str:
    u = entry.usage
    tokens = f"{u.input_tokens} in"
    if u.cached_tokens:
        tokens += f" ({u.cached_tokens} cached)"
    tokens += f" / {u.output_tokens} out"
    if u.reasoning_tokens:
        tokens += f" ({u.reasoning_tokens} reasoning)"
    cost = _money(entry.cost_usd)
    if entry.cache_hit:
        cost += f", saved {_money(entry.saved_usd)}"
    latency = f"{entry.latency_s:.3f} s"
    if entry.ttft_s is not None:
        latency += f" (first token {entry.ttft_s:.3f} s)"
    parts = [f"tokens {tokens}", f"cost {cost}", f"latency {latency}"]
    if len(entry.attempts) > 1:
        parts.append(f"{len(entry.attempts)} attempts")
    return " · ".join(parts)


def _header(entry: HistoryEntry, position: str) -> list[str]:
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(entry.timestamp))
    where = entry.module or "(no module)"
    if entry.signature:
        where += f" [{entry.signature}]"
    model = f"{entry.provider}/{entry.model}"
    if entry.response_model and entry.response_model != entry.model:
        model += f" (used {entry.response_model})"
    line2 = f"model {model} · adapter {entry.adapter or '-'} · cache {entry.cache}"
    if entry.stream:
        line2 += " · streamed"
    return [
        _RULE,
        f"{position} · {when} · {where} · id {entry.call_id}",
        line2,
        _summary(entry),
        _RULE,
    ]


def render_entry(entry: HistoryEntry, position: str = "call") -> str:
    lines = _header(entry, position)
    for message in entry.messages:
        lines.append(f"[{message.role}]" + (f" ({message.name})" if message.name else ""))
        lines.append(_content_text(message.content))
        for call in message.tool_calls:
            lines.append(f"  tool call {call.name}({json.dumps(call.arguments, default=str)})")
        lines.append("")
    response = entry.response
    if response is not None:
        texts = response.texts
        for index, text in enumerate(texts):
            lines.append(
                "[response]" if len(texts) == 1 else f"[response {index + 1}/{len(texts)}]"
            )
            lines.append(text)
        for call in response.tool_calls:
            lines.append(f"[tool call] {call.name}({json.dumps(call.arguments, default=str)})")
        if response.finish_reason not in (None, "stop"):
            lines.append(f"(finish reason: {response.finish_reason})")
        lines.append("")
    if entry.fallback_from:
        lines.append(f"[fallback] {entry.fallback_from} -> {entry.adapter}")
    if entry.diagnostics:
        lines.append(f"[repairs] {len(entry.diagnostics)} by {entry.adapter or 'the adapter'}:")
        lines.extend(f"  - {_diagnostic(d)}" for d in entry.diagnostics)
    for attempt in entry.attempts:
        if attempt.error or (attempt.status or 200) >= 400:
            lines.append(
                f"[retry] attempt {attempt.number}: {attempt.status or ''} {attempt.error or ''} "
                f"-> waited {attempt.wait_s:.2f} s ({attempt.reason})"
            )
    if entry.error:
        lines.append(f"[error] {entry.error}")
    return printable("\n".join(lines).rstrip()) + "\n"


def _diagnostic(diagnostic: dict[str, Any]) -> str:
    """``rule [field]: what happened``, then any other keys."""
    known = ("rule", "field", "message", "detail")
    head = str(diagnostic.get("rule") or "repair")
    if diagnostic.get("field"):
        head += f" [{diagnostic['field']}]"
    text = diagnostic.get("message") or diagnostic.get("detail")
    rest = ", ".join(f"{k}={v!r}" for k, v in diagnostic.items() if k not in known)
    return head + (f": {text}" if text else "") + (f" ({rest})" if rest else "")


def render_entries(entries: Sequence[HistoryEntry], *, total: int | None = None) -> str:
    """The entries, oldest first, each numbered within ``total`` calls of history."""
    total = len(entries) if total is None else total
    first = total - len(entries) + 1
    return "\n".join(
        render_entry(entry, f"call {first + i} of {total}") for i, entry in enumerate(entries)
    )
