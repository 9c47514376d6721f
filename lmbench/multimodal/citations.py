"""``Citations``: the passages of input documents a model cited for its answer.

Anthropic models cite documents sent with ``Document(..., citations=True)``: their text
blocks carry ``citations`` (cited text, document index and title, character, page or block
range). The Anthropic wire format collects them into ``LMResponse.metadata["citations"]``;
``Citations.from_response`` (or ``from_prediction``) turns them into this type.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from lmbench.display import RichDisplay

__all__ = ["Citation", "Citations"]


@dataclass(frozen=True)
class Citation:
    """One cited passage: its text, which document (index and title) and where in it."""

    cited_text: str
    document_index: int | None = None
    document_title: str | None = None
    start: int | None = None
    end: int | None = None
    location: str = "char"  # char, page or block (content block) ranges
    #: The answer text the citation supports.
    supports: str | None = None

    @classmethod
    def from_wire(cls, data: Mapping[str, Any], supports: str | None = None) -> Citation:
        kind = str(data.get("type", "char_location"))
        location = kind.removesuffix("_location").removesuffix("content_block_") or "char"
        prefix = {"char": "char", "page": "page"}.get(location, "block")
        return cls(
            cited_text=str(data.get("cited_text", "")),
            document_index=data.get("document_index"),
            document_title=data.get("document_title"),
            start=data.get(f"start_{prefix}_index")
            if prefix != "page"
            else data.get("start_page_number"),
            end=data.get(f"end_{prefix}_index")
            if prefix != "page"
            else data.get("end_page_number"),
            location="block" if location.startswith("content") else location,
            supports=supports,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "cited_text": self.cited_text,
            "document_index": self.document_index,
            "document_title": self.document_title,
            "start": self.start,
            "end": self.end,
            "location": self.location,
            "supports": self.supports,
        }


@dataclass
class Citations(RichDisplay):
    """The citations of one answer, in the order the model made them."""

    items: list[Citation] = field(default_factory=list)

    def __iter__(self) -> Iterator[Citation]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> Citation:
        return self.items[index]

    @classmethod
    def from_response(cls, response: Any) -> Citations:
        """From an ``LMResponse`` (its ``metadata["citations"]``)."""
        found = (getattr(response, "metadata", None) or {}).get("citations") or []
        return cls([Citation(**item) for item in found])

    @classmethod
    def from_prediction(cls, prediction: Any) -> Citations:
        """From the LM calls under a ``Prediction`` (every cited passage, in call order)."""
        call = getattr(prediction, "call", None)
        items: list[Citation] = []
        for lm_call in call.lm_calls() if call is not None else ():
            if lm_call.response is not None:
                items.extend(cls.from_response(lm_call.response).items)
        return cls(items)

    def to_list(self) -> list[dict[str, Any]]:
        return [c.to_dict() for c in self.items]

    def __repr__(self) -> str:
        return f"Citations({len(self.items)}: {[c.cited_text[:30] for c in self.items[:3]]})"
