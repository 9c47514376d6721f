"""Media input types: ``Image``, ``Audio``, ``Document``.

Each turns into a message content part; providers translate parts to their wire format.
Build from a URL, a local path (read and base64-encoded) or raw bytes.
"""

from __future__ import annotations

import base64
import mimetypes
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

__all__ = ["Audio", "Document", "Image", "Media"]


@dataclass(frozen=True)
class Media:
    """Base of media inputs: a URL, or base64 data with its media type."""

    url: str | None = None
    data: str | None = None  # base64
    media_type: str | None = None
    kind: ClassVar[str] = "file"

    @classmethod
    def from_path(cls, path: str | Path) -> Media:
        file = Path(path)
        media_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        return cls(data=base64.b64encode(file.read_bytes()).decode(), media_type=media_type)

    @classmethod
    def from_bytes(cls, raw: bytes, media_type: str) -> Media:
        return cls(data=base64.b64encode(raw).decode(), media_type=media_type)

    def to_part(self) -> dict[str, Any]:
        part: dict[str, Any] = {"type": self.kind}
        if self.url:
            part["url"] = self.url
        else:
            part["data"] = self.data
            part["media_type"] = self.media_type
        return part

    def __repr__(self) -> str:
        where = (
            self.url if self.url else f"{self.media_type}, {len(self.data or '') * 3 // 4} bytes"
        )
        return f"{type(self).__name__}({where})"


@dataclass(frozen=True, repr=False)
class Image(Media):
    kind: ClassVar[str] = "image"


@dataclass(frozen=True, repr=False)
class Audio(Media):
    kind: ClassVar[str] = "audio"


@dataclass(frozen=True, repr=False)
class Document(Media):
    kind: ClassVar[str] = "document"
