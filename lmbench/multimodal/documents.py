"""Document text: pages of a PDF (``pypdf``, in the ``media`` extra) and chunking for retrieval.

``chunk_text`` splits on paragraph, then line, then sentence, then word boundaries, packing
pieces up to ``size`` characters with ``overlap`` characters carried into the next chunk, so a
chunk rarely starts or ends mid-sentence.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Any

from lmbench.errors import ConfigError, InputError

__all__ = ["Chunk", "chunk_text", "pdf_pages"]

_SEPARATORS = ("\n\n", "\n", ". ", " ")


@dataclass(frozen=True)
class Chunk:
    """A piece of a document: its text, and where it came from (``metadata``: source, page,
    start character). ``Retrieve`` takes chunks as they are."""

    text: str
    id: Any = None
    metadata: dict[str, Any] = field(default_factory=dict)


def pdf_pages(raw: bytes) -> list[str]:
    """The text of each page of a PDF."""
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
    except ImportError:
        raise ConfigError("PDF text needs pypdf: pip install 'lmbench[media]'") from None
    try:
        reader = PdfReader(io.BytesIO(raw))
        return [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError) as exc:
        raise InputError(
            f"the PDF could not be read ({exc}); check that the file is a whole PDF"
        ) from None


def _split(text: str, size: int, separators: tuple[str, ...]) -> list[str]:
    """Pieces of at most ``size`` characters, cut at the coarsest boundary that works."""
    if len(text) <= size:
        return [text]
    if not separators:
        return [text[i : i + size] for i in range(0, len(text), size)]
    separator, finer = separators[0], separators[1:]
    parts = text.split(separator)
    pieces: list[str] = []
    for index, part in enumerate(parts):
        piece = part + (separator if index < len(parts) - 1 else "")
        pieces.extend(_split(piece, size, finer) if len(piece) > size else [piece])
    return pieces


def chunk_text(text: str, size: int = 1000, overlap: int = 100) -> list[tuple[int, str]]:
    """(start character, chunk) pairs covering ``text``; chunks hold at most ``size`` characters
    and repeat up to ``overlap`` characters of the previous one."""
    if size < 1 or overlap < 0 or overlap >= size:
        raise ConfigError(
            f"chunk size={size}, overlap={overlap}: need size >= 1 and 0 <= overlap < size"
        )
    chunks: list[tuple[int, str]] = []
    current, start, position = "", 0, 0
    for piece in _split(text, size - overlap, _SEPARATORS):
        if current and len(current) + len(piece) > size:
            chunks.append((start, current))
            tail = current[-overlap:] if overlap else ""
            cut = re.search(r"\s", tail)
            tail = tail[cut.end() :] if cut and cut.end() < len(tail) else tail
            current, start = tail, position - len(tail)
        current += piece
        position += len(piece)
    if current.strip():
        chunks.append((start, current))
    return [(s, c) for s, c in chunks if c.strip()]
