"""Renderings of retrieval objects: hits (passages with scores), indexes, embedders.

Score bars and layout use inline styles only, so they survive an untrusted notebook and
static viewers.
"""

from __future__ import annotations

from typing import Any

from lmbench.notebook.html import box, esc, kv_table, table

__all__ = [
    "embedder_html",
    "embedder_text",
    "hits_html",
    "hits_text",
    "index_html",
    "index_text",
]

_PASSAGE_CHARS = 400


def _bar(score: float, top: float) -> str:
    width = 0 if top <= 0 else max(0, min(100, round(100 * score / top)))
    return (
        f'<div style="display:flex;align-items:center;gap:6px">'
        f'<code>{score:.3f}</code><span style="display:inline-block;height:6px;width:{width}px;'
        f'background:rgba(25,118,210,.55);border-radius:3px"></span></div>'
    )


def _passage(text: str | None) -> str:
    if text is None:
        return '<span style="opacity:.6">(no text)</span>'
    shown = text if len(text) <= _PASSAGE_CHARS else text[:_PASSAGE_CHARS] + " ..."
    return f'<div style="white-space:pre-wrap;max-width:60em">{esc(shown)}</div>'


def hits_html(hits: Any) -> str:
    top = max((h.score for h in hits.hits), default=0.0)
    rows = [
        (
            str(rank),
            _bar(hit.score, top),
            f"<code>{esc(repr(hit.id))}</code>",
            _passage(hit.text),
            esc(", ".join(f"{k}={v}" for k, v in (hit.metadata or {}).items())),
        )
        for rank, hit in enumerate(hits.hits, 1)
    ]
    meta = f"{esc(hits.metric)}" + (f" · query: {esc(hits.query)}" if hits.query else "")
    title = f"{len(hits.hits)} passage{'s' if len(hits.hits) != 1 else ''} retrieved"
    body = table(["#", "score", "id", "passage", "metadata"], rows) if rows else "<p>no hits</p>"
    return box(title, body, meta=meta)


def hits_text(hits: Any) -> str:
    lines = [f"{len(hits.hits)} hits" + (f" for {hits.query!r}" if hits.query else "")]
    for rank, hit in enumerate(hits.hits, 1):
        text = (hit.text or "").replace("\n", " ")
        lines.append(f"{rank:>3}. {hit.score:.3f}  {hit.id!r}  {text[:100]}")
    return "\n".join(lines)


def index_html(index: Any) -> str:
    return box("VectorIndex", kv_table((k, esc(v)) for k, v in index.describe()))


def index_text(index: Any) -> str:
    return repr(index)


def embedder_html(embedder: Any) -> str:
    pairs = [
        ("model", esc(embedder.name)),
        ("dimensions", esc(embedder.dim if embedder.dim is not None else "known after first call")),
        ("batch size", esc(embedder.batch_size)),
        ("normalised", esc(embedder.normalize)),
    ]
    return box("Embedder", kv_table(pairs))


def embedder_text(embedder: Any) -> str:
    return repr(embedder)
