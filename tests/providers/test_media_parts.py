"""Media inputs reach each provider in its own wire format, over a real loopback exchange;
kinds a provider cannot take fail with one clear error before anything is sent."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from provider_faults import (
    FaultServer,
    anthropic_cited_body,
    chat_body,
    cited_text_block,
    respond,
)

sys.path.insert(0, str(Path(__file__).parent.parent / "multimodal"))
from media_files import png, wav

from lmbench.errors import InputError
from lmbench.lm.registry import resolve_lm
from lmbench.lm.types import LMRequest, Message
from lmbench.media import Audio, Citations, Document, Image

pytest.importorskip("PIL")

ANTHROPIC_BODY = anthropic_cited_body(
    {"type": "text", "text": "Per the notes, "}, cited_text_block("the sky is green")
)
GEMINI_BODY = {
    "candidates": [{"content": {"parts": [{"text": "ok"}]}, "finishReason": "STOP"}],
    "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 1},
}
OLLAMA_BODY = {"model": "llava", "message": {"role": "assistant", "content": "ok"}, "done": True}


def _ask(server: FaultServer, name: str, body: dict[str, Any], *parts: Any) -> dict[str, Any]:
    server.script(respond(200, body))
    lm = resolve_lm(name, base_url=server.url, api_key="key-1234567890", max_retries=0)
    content = [{"type": "text", "text": "Describe."}, *(p.to_part() for p in parts)]
    response = lm.generate(LMRequest((Message("user", content),)))
    assert response.text
    sent = server.received[-1].body
    server.last_response = response  # type: ignore[attr-defined]
    return sent


def test_openai_image_audio_pdf_and_text_document(server: FaultServer) -> None:
    image, audio = Image.from_bytes(png()), Audio.from_bytes(wav())
    text = Document.from_text("Chapter one.", title="book")
    pdf = Document(data="JVBERi0=", media_type="application/pdf", title="paper.pdf")
    sent = _ask(server, "openai/gpt-4o-mini", chat_body("ok"), image, audio, text, pdf)
    parts = sent["messages"][0]["content"]
    assert parts[1] == {"type": "image_url", "image_url": {"url": image.data_url}}
    assert parts[2]["input_audio"]["format"] == "wav"
    assert parts[3] == {"type": "text", "text": "book\n\nChapter one."}
    assert parts[4]["file"]["filename"] == "paper.pdf"


def test_anthropic_documents_with_citations(server: FaultServer) -> None:
    notes = Document.from_text("The sky is green.", title="notes", citations=True)
    image = Image.from_bytes(png())
    sent = _ask(server, "anthropic/claude-haiku-4-5", ANTHROPIC_BODY, notes, image)
    blocks = sent["messages"][0]["content"]
    assert blocks[1] == {
        "type": "document",
        "source": {"type": "text", "media_type": "text/plain", "data": "The sky is green."},
        "title": "notes",
        "citations": {"enabled": True},
    }
    assert blocks[2]["source"]["media_type"] == "image/png"
    citations = Citations.from_response(server.last_response)  # type: ignore[attr-defined]
    assert len(citations) == 1
    assert citations[0].cited_text == "The sky is green."
    assert (citations[0].start, citations[0].end, citations[0].supports) == (
        0,
        17,
        "the sky is green",
    )
    assert "cited text" in citations._repr_html_()


def test_gemini_inline_media_and_unfetchable_urls(server: FaultServer) -> None:
    sent = _ask(server, "gemini/gemini-2.5-flash", GEMINI_BODY, Audio.from_bytes(wav()))
    assert sent["contents"][0]["parts"][1]["inlineData"]["mimeType"] == "audio/wav"
    lm = resolve_lm("gemini/gemini-2.5-flash", base_url=server.url, api_key="key-1234567890")
    message = Message("user", [Image(url="https://example.org/cat.png").to_part()])
    with pytest.raises(InputError, match=r"Gemini API does not fetch image URLs.*Image.from_url"):
        lm.generate(LMRequest((message,)))
    assert server.count == 1  # nothing was sent for the refused request


def test_ollama_images_and_text_documents_only(server: FaultServer) -> None:
    image = Image.from_bytes(png())
    sent = _ask(server, "ollama/llava", OLLAMA_BODY, image, Document.from_text("Notes."))
    message = sent["messages"][0]
    assert message["images"] == [image.data]
    assert message["content"] == "Describe.\n\nNotes."
    lm = resolve_lm("ollama/llava", base_url=server.url)
    with pytest.raises(InputError, match="'audio' is not supported by the Ollama chat API"):
        lm.generate(LMRequest((Message("user", [Audio.from_bytes(wav()).to_part()]),)))


def test_openai_refuses_audio_it_cannot_decode(server: FaultServer) -> None:
    lm = resolve_lm("openai/gpt-4o-audio-preview", base_url=server.url, api_key="key-1234567890")
    ogg = Audio.from_bytes(b"OggS" + b"\x00" * 30)
    with pytest.raises(InputError, match=r"takes wav and mp3 audio, not 'audio/ogg'"):
        lm.generate(LMRequest((Message("user", [ogg.to_part()]),)))
    with pytest.raises(InputError, match="'audio' is not supported by the Anthropic"):
        resolve_lm(
            "anthropic/claude-haiku-4-5", base_url=server.url, api_key="k-123456789"
        ).generate(LMRequest((Message("user", [ogg.to_part()]),)))


def test_anthropic_streamed_citations(server: FaultServer) -> None:
    import json

    from provider_faults import sse

    def event(name: str, data: dict[str, Any]) -> str:
        return f"event: {name}\ndata: {json.dumps(data)}\n\n"

    citation = {
        "type": "char_location",
        "cited_text": "Water boils at 100 C.",
        "document_index": 0,
        "document_title": "facts",
        "start_char_index": 0,
        "end_char_index": 21,
    }
    server.script(
        sse(
            [
                event(
                    "message_start",
                    {
                        "type": "message_start",
                        "message": {"id": "m", "model": "c", "usage": {"input_tokens": 5}},
                    },
                ),
                event(
                    "content_block_start",
                    {
                        "type": "content_block_start",
                        "index": 0,
                        "content_block": {"type": "text", "text": "", "citations": []},
                    },
                ),
                event(
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": 0,
                        "delta": {"type": "citations_delta", "citation": citation},
                    },
                ),
                event(
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": 0,
                        "delta": {"type": "text_delta", "text": "At 100 C."},
                    },
                ),
                event(
                    "message_delta",
                    {
                        "type": "message_delta",
                        "delta": {"stop_reason": "end_turn"},
                        "usage": {"output_tokens": 4},
                    },
                ),
                event("message_stop", {"type": "message_stop"}),
            ]
        )
    )
    lm = resolve_lm("anthropic/claude-haiku-4-5", base_url=server.url, api_key="key-1234567890")
    doc = Document.from_text("Water boils at 100 C.", title="facts", citations=True)
    chunks = list(lm.stream(LMRequest((Message("user", [doc.to_part()]),))))
    citations = Citations.from_response(chunks[-1].response)
    assert [c.cited_text for c in citations] == ["Water boils at 100 C."]
    assert citations[0].document_title == "facts"


def test_text_only_models_refuse_media_before_sending(server: FaultServer) -> None:
    from lmbench.lm.types import Capabilities

    image = Image.from_bytes(png())
    request = LMRequest((Message("user", [{"type": "text", "text": "hi"}, image.to_part()]),))
    for name in ("deepseek/deepseek-chat", "openai/gpt-3.5-turbo"):
        lm = resolve_lm(name, base_url=server.url, api_key="key-1234567890")
        with pytest.raises(
            InputError, match=rf"{name} cannot take image inputs \(it takes text only\)"
        ):
            lm.generate(request)
    assert server.count == 0
    notes = Document.from_text("Plain notes.")  # text documents are text to every model
    server.script(respond(200, chat_body("ok")))
    resolve_lm("deepseek/deepseek-chat", base_url=server.url, api_key="key-1234567890").generate(
        LMRequest((Message("user", [notes.to_part()]),))
    )
    assert server.received[0].body["messages"][0]["content"][0]["text"] == "Plain notes."
    server.script(respond(200, chat_body("ok")))
    trusted = resolve_lm(
        "openai/gpt-3.5-turbo",
        base_url=server.url,
        api_key="key-1234567890",
        capabilities=Capabilities(media=None),
    )
    assert trusted.generate(request).text == "ok"
