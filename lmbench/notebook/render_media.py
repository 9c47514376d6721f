"""Renderings of media inputs (image thumbnails, audio players, document previews) and
citations. Inline styles only, so they survive untrusted notebooks and static viewers."""

from __future__ import annotations

from typing import Any

from lmbench.notebook.html import box, esc, table

__all__ = ["citations_html", "citations_text", "media_html", "media_text"]

_PREVIEW_CHARS = 600
_THUMB = "max-width:240px;max-height:240px;border-radius:3px;display:block"


def _size(media: Any) -> str:
    size = media.size_bytes
    if size is None:
        return "URL"
    return f"{size / 1024:,.1f} KB" if size >= 1024 else f"{size} bytes"


def _image(media: Any) -> tuple[str, str]:
    src = esc(media.data_url)
    dims = ""
    if media.data is not None:
        try:
            width, height = media.size
            dims = f" · {width}×{height}"
        except Exception:  # an undecodable image still shows its thumbnail and type
            dims = ""
    return f'<img src="{src}" alt="image" style="{_THUMB}"/>', dims


def _preview(media: Any) -> str:
    try:
        text = media.text
    except Exception as exc:
        return f'<div style="opacity:.7">{esc(f"(text not readable: {exc})")}</div>'
    shown = text if len(text) <= _PREVIEW_CHARS else text[:_PREVIEW_CHARS] + " ..."
    return (
        '<div style="white-space:pre-wrap;max-height:12em;overflow:auto;max-width:60em;'
        f'font-family:monospace;font-size:12px">{esc(shown)}</div>'
    )


def media_html(media: Any) -> str:
    kind = type(media).__name__
    meta = f"{esc(media.media_type or '')} · {_size(media)}"
    if kind == "Image":
        body, dims = _image(media)
        meta += dims
    elif kind == "Audio":
        body = f'<audio controls src="{esc(media.data_url)}" style="width:320px"></audio>'
    elif media.data is not None:
        body = _preview(media)
    else:
        body = f'<a href="{esc(media.url)}">{esc(media.url)}</a>'
    title = kind + (f": {media.title}" if getattr(media, "title", None) else "")
    return box(title, body, meta=meta)


def media_text(media: Any) -> str:
    return repr(media)


def citations_html(citations: Any) -> str:
    rows = [
        (
            str(i),
            f'<div style="white-space:pre-wrap;max-width:40em">{esc(c.cited_text)}</div>',
            esc(c.document_title or (c.document_index if c.document_index is not None else "")),
            esc(f"{c.location} {c.start}-{c.end}" if c.start is not None else c.location),
            esc(c.supports or ""),
        )
        for i, c in enumerate(citations.items, 1)
    ]
    body = (
        table(["#", "cited text", "document", "where", "supports"], rows) if rows else "<p>none</p>"
    )
    return box(f"{len(rows)} citation{'s' if len(rows) != 1 else ''}", body)


def citations_text(citations: Any) -> str:
    return (
        "\n".join(
            f"{i}. {c.cited_text!r} ({c.document_title or c.document_index})"
            for i, c in enumerate(citations.items, 1)
        )
        or "no citations"
    )
