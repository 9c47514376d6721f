"""Bytes and media type of a media source: a path, raw bytes, a ``data:`` URL, or an HTTP(S)
URL downloaded once into ``<cache folder>/media`` and read from there afterwards.

The media type comes from the bytes' signature (magic numbers) when they have one, else from
the file name, else from what the caller or server said. Downloads are capped (default 20 MB):
a larger answer is refused with one error, and nothing is cached.
"""

from __future__ import annotations

import base64
import hashlib
import json
import mimetypes
import os
from pathlib import Path

from lmbench.env import user_cache_dir
from lmbench.errors import InputError

__all__ = ["DEFAULT_MAX_BYTES", "detect_media_type", "download", "parse_data_url"]

DEFAULT_MAX_BYTES = 20 * 1024 * 1024

_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"%PDF-", 0, "application/pdf"),
    (b"OggS", 0, "audio/ogg"),
    (b"ID3", 0, "audio/mpeg"),
    (b"fLaC", 0, "audio/flac"),
)


def detect_media_type(raw: bytes, name: str | None = None, given: str | None = None) -> str:
    """The media type of ``raw``: by its signature, else by ``name``'s extension, else ``given``."""
    for magic, offset, media_type in _SIGNATURES:
        if raw[offset : offset + len(magic)] == magic:
            return media_type
    if raw[:4] == b"RIFF" and raw[8:12] == b"WAVE":
        return "audio/wav"
    if raw[:4] == b"RIFF" and raw[8:12] == b"WEBP":
        return "image/webp"
    if raw[4:8] == b"ftyp":
        return "audio/mp4" if raw[8:11] in (b"M4A", b"mp4", b"iso", b"M4B") else "video/mp4"
    if len(raw) > 1 and raw[0] == 0xFF and raw[1] & 0xE0 == 0xE0:
        return "audio/mpeg"  # an MPEG audio frame without an ID3 tag
    if name:
        guessed = mimetypes.guess_type(name.split("?", 1)[0])[0]
        if guessed:
            return guessed
    return given or "application/octet-stream"


def parse_data_url(url: str) -> tuple[bytes, str]:
    """The bytes and media type of a ``data:<type>;base64,<data>`` URL."""
    if not url.startswith("data:") or "," not in url:
        raise InputError(f"not a data URL: {url[:40]!r}; expected data:<type>;base64,<data>")
    header, payload = url[5:].split(",", 1)
    media_type = header.split(";", 1)[0] or "text/plain"
    if ";base64" in header:
        try:
            return base64.b64decode(payload, validate=True), media_type
        except ValueError:
            raise InputError(
                f"the data URL's base64 payload is damaged: {payload[:40]!r}"
            ) from None
    from urllib.parse import unquote_to_bytes

    return unquote_to_bytes(payload), media_type


def _cache_paths(url: str) -> tuple[Path, Path]:
    digest = hashlib.sha256(url.encode()).hexdigest()
    folder = user_cache_dir() / "media"
    return folder / digest, folder / f"{digest}.json"


def download(
    url: str, *, max_bytes: int = DEFAULT_MAX_BYTES, timeout: float = 30.0
) -> tuple[bytes, str]:
    """The bytes at ``url`` and the server's content type, from the cache after the first time."""
    data_path, meta_path = _cache_paths(url)
    if data_path.exists() and meta_path.exists():
        try:
            meta = json.loads(meta_path.read_text())
            raw = data_path.read_bytes()
            if len(raw) == meta.get("size"):
                return raw, meta.get("content_type") or ""
        except (OSError, ValueError):
            pass  # a damaged entry is fetched again
    import httpx

    chunks: list[bytes] = []
    size = 0
    try:
        with httpx.stream("GET", url, timeout=timeout, follow_redirects=True) as response:
            if response.status_code >= 400:
                raise InputError(f"downloading {url} failed: HTTP {response.status_code}")
            declared = int(response.headers.get("content-length") or 0)
            if declared > max_bytes:
                raise InputError(
                    f"{url} is {declared:,} bytes, over the {max_bytes:,}-byte limit; pass "
                    "max_bytes= to allow it, or resize it first"
                )
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise InputError(
                        f"{url} is over the {max_bytes:,}-byte limit; pass max_bytes= to allow it"
                    )
                chunks.append(chunk)
            content_type = response.headers.get("content-type", "").split(";", 1)[0].strip()
    except httpx.HTTPError as exc:
        raise InputError(f"downloading {url} failed: {type(exc).__name__}: {exc}") from None
    raw = b"".join(chunks)
    data_path.parent.mkdir(parents=True, exist_ok=True)
    partial = data_path.with_name(f"{data_path.name}.{os.getpid()}.tmp")
    partial.write_bytes(raw)
    partial.replace(data_path)
    meta_path.write_text(json.dumps({"url": url, "size": len(raw), "content_type": content_type}))
    return raw, content_type
