"""Downloading media once from a real loopback server: cache, size cap, errors."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from media_files import png

from lmbench.errors import InputError
from lmbench.media import Image
from lmbench.multimodal.sources import detect_media_type, download, parse_data_url


def test_url_downloaded_once_then_cached(file_server) -> None:
    raw = png()
    file_server.files["/cat"] = (raw, "application/octet-stream")
    url = file_server.url("/cat")
    first = Image.from_url(url)
    second = Image.from_url(url)
    assert first == second and first.media_type == "image/png" and first.raw == raw
    assert file_server.hits["/cat"] == 1


def test_size_cap_and_http_errors(file_server) -> None:
    file_server.files["/big"] = (b"x" * 5000, "image/png")
    with pytest.raises(InputError, match="over the 1,000-byte limit"):
        Image.from_url(file_server.url("/big"), max_bytes=1000)
    with pytest.raises(InputError, match="HTTP 404"):
        download(file_server.url("/missing"))
    with pytest.raises(InputError, match=r"downloading http://127.0.0.1:9/"):
        download("http://127.0.0.1:9/nothing", timeout=2)


def test_detection_and_data_urls() -> None:
    assert detect_media_type(b"GIF89a...") == "image/gif"
    assert detect_media_type(b"plain", "notes.txt") == "text/plain"
    assert detect_media_type(b"plain", given="text/markdown") == "text/markdown"
    assert parse_data_url("data:text/plain,hello%20there") == (b"hello there", "text/plain")
    with pytest.raises(InputError, match="not a data URL"):
        parse_data_url("hello")
