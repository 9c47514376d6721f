"""Search results: ``Hit`` (id, score, metadata) and ``Hits``, a list of them that renders
itself in notebooks and hands out the passages' text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lmbench.display import RichDisplay

__all__ = ["Hit", "Hits"]


@dataclass(frozen=True)
class Hit:
    """One search result. ``score`` grows with similarity (cosine or dot product; for ``l2``
    the negative squared distance); ``text`` is the passage when the index or corpus has one."""

    id: Any
    score: float
    metadata: dict[str, Any] | None = None
    text: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "score": self.score}
        if self.metadata is not None:
            out["metadata"] = self.metadata
        if self.text is not None:
            out["text"] = self.text
        return out


@dataclass
class Hits(RichDisplay):
    """The hits of one query, best first. Iterates and indexes like a list of ``Hit``."""

    hits: list[Hit]
    query: str | None = None
    metric: str = "cosine"
    #: The module call that produced these hits (set by ``Retrieve``).
    call: Any = field(default=None, repr=False, compare=False)

    def __iter__(self) -> Any:
        return iter(self.hits)

    def __len__(self) -> int:
        return len(self.hits)

    def __getitem__(self, index: int) -> Hit:
        return self.hits[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Hits):
            return self.hits == other.hits
        if isinstance(other, list):
            return self.hits == other
        return NotImplemented

    @property
    def ids(self) -> list[Any]:
        return [hit.id for hit in self.hits]

    @property
    def scores(self) -> list[float]:
        return [hit.score for hit in self.hits]

    @property
    def passages(self) -> list[str]:
        """The hits' text (hits without text are left out)."""
        return [hit.text for hit in self.hits if hit.text is not None]

    def to_list(self) -> list[dict[str, Any]]:
        return [hit.to_dict() for hit in self.hits]

    def __repr__(self) -> str:
        shown = ", ".join(f"{hit.id!r}: {hit.score:.3f}" for hit in self.hits[:5])
        more = f", ... {len(self.hits) - 5} more" if len(self.hits) > 5 else ""
        return f"Hits([{shown}{more}])"
