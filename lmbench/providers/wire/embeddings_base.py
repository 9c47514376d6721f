"""What every embedding wire format provides, next to the chat ones.

An embedding wire format turns an ``EmbeddingRequest`` into the path and JSON body of one
API's embedding endpoint (``build``) and that API's answer into an ``EmbeddingResponse``
(``parse``, given the request it answers). Like the chat formats it knows nothing of
base URLs, keys or retries; ``RemoteEmbeddingModel`` sends through the same transport.
"""

from __future__ import annotations

import base64
from typing import Any, Protocol

from lmbench.lm.embedding import EmbeddingRequest, EmbeddingResponse
from lmbench.providers.wire.base import WireError, WireRequest
from lmbench.secrets import redact_text

__all__ = ["EmbeddingWire", "check_count", "estimated_tokens", "vector_from"]


class EmbeddingWire(Protocol):
    """One API's embedding request and response shapes; ``max_batch`` is its texts limit."""

    name: str
    max_batch: int

    def build(self, request: EmbeddingRequest, model: str) -> WireRequest: ...

    def parse(self, data: Any, request: EmbeddingRequest) -> EmbeddingResponse: ...


def vector_from(value: Any) -> Any:
    """One embedding as sent: a list of numbers, or base64 of little-endian float32."""
    if isinstance(value, str):
        import numpy as np

        try:
            return np.frombuffer(base64.b64decode(value), dtype="<f4")
        except (ValueError, TypeError):
            raise WireError(
                "an embedding is neither numbers nor base64 float32: "
                f"{redact_text(value)[:40]!r}"  # redacted before it is cut short
            ) from None
    if not isinstance(value, list):
        raise WireError(f"an embedding should be a list of numbers, got {type(value).__name__}")
    return value


def check_count(vectors: list[Any], request: EmbeddingRequest, api: str) -> list[Any]:
    """``vectors`` when there is one per text asked for; else the ``WireError`` saying so."""
    count = len(request.texts)
    if len(vectors) != count:
        raise WireError(f"the {api} API returned {len(vectors)} embeddings for {count} texts")
    return vectors


def estimated_tokens(request: EmbeddingRequest) -> int:
    """About four characters a token: for APIs that do not report the tokens they bill."""
    return sum(max(1, len(text) // 4) for text in request.texts)
