"""Small builders of static HTML for the renderers: escaping, tables, boxes, collapsibles.

Everything a user or a model wrote goes through ``esc`` before it reaches markup. The
stylesheet uses JupyterLab's CSS variables (with fallbacks) and translucent tints, so the
same output reads well in light and dark themes, in nbviewer, and with no CSS at all
(GitHub strips styles: the markup alone is plain tables, lists and ``<details>``).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "STYLE",
    "badge",
    "box",
    "details",
    "esc",
    "kv_table",
    "pre",
    "show_value",
    "table",
]

STYLE = """<style>
.lmb{font-family:var(--jp-ui-font-family,system-ui,sans-serif);font-size:var(--jp-ui-font-size1,13px);
color:var(--jp-ui-font-color1,inherit);background:var(--jp-layout-color1,transparent);
border:1px solid var(--jp-border-color2,rgba(127,127,127,.35));border-radius:4px;padding:6px 10px;
margin:2px 0;max-width:100%;overflow-x:auto}
.lmb h4{margin:2px 0 6px;font-size:var(--jp-ui-font-size2,14px)}
.lmb table{border-collapse:collapse;margin:4px 0}
.lmb th,.lmb td{border-bottom:1px solid var(--jp-border-color2,rgba(127,127,127,.35));
padding:3px 8px;text-align:left;vertical-align:top}
.lmb th{color:var(--jp-ui-font-color2,inherit);font-weight:600}
.lmb pre{font-family:var(--jp-code-font-family,monospace);font-size:var(--jp-code-font-size,12px);
white-space:pre-wrap;word-break:break-word;margin:2px 0;padding:4px 6px;
background:var(--jp-layout-color2,rgba(127,127,127,.08));color:inherit;border-radius:3px}
.lmb .lmb-meta{color:var(--jp-ui-font-color2,inherit);opacity:.9}
.lmb .lmb-badge{display:inline-block;padding:0 6px;border-radius:8px;font-size:.9em;
border:1px solid var(--jp-border-color2,rgba(127,127,127,.35))}
.lmb .lmb-ok{background:rgba(56,142,60,.18)}
.lmb .lmb-warn{background:rgba(245,124,0,.20)}
.lmb .lmb-err{background:rgba(211,47,47,.20)}
.lmb mark{background:rgba(211,47,47,.30);color:inherit;outline:1px solid rgba(211,47,47,.7)}
.lmb details{margin:4px 0}.lmb summary{cursor:pointer;color:var(--jp-ui-font-color2,inherit)}
.lmb ul{margin:2px 0;padding-left:18px}
</style>"""


def esc(value: Any) -> str:
    """``value`` as text, with every HTML-significant character escaped (quotes included)."""
    return html.escape(value if isinstance(value, str) else str(value), quote=True)


def show_value(value: Any) -> str:
    """A field value as escaped HTML: text as wrapped preformatted text, others by ``repr``."""
    if isinstance(value, str):
        return pre(value)
    return f"<code>{esc(repr(value))}</code>"


def pre(text: str) -> str:
    return f"<pre>{esc(text)}</pre>"


def badge(text: str, kind: str = "") -> str:
    """A small label; ``kind`` is ``ok``, ``warn``, ``err`` or empty."""
    css = f"lmb-badge lmb-{kind}" if kind else "lmb-badge"
    return f'<span class="{css}">{esc(text)}</span>'


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A table; ``headers`` are plain text (escaped here), cells are HTML already built."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def kv_table(pairs: Iterable[tuple[str, str]]) -> str:
    """A two-column table of plain-text names and HTML values."""
    body = "".join(f"<tr><th>{esc(k)}</th><td>{v}</td></tr>" for k, v in pairs)
    return f"<table><tbody>{body}</tbody></table>"


def details(summary: str, body: str, *, open_: bool = False) -> str:
    """A collapsible section; ``summary`` is plain text, ``body`` HTML."""
    flag = " open" if open_ else ""
    return f"<details{flag}><summary>{esc(summary)}</summary>{body}</details>"


def box(title: str, body: str, *, meta: str = "") -> str:
    """The outer frame of every rendering: stylesheet, title (plain text), optional meta HTML."""
    line = f' <span class="lmb-meta">{meta}</span>' if meta else ""
    return f'{STYLE}<div class="lmb"><h4>{esc(title)}{line}</h4>{body}</div>'
