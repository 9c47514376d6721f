"""Image sizes and resizing through Pillow (the ``media`` extra), imported when used."""

from __future__ import annotations

import io
from typing import Any

from lmbench.errors import ConfigError

__all__ = ["image_size", "pil_to_bytes", "resized"]


def _pil() -> Any:
    try:
        from PIL import Image
    except ImportError:
        raise ConfigError(
            "images need Pillow for sizes and resizing: pip install 'lmbench[media]'"
        ) from None
    return Image


def image_size(raw: bytes) -> tuple[int, int]:
    """(width, height) of an encoded image."""
    with _pil().open(io.BytesIO(raw)) as image:
        return image.size


def pil_to_bytes(image: Any, format: str | None = None) -> tuple[bytes, str]:
    """An in-memory PIL image encoded (PNG unless it came from a JPEG/WebP/GIF)."""
    chosen = (format or image.format or "PNG").upper()
    if chosen == "JPG":
        chosen = "JPEG"
    buffer = io.BytesIO()
    picture = image.convert("RGB") if chosen == "JPEG" and image.mode not in ("RGB", "L") else image
    picture.save(buffer, format=chosen)
    return buffer.getvalue(), f"image/{chosen.lower()}"


def resized(raw: bytes, max_side: int) -> tuple[bytes, str] | None:
    """``raw`` scaled down so that its longer side is ``max_side`` (None when it already fits)."""
    pil = _pil()
    with pil.open(io.BytesIO(raw)) as image:
        if max(image.size) <= max_side:
            return None
        source_format = image.format
        copy = image.copy()
    copy.thumbnail((max_side, max_side), pil.Resampling.LANCZOS)
    return pil_to_bytes(copy, source_format)
