"""Errors as HTML and text: a parse failure with the failing region of the raw text marked,
and short usage messages for mistakes in a magic's line or body."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lmbench.notebook.html import (
    badge,
    box,
    code,
    esc,
    heading,
    kv_table,
    mark,
    meta,
    show_value,
    style,
)

if TYPE_CHECKING:
    from lmbench.errors import AdapterParseError

__all__ = ["MagicError", "parse_error_html", "parse_error_text"]


def _marked_raw(error: AdapterParseError) -> str:
    raw = error.raw
    if error.span is None:
        return f"<pre {style('pre')}>{esc(raw)}</pre>"
    start, end = (max(0, min(len(raw), i)) for i in error.span)
    # an empty span still shows where (``mark`` draws a zero-width character)
    return f"<pre {style('pre')}>{esc(raw[:start])}{mark(raw[start:end])}{esc(raw[end:])}</pre>"


def parse_error_html(error: AdapterParseError) -> str:
    pairs = [("adapter", esc(error.adapter)), ("problem", esc(error.reason))]
    if error.field:
        pairs.append(("field", code(error.field)))
    if error.expected:
        pairs.append(("expected", esc(error.expected)))
    body = kv_table(pairs) + heading("Raw text") + _marked_raw(error)
    if error.parsed:
        rows = [(name, show_value(value)) for name, value in error.parsed.items()]
        body += heading("Parsed before the failure") + kv_table(rows)
    return box("Parse error", body, meta=badge(error.adapter, "err"))


def parse_error_text(error: AdapterParseError) -> str:
    lines = [f"Parse error ({error.adapter}): {error.reason}"]
    if error.field:
        lines.append(f"  field: {error.field}")
    if error.expected:
        lines.append(f"  expected: {error.expected}")
    raw = error.raw
    if error.span is not None:
        start, end = error.span
        raw = f"{raw[:start]}>>>{raw[start:end]}<<<{raw[end:]}"
    lines.append(f"  raw text: {raw}")
    if error.parsed:
        lines.append(f"  parsed so far: {error.parsed!r}")
    return "\n".join(lines)


@dataclass(frozen=True)
class MagicError:
    """A mistake in a magic's line or body, shown instead of a traceback.

    ``source`` is the offending line and ``line`` its number in the cell (0 for the magic line).
    """

    magic: str
    message: str
    source: str | None = None
    line: int | None = None

    def _where(self) -> str:
        if self.line is None:
            return ""
        return "magic line" if self.line == 0 else f"line {self.line}"

    def _repr_html_(self) -> str:
        body = f"<div>{esc(self.message)}</div>"
        if self.source is not None:
            where = meta(f"{self._where()}: ")
            body += f"<pre {style('pre')}>{where}{mark(self.source)}</pre>"
        return box(f"{self.magic}: error", body, meta=badge("not run", "err"))

    def __str__(self) -> str:
        text = f"{self.magic}: {self.message}"
        if self.source is not None:
            text += f"\n  {self._where()}: {self.source}"
        return text

    def _repr_pretty_(self, printer: object, cycle: bool) -> None:
        printer.text(str(self))  # type: ignore[attr-defined]
