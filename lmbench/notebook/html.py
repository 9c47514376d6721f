"""Small builders of static HTML for the renderers: escaping, tables, boxes, collapsibles.

Everything a user or a model wrote goes through ``esc`` before it reaches markup.

Styles travel on each element (``style=`` attributes), never in a ``<style>`` block: a
reopened notebook is untrusted, and JupyterLab's sanitizer then drops ``<style>`` blocks while
it keeps inline styles. Each declaration that uses a JupyterLab CSS variable comes after a
plain fallback (translucent tints and borders that read well on light and dark backgrounds),
so a viewer that refuses ``var(...)`` keeps the fallback. Text colour is inherited from the
page, so it follows the theme by itself. With no CSS at all (GitHub) the markup is plain
tables, lists and ``<details>``.

Every box carries the classes MathJax skips (``tex2jax_ignore mathjax_ignore``): JupyterLab
typesets ``$...$`` in HTML outputs, and a dollar amount must never turn into italic math.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

from lmbench.display import NO_MATH

__all__ = [
    "NO_MATH",
    "badge",
    "box",
    "bullets",
    "code",
    "details",
    "esc",
    "heading",
    "kv_table",
    "mark",
    "meta",
    "note",
    "pre",
    "show_value",
    "style",
    "table",
]


_BORDER = "1px solid rgba(127,127,127,.35)"
_BORDER_VAR = "var(--jp-border-color2,rgba(127,127,127,.35))"
_MUTED = "opacity:.72"
_TINTS = {
    "ok": "rgba(56,142,60,.18)",
    "warn": "rgba(245,124,0,.22)",
    "err": "rgba(211,47,47,.20)",
    "": "rgba(127,127,127,.10)",
}

#: The inline style of each kind of element.
STYLES: dict[str, str] = {
    "box": (
        f"border:{_BORDER};border-color:{_BORDER_VAR};border-radius:4px;padding:6px 10px;"
        "margin:2px 0;max-width:100%;overflow-x:auto;box-sizing:border-box;"
        "font-size:13px;font-size:var(--jp-ui-font-size1,13px);line-height:1.4"
    ),
    "title": "margin:2px 0 6px;font-size:14px;font-weight:600",
    "heading": "margin:8px 0 4px;font-size:13px;font-weight:600",
    "table": "border-collapse:collapse;margin:4px 0",
    "th": (
        f"border-bottom:{_BORDER};padding:3px 10px 3px 0;text-align:left;vertical-align:top;"
        f"font-weight:600;white-space:nowrap;{_MUTED}"
    ),
    "td": f"border-bottom:{_BORDER};padding:3px 10px 3px 0;text-align:left;vertical-align:top",
    "td_nowrap": (
        f"border-bottom:{_BORDER};padding:3px 10px 3px 0;text-align:left;vertical-align:top;"
        "white-space:nowrap"
    ),
    "pre": (
        "font-family:monospace;font-family:var(--jp-code-font-family,monospace);font-size:12px;"
        "white-space:pre-wrap;word-break:break-word;margin:2px 0;padding:4px 6px;"
        "background:rgba(127,127,127,.10);border-radius:3px;color:inherit"
    ),
    "code": "font-family:monospace;font-family:var(--jp-code-font-family,monospace);font-size:12px",
    "meta": f"{_MUTED};font-weight:normal",
    "badge": (
        f"display:inline-block;padding:0 6px;border-radius:8px;font-size:.9em;border:{_BORDER};"
        "white-space:nowrap;font-weight:normal"
    ),
    "mark": "background:rgba(211,47,47,.30);color:inherit;outline:1px solid rgba(211,47,47,.7)",
    "details": "margin:4px 0",
    "summary": f"cursor:pointer;{_MUTED}",
    "list": "margin:2px 0;padding-left:18px",
}


def style(kind: str, extra: str = "") -> str:
    """The ``style="..."`` attribute of an element of ``kind`` (see ``STYLES``)."""
    declarations = STYLES[kind] + (f";{extra}" if extra else "")
    return f'style="{declarations}"'


def esc(value: Any) -> str:
    """``value`` as text, with every HTML-significant character escaped (quotes included)."""
    return html.escape(value if isinstance(value, str) else str(value), quote=True)


def show_value(value: Any) -> str:
    """A field value as escaped HTML: text as wrapped preformatted text, others by ``repr``."""
    if isinstance(value, str):
        return pre(value)
    return code(repr(value))


def pre(text: str) -> str:
    return f"<pre {style('pre')}>{esc(text)}</pre>"


def code(text: str) -> str:
    return f"<code {style('code')}>{esc(text)}</code>"


def meta(text: str) -> str:
    """Muted secondary text (plain text, escaped here)."""
    return f'<span class="lmb-meta" {style("meta")}>{esc(text)}</span>'


def note(text: str) -> str:
    """A muted line of plain text, e.g. ``no calls recorded yet``."""
    return f'<div class="lmb-meta" {style("meta")}>{esc(text)}</div>'


def heading(text: str) -> str:
    """A section heading inside a box (plain text)."""
    return f"<h4 {style('heading')}>{esc(text)}</h4>"


def badge(text: str, kind: str = "") -> str:
    """A small label; ``kind`` is ``ok``, ``warn``, ``err`` or empty."""
    css = f"lmb-badge lmb-{kind}" if kind else "lmb-badge"
    return f'<span class="{css}" {style("badge", "background:" + _TINTS[kind])}>{esc(text)}</span>'


def mark(text: str) -> str:
    return f"<mark {style('mark')}>{esc(text) or '&#8203;'}</mark>"


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    nowrap: Sequence[int] = (),
) -> str:
    """A table; ``headers`` are plain text (escaped here), cells are HTML already built.

    Columns whose index is in ``nowrap`` never wrap (model names, latencies, times).
    """
    head = "".join(f"<th {style('th')}>{esc(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td {style('td_nowrap' if i in nowrap else 'td')}>{cell}</td>"
            for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table {style('table')}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def kv_table(pairs: Iterable[tuple[str, str]]) -> str:
    """A two-column table of plain-text names and HTML values."""
    body = "".join(
        f"<tr><th {style('th')}>{esc(k)}</th><td {style('td')}>{v}</td></tr>" for k, v in pairs
    )
    return f"<table {style('table')}><tbody>{body}</tbody></table>"


def details(summary: str, body: str, *, open_: bool = False) -> str:
    """A collapsible section; ``summary`` is plain text, ``body`` HTML."""
    flag = " open" if open_ else ""
    return (
        f"<details{flag} {style('details')}><summary {style('summary')}>{esc(summary)}</summary>"
        f"{body}</details>"
    )


def bullets(items: Iterable[str], *, ordered: bool = False) -> str:
    """A list of HTML items."""
    tag = "ol" if ordered else "ul"
    return f"<{tag} {style('list')}>" + "".join(f"<li>{item}</li>" for item in items) + f"</{tag}>"


def box(title: str, body: str, *, meta: str = "") -> str:
    """The outer frame of every rendering: title (plain text), optional meta HTML, the body."""
    line = f' <span class="lmb-meta" {style("meta")}>{meta}</span>' if meta else ""
    return (
        f'<div class="lmb {NO_MATH}" {style("box")}>'
        f"<h4 {style('title')}>{esc(title)}{line}</h4>{body}</div>"
    )
