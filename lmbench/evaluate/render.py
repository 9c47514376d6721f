"""Notebook views of runs, with inline styles only (no ``<style>`` block), so a notebook
reopened untrusted, nbviewer or GitHub shows them as they were: the score, a bar of
per-row score buckets, the worst rows with their diagnostics, cost and time. Each box carries
the ``lmb`` class of every lmbench view and the classes MathJax skips (dollar amounts)."""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from typing import Any

from lmbench.display import NO_MATH

__all__ = ["batch_html", "comparison_html", "eval_html"]

_BOX = (
    "font-family:system-ui,sans-serif;font-size:13px;border:1px solid rgba(127,127,127,.35);"
    "border-radius:4px;padding:6px 10px;margin:2px 0;max-width:100%;overflow-x:auto"
)
_CELL = "border-bottom:1px solid rgba(127,127,127,.3);padding:3px 8px;text-align:left;vertical-align:top"
_HEAD = _CELL + ";font-weight:600;opacity:.8"
_META = "opacity:.75"
#: Score colours: (plain colour, JupyterLab's theme colour for the same meaning, translucent
#: tint). Only the large headline score is drawn in colour (the plain colours read on white
#: and on the dark theme's near-black at that size; a trusted notebook takes the theme's,
#: brighter in the dark theme: an untrusted one drops ``var()``). Small scores and errors keep
#: the page's text colour on a tint, readable in any theme.
_GOOD = ("#2e7d32", "--jp-success-color1", "rgba(56,142,60,.22)")
_MID = ("#b26a00", "--jp-warn-color0", "rgba(245,124,0,.24)")
_BAD = ("#c62828", "--jp-error-color1", "rgba(211,47,47,.24)")
_TEXT_LIMIT = 160


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _short(value: Any) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= _TEXT_LIMIT else text[: _TEXT_LIMIT - 1] + "…"


def _fields(values: dict[str, Any] | None) -> str:
    if not values:
        return ""
    return "<br>".join(f"<b>{esc(k)}</b>: {esc(_short(v))}" for k, v in values.items())


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    head = "".join(f'<th style="{_HEAD}">{esc(h)}</th>' for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td style="{_CELL}">{cell}</td>' for cell in row) + "</tr>"
        for row in rows
    )
    return f'<table style="border-collapse:collapse;margin:4px 0"><tr>{head}</tr>{body}</table>'


def _kind(score: float | None) -> tuple[str, str, str]:
    if score is None or math.isnan(score):
        return _BAD
    return _GOOD if score >= 0.8 else _MID if score >= 0.5 else _BAD


def _colour(score: float | None, prop: str = "color") -> str:
    """Declarations painting ``prop`` in the colour of ``score``: the plain value first, for
    viewers that refuse ``var()``."""
    plain, variable, _tint = _kind(score)
    return f"{prop}:{plain};{prop}:var({variable},{plain})"


def _tinted(score: float | None) -> str:
    """The style of small text marked by ``score``'s colour: page text on a tint."""
    return f"background:{_kind(score)[2]};border-radius:3px;padding:0 4px"


def format_cost(usd: float | None) -> str:
    if usd is None:
        return "unknown"
    return "$0" if usd == 0 else f"${usd:.6f}" if usd < 0.01 else f"${usd:.4f}"


def _totals_line(result: Any) -> str:
    totals = result.totals
    parts = [
        f"{totals.rows} rows",
        f"{totals.errors} errors" if totals.errors else "no errors",
        f"cost {format_cost(result.cost)}",
        f"{totals.tokens:,} tokens",
        f"{totals.duration_s:.2f} s on {result.executor}",
        f"mean latency {totals.mean_latency_s * 1000:.0f} ms",
    ]
    if result.run_id:
        parts.append(f"run {result.run_id}")
    return " · ".join(parts)


