"""Media input types: ``Image``, ``Audio``, ``Document``; and the ``Citations`` output type.

Each input turns into a message content part; providers translate parts to their wire format
(and say clearly when they cannot take a kind). Build one from anything with ``Image.of(x)``
(a path, URL, ``data:`` URL, bytes, or a PIL image), or with the explicit constructors
``from_path``, ``from_url`` (downloaded once, cached, size-capped), ``from_bytes``,
``from_data_url``, ``Image.from_pil``. ``Image(url=...)`` keeps a URL for providers that fetch
it themselves. The format is detected from the bytes.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

from lmbench.display import RichDisplay
from lmbench.errors import InputError
from lmbench.multimodal.citations import Citation, Citations
from lmbench.multimodal.documents import Chunk

__all__ = ["Audio", "Chunk", "Citation", "Citations", "Document", "Image", "Media"]


@dataclass(frozen=True)
class Media(RichDisplay):
    """Base of media inputs: a URL, or base64 ``data`` with its ``media_type``."""

    url: str | None = None
    data: str | None = None  # base64
    media_type: str | None = None
    kind: ClassVar[str] = "file"
    #: Media type prefixes this kind accepts ("" accepts anything).
    accepts: ClassVar[tuple[str, ...]] = ("",)

    # -- building -------------------------------------------------------------------------------
    @classmethod
    def _checked(cls, raw: bytes, media_type: str, origin: str) -> Any:
        if not any(media_type.startswith(prefix) for prefix in cls.accepts):
            raise InputError(
                f"{cls.__name__} from {origin}: {media_type!r} is not a {cls.kind} type "
                f"(accepted: {', '.join(cls.accepts)}); use the matching type, e.g. "
                f"{'Image' if media_type.startswith('image/') else 'Audio' if media_type.startswith('audio/') else 'Document'}"
            )
        return cls(data=base64.b64encode(raw).decode(), media_type=media_type)

    @classmethod
    def from_bytes(cls, raw: bytes, media_type: str | None = None) -> Any:
        """From raw bytes; the media type is detected from them when not given."""
        from lmbench.multimodal.sources import detect_media_type

        if not isinstance(raw, (bytes, bytearray)):
            raise InputError(f"{cls.__name__}.from_bytes: expected bytes, got {type(raw).__name__}")
        return cls._checked(bytes(raw), media_type or detect_media_type(raw), "bytes")

    @classmethod
    def from_path(cls, path: str | Path) -> Any:
        from lmbench.multimodal.sources import detect_media_type

        file = Path(path).expanduser()
        if not file.is_file():
            raise InputError(f"{cls.__name__}.from_path: no file at {str(file)!r}")
        raw = file.read_bytes()
        return cls._checked(raw, detect_media_type(raw, file.name), str(file))

    @classmethod
    def from_url(cls, url: str, *, max_bytes: int | None = None, timeout: float = 30.0) -> Any:
        """Downloaded once (then read from the cache folder), at most ``max_bytes`` (20 MB)."""
        from lmbench.multimodal.sources import DEFAULT_MAX_BYTES, detect_media_type, download

        raw, content_type = download(url, max_bytes=max_bytes or DEFAULT_MAX_BYTES, timeout=timeout)
        return cls._checked(raw, detect_media_type(raw, url, content_type or None), url)

    @classmethod
    def from_data_url(cls, url: str) -> Any:
        from lmbench.multimodal.sources import detect_media_type, parse_data_url

        raw, declared = parse_data_url(url)
        return cls._checked(raw, detect_media_type(raw, given=declared), "a data URL")

    @classmethod
    def of(cls, source: Any) -> Any:
        """From whatever ``source`` is: this type, bytes, a path, a URL or a data URL."""
        if isinstance(source, cls):
            return source
        if isinstance(source, (bytes, bytearray)):
            return cls.from_bytes(bytes(source))
        if isinstance(source, Path):
            return cls.from_path(source)
        if isinstance(source, str):
            if source.startswith("data:"):
                return cls.from_data_url(source)
            if source.startswith(("http://", "https://")):
                return cls.from_url(source)
            return cls.from_path(source)
        raise InputError(
            f"{cls.__name__}.of: cannot read a {type(source).__name__}; give a path, URL, data URL "
            "or bytes"
        )

    # -- reading --------------------------------------------------------------------------------
    @property
    def raw(self) -> bytes | None:
        """The bytes (None for a URL-only part)."""
        return base64.b64decode(self.data) if self.data is not None else None

    @property
    def size_bytes(self) -> int | None:
        return len(self.data) * 3 // 4 if self.data is not None else None

    @property
    def data_url(self) -> str:
        """A ``data:`` URL of the bytes, or the URL itself."""
        if self.data is None:
            return self.url or ""
        return f"data:{self.media_type};base64,{self.data}"

    def to_part(self) -> dict[str, Any]:
        part: dict[str, Any] = {"type": self.kind}
        if self.url:
            part["url"] = self.url
        else:
            part["data"] = self.data
            part["media_type"] = self.media_type
        return part

    def __repr__(self) -> str:
        where = self.url if self.url else f"{self.media_type}, {self.size_bytes or 0} bytes"
        return f"{type(self).__name__}({where})"


@dataclass(frozen=True, repr=False)
class Image(Media):
    kind: ClassVar[str] = "image"
    accepts: ClassVar[tuple[str, ...]] = ("image/",)

    @classmethod
    def from_pil(cls, image: Any, format: str | None = None) -> Image:
        """From a PIL image (encoded as PNG unless ``format`` or the image's own says else)."""
        from lmbench.multimodal.images import pil_to_bytes

        raw, media_type = pil_to_bytes(image, format)
        return cls._checked(raw, media_type, "a PIL image")

    @classmethod
    def of(cls, source: Any) -> Image:
        if hasattr(source, "save") and hasattr(source, "size") and hasattr(source, "mode"):
            return cls.from_pil(source)
        return super().of(source)

    @property
    def size(self) -> tuple[int, int] | None:
        """(width, height), read from the bytes (None for a URL-only image)."""
        from lmbench.multimodal.images import image_size

        raw = self.raw
        return image_size(raw) if raw is not None else None

    def resize(self, max_side: int) -> Image:
        """A copy whose longer side is at most ``max_side`` pixels (fewer tokens to send)."""
        from lmbench.multimodal.images import resized

        raw = self.raw
        if raw is None:
            raise InputError("resize needs the image's bytes: build it with Image.from_url(url)")
        result = resized(raw, max_side)
        if result is None:
            return self
        data, media_type = result
        return replace(self, data=base64.b64encode(data).decode(), media_type=media_type)


@dataclass(frozen=True, repr=False)
class Audio(Media):
    """Audio input: wav, mp3, ogg, m4a (and flac where the provider takes it)."""

    kind: ClassVar[str] = "audio"
    accepts: ClassVar[tuple[str, ...]] = ("audio/",)


@dataclass(frozen=True, repr=False)
class Document(Media):
    """A document: a PDF (sent as a file; its text read with pypdf) or plain text.

    ``title`` names it to providers that show titles (Anthropic); ``citations=True`` asks
    Anthropic models to cite it (see ``Citations``).
    """

    title: str | None = None
    citations: bool = False
    kind: ClassVar[str] = "document"
    accepts: ClassVar[tuple[str, ...]] = ("application/pdf", "text/")

    @classmethod
    def from_text(cls, text: str, *, title: str | None = None, citations: bool = False) -> Document:
        if not isinstance(text, str):
            raise InputError(f"Document.from_text: expected str, got {type(text).__name__}")
        data = base64.b64encode(text.encode("utf-8")).decode()
        return cls(data=data, media_type="text/plain", title=title, citations=citations)

    @classmethod
    def from_pdf(
        cls, source: str | Path | bytes, *, title: str | None = None, citations: bool = False
    ) -> Document:
        document = cls.from_bytes(source) if isinstance(source, bytes) else cls.of(source)
        if document.media_type != "application/pdf":
            raise InputError(f"Document.from_pdf: the file is {document.media_type}, not a PDF")
        return replace(document, title=title or document.title, citations=citations)

    @property
    def pages(self) -> list[str]:
        """Each page's text (one page for a text document)."""
        raw = self.raw
        if raw is None:
            raise InputError(
                "the text of a URL-only document is not known: use Document.from_url(url)"
            )
        if self.media_type == "application/pdf":
            from lmbench.multimodal.documents import pdf_pages

            return pdf_pages(raw)
        return [raw.decode("utf-8", errors="replace")]

    @property
    def text(self) -> str:
        return "\n\n".join(self.pages)

    def chunks(self, size: int = 1000, overlap: int = 100) -> list[Chunk]:
        """The text in pieces of at most ``size`` characters for ``Retrieve`` (metadata: source
        title, page, start character)."""
        from lmbench.multimodal.documents import chunk_text

        out: list[Chunk] = []
        for page_number, page in enumerate(self.pages, 1):
            for start, text in chunk_text(page, size, overlap):
                meta = {"page": page_number, "start": start}
                if self.title:
                    meta["source"] = self.title
                out.append(
                    Chunk(text, id=f"{self.title or 'doc'}:{page_number}:{start}", metadata=meta)
                )
        return out

    def to_part(self) -> dict[str, Any]:
        part = super().to_part()
        if self.title:
            part["title"] = self.title
        if self.citations:
            part["citations"] = True
        return part
