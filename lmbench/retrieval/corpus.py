"""Turning what users hand to ``Retrieve`` into ids, passages and metadata.

Accepted: a list of strings; a dict of id -> string; a list of dicts / ``Example`` records
with a ``text`` field (the other fields become metadata, ``id`` the id); ``Document`` chunks
(anything with ``text`` and ``metadata`` attributes); or one ``Document``, chunked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lmbench.errors import InputError

__all__ = ["Passages", "passages_from"]


@dataclass(frozen=True)
class Passages:
    ids: list[Any]
    texts: list[str]
    metadata: list[dict[str, Any] | None]


def _from_record(position: int, item: Any) -> tuple[Any, str, dict[str, Any] | None]:
    if isinstance(item, str):
        return position, item, None
    if isinstance(item, Mapping):
        record = dict(item)
        text = record.pop("text", None)
        if not isinstance(text, str):
            raise InputError(
                f"corpus[{position}] has no 'text' string (fields: {sorted(item)}); records "
                "need a 'text' field holding the passage"
            )
        ident = record.pop("id", position)
        return ident, text, record or None
    text = getattr(item, "text", None)
    if isinstance(text, str):
        meta = getattr(item, "metadata", None)
        ident = getattr(item, "id", None)
        return (position if ident is None else ident), text, dict(meta) if meta else None
    raise InputError(
        f"corpus[{position}] is {type(item).__name__}: give strings, dicts with a 'text' "
        "field, or Document chunks"
    )


def passages_from(corpus: Any) -> Passages:
    if callable(getattr(corpus, "chunks", None)):  # one Document: its chunks, default sizes
        corpus = corpus.chunks()
    if isinstance(corpus, str):
        raise InputError("the corpus is one string: give a list of passages (e.g. chunk it first)")
    if isinstance(corpus, Mapping):
        items = list(corpus.items())
        for key, value in items:
            if not isinstance(value, str):
                raise InputError(f"corpus[{key!r}] is {type(value).__name__}, not a passage string")
        return Passages([k for k, _ in items], [v for _, v in items], [None] * len(items))
    records = [_from_record(i, item) for i, item in enumerate(corpus)]
    if not records:
        raise InputError("the corpus is empty: give at least one passage")
    return Passages([r[0] for r in records], [r[1] for r in records], [r[2] for r in records])