def _histogram(scores: Sequence[float | None], buckets: int = 10) -> str:
    """Per-row scores in ``buckets`` bins as inline bars; failed rows in their own bar."""
    counts = [0] * buckets
    unscored = 0
    for score in scores:
        if score is None:
            unscored += 1
            continue
        counts[min(buckets - 1, max(0, int(score * buckets)))] += 1
    top = max([*counts, unscored, 1])
    bars = []
    for index, count in enumerate(counts):
        low = index / buckets
        height = round(48 * count / top)
        bars.append(
            f'<div title="{low:.1f}-{low + 1 / buckets:.1f}: {count} rows" '
            f'style="display:inline-block;width:14px;margin-right:2px;vertical-align:bottom;'
            f'height:{max(height, 1)}px;{_colour(low + 0.05, "background")};opacity:{1 if count else 0.2}"></div>'
        )
    if unscored:
        bars.append(
            f'<div title="not scored: {unscored} rows" style="display:inline-block;width:14px;'
            f"margin-left:6px;vertical-align:bottom;height:{round(48 * unscored / top)}px;"
            'background:#888"></div>'
        )
    return (
        '<div style="margin:4px 0"><div style="height:50px;white-space:nowrap">'
        + "".join(bars)
        + f'</div><div style="font-size:11px;{_META}">score 0 → 1 ({len(scores)} rows)</div></div>'
    )


def _diagnostics(row: Any) -> str:
    parts = []
    if row.error:
        where = f" in the {row.failed_in}" if row.failed_in else ""
        parts.append(f'<span style="{_tinted(None)}">error{where}: {esc(_short(row.error))}</span>')
    if row.repairs:
        parts.append(f"{row.repairs} repair{'s' if row.repairs != 1 else ''}")
    if row.adapter:
        parts.append(esc(row.adapter))
    if row.cache:
        parts.append(f"cache {esc(row.cache)}")
    parts.append(f"{row.latency_s * 1000:.0f} ms")
    return "<br>".join(parts)


def eval_html(result: Any) -> str:
    score = result.score
    shown = "n/a" if math.isnan(score) else f"{score:.3f}"
    header = (
        f'<div style="font-size:15px;font-weight:600;margin:2px 0 4px">'
        f"{esc(result.name)} · {esc(result.metric_name)} "
        f'<span style="{_colour(score)};font-size:20px">{shown}</span></div>'
        f'<div style="{_META}">{esc(_totals_line(result))}</div>'
    )
    worst = [r for r in result.worst(5) if r.error is not None or (r.score or 0.0) < 1.0]
    table = ""
    if worst:
        table = '<div style="margin-top:6px;font-weight:600">Worst rows</div>' + _table(
            ["#", "inputs", "expected", "outputs", "score", "diagnostics"],
            [
                [
                    esc(r.index),
                    _fields(r.inputs),
                    _fields(r.labels),
                    _fields(r.outputs),
                    f'<b style="{_tinted(r.score)}">'
                    f"{'-' if r.score is None else f'{r.score:.2f}'}</b>",
                    _diagnostics(r),
                ]
                for r in worst
            ],
        )
    return f'<div class="lmb {NO_MATH}" style="{_BOX}">{header}{_histogram(result.scores)}{table}</div>'


def batch_html(result: Any) -> str:
    failed = [r for r in result.rows if r.error is not None][:5]
    body = f'<div style="font-weight:600">{esc(result.program_name)}</div>'
    body += f'<div style="{_META}">{esc(_totals_line(result))}</div>'
    if failed:
        body += _table(
            ["#", "inputs", "error"],
            [[esc(r.index), _fields(r.inputs), esc(_short(r.error))] for r in failed],
        )
    return f'<div class="lmb {NO_MATH}" style="{_BOX}">{body}</div>'


def comparison_html(comparison: Any) -> str:
    table = comparison.table_rows()
    best = max((row["score"] for row in table if not math.isnan(row["score"])), default=None)
    rows = [
        [
            f"<b>{esc(row['variant'])}</b>",
            f'<b style="{_tinted(row["score"])}">{row["score"]:.3f}</b>'
            + (" ★" if best is not None and row["score"] == best else ""),
            esc(format_cost(row["cost_usd"])),
            esc(f"{row['mean_latency_s'] * 1000:.0f} ms"),
            esc(f"{row['error_rate']:.0%}"),
            esc(f"{row['tokens']:,}"),
        ]
        for row in table
    ]
    disagreements = comparison.disagreements()
    meta = (
        f"{comparison.rows} rows · metric {comparison.metric_name} · "
        f"{len(disagreements)} rows where the variants' scores differ "
        "(<code>.disagreements()</code>)"
    )
    return (
        f'<div class="lmb {NO_MATH}" style="{_BOX}"><div style="font-weight:600">Comparison</div>'
        f'<div style="{_META}">{meta}</div>'
        + _table(["variant", "score", "cost", "latency", "errors", "tokens"], rows)
        + "</div>"
    )
