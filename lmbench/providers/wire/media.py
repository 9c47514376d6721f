"""Media content parts shared by the chat wire formats: text documents, audio formats,
and URLs a provider cannot fetch."""

from __future__ import annotations

import base64

from lmbench.errors import InputError
from lmbench.lm.types import ContentPart, LMRequest

__all__ = ["audio_format", "check_media", "document_text", "require_inline"]

#: The names audio APIs use for a media type (OpenAI's ``input_audio.format``).
_AUDIO_FORMATS = {
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
}


def document_text(part: ContentPart) -> str | None:
    """The text of a plain-text document part, headed by its title; None for other parts."""
    if part.get("type") != "document" or not str(part.get("media_type", "")).startswith("text/"):
        return None
    data = part.get("data")
    if data is None:
        return None
    text = base64.b64decode(data).decode("utf-8", errors="replace")
    title = part.get("title")
    return f"{title}\n\n{text}" if title else text


def audio_format(media_type: str, api: str, accepted: tuple[str, ...] = ("wav", "mp3")) -> str:
    """The API's name for an audio media type, or the error naming what it accepts."""
    name = _AUDIO_FORMATS.get(media_type)
    if name not in accepted:
        raise InputError(
            f"the {api} API takes {' and '.join(accepted)} audio, not {media_type!r}; convert the "
            "recording (e.g. with ffmpeg) or use a provider that accepts it (Gemini takes ogg and m4a)"
        )
    return name


def require_inline(part: ContentPart, api: str) -> None:
    """Raise when a media part is only a URL and ``api`` needs the bytes."""
    if part.get("url") and not str(part["url"]).startswith("data:"):
        kind = str(part.get("type", "media"))
        raise InputError(
            f"the {api} API does not fetch {kind} URLs ({part['url'][:80]}): download it with "
            f"{kind.capitalize()}.from_url(url), which sends the bytes instead"
        )


def check_media(request: LMRequest, accepted: frozenset[str] | None, name: str) -> None:
    """Raise, naming the kind and the model, when ``request`` carries media the model cannot
    take (``Capabilities.media``; None accepts whatever the API takes)."""
    if accepted is None:
        return
    for message in request.messages:
        if isinstance(message.content, str):
            continue
        for part in message.content:
            kind = part.get("type")
            if kind != "text" and kind not in accepted and document_text(part) is None:
                takes = ", ".join(sorted(accepted)) or "text only"
                raise InputError(
                    f"{name} cannot take {kind} inputs (it takes {takes}); use a multimodal "
                    "model, or pass capabilities= to the factory if this model does take them"
                )
