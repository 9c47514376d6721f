"""Media types built from every kind of source, format detection, resizing, documents."""

from __future__ import annotations

import base64
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "multimodal"))
from media_files import pdf, png, wav

from lmbench.errors import InputError
from lmbench.media import Audio, Document, Image

pytest.importorskip("PIL")


def test_image_from_each_source(tmp_path: Path) -> None:
    raw = png()
    (tmp_path / "no_extension").write_bytes(raw)
    from_path = Image.from_path(tmp_path / "no_extension")
    assert from_path.media_type == "image/png"  # detected from the bytes
    assert Image.from_bytes(raw) == from_path
    assert Image.of(from_path.data_url) == from_path
    assert Image.of(str(tmp_path / "no_extension")) == from_path
    from PIL import Image as PILImage

    pil = PILImage.new("RGB", (10, 20), "blue")
    from_pil = Image.of(pil)
    assert from_pil.media_type == "image/png" and from_pil.size == (10, 20)
    assert Image.from_pil(pil, format="jpg").media_type == "image/jpeg"
    assert from_path.raw == raw


def test_resize_keeps_aspect_and_format() -> None:
    image = Image.from_bytes(png(800, 400))
    small = image.resize(200)
    assert small.size == (200, 100) and small.media_type == "image/png"
    assert image.resize(1000) is image
    with pytest.raises(InputError, match="from_url"):
        Image(url="https://example.org/x.png").resize(10)


def test_wrong_kind_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"'audio/wav' is not a image type.*Audio"):
        Image.from_bytes(wav())
    with pytest.raises(InputError, match="no file at"):
        Image.from_path(tmp_path / "missing.png")
    with pytest.raises(InputError, match="cannot read a int"):
        Image.of(3)
    with pytest.raises(InputError, match="damaged"):
        Image.from_data_url("data:image/png;base64,***")


def test_audio_formats_detected() -> None:
    assert Audio.from_bytes(wav()).media_type == "audio/wav"
    assert Audio.from_bytes(b"ID3\x04" + b"\x00" * 20).media_type == "audio/mpeg"
    assert Audio.from_bytes(b"OggS" + b"\x00" * 20).media_type == "audio/ogg"
    assert Audio.from_bytes(b"\x00\x00\x00\x20ftypM4A " + b"\x00" * 20).media_type == "audio/mp4"


def test_document_from_pdf_and_text() -> None:
    pytest.importorskip("pypdf")
    document = Document.from_pdf(pdf("Hello from page one"), title="greeting")
    assert document.media_type == "application/pdf"
    assert "Hello from page one" in document.text
    assert document.chunks()[0].metadata == {"page": 1, "start": 0, "source": "greeting"}
    with pytest.raises(InputError, match=r"not a document type.*Image"):
        Document.from_pdf(png())
    with pytest.raises(InputError, match="could not be read"):
        Document.from_bytes(b"%PDF-1.4 broken").text  # noqa: B018
    text = Document.from_text("para one.\n\n" + "word " * 500, title="notes", citations=True)
    part = text.to_part()
    assert part["title"] == "notes" and part["citations"] is True
    assert base64.b64decode(part["data"]).decode().startswith("para one.")
    chunks = text.chunks(size=300, overlap=40)
    assert all(len(c.text) <= 300 for c in chunks) and len(chunks) > 5
    assert chunks[0].text.startswith("para one.")


def test_renders_thumbnails_and_players() -> None:
    image_html = Image.from_bytes(png())._repr_html_()
    assert "<img" in image_html and "data:image/png;base64," in image_html
    assert "style=" in image_html
    audio_html = Audio.from_bytes(wav())._repr_html_()
    assert "<audio" in audio_html and "controls" in audio_html
    doc_html = Document.from_text("<script>x</script>", title="t")._repr_html_()
    assert "&lt;script&gt;" in doc_html and "<script>" not in doc_html
