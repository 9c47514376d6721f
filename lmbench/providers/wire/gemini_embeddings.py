"""Gemini ``batchEmbedContents`` (``POST /models/<model>:batchEmbedContents``).

Each text is one ``EmbedContentRequest``; ``input_type`` maps to ``taskType``
(``RETRIEVAL_QUERY`` / ``RETRIEVAL_DOCUMENT``) and ``dimensions`` to
``outputDimensionality``. The API reports no token counts, so usage is estimated (about four
characters a token) and marked ``metadata["usage_estimated"]``.
"""

from __future__ import annotations

from typing import Any

from lmbench.lm.embedding import EmbeddingRequest, EmbeddingResponse
from lmbench.lm.types import Usage
from lmbench.providers.wire.base import WireRequest, error_from, expect_object, merge_extra
from lmbench.providers.wire.embeddings_base import check_count, estimated_tokens, vector_from

__all__ = ["GeminiEmbeddings"]

_TASK_TYPES = {"query": "RETRIEVAL_QUERY", "document": "RETRIEVAL_DOCUMENT"}


class GeminiEmbeddings:
    """The ``batchEmbedContents`` wire format (Gemini API)."""

    name = "gemini-embeddings"
    max_batch = 100

    def build(self, request: EmbeddingRequest, model: str) -> WireRequest:
        name = model.removeprefix("models/")
        options: dict[str, Any] = {}
        if request.input_type is not None:
            options["taskType"] = _TASK_TYPES[request.input_type]
        if request.dimensions is not None:
            options["outputDimensionality"] = request.dimensions
        body = {
            "requests": [
                {"model": f"models/{name}", "content": {"parts": [{"text": text}]}, **options}
                for text in request.texts
            ]
        }
        return WireRequest(f"/models/{name}:batchEmbedContents", merge_extra(body, request.extra))

    def parse(self, data: Any, request: EmbeddingRequest) -> EmbeddingResponse:
        data = expect_object(data)
        if "error" in data:
            raise error_from(data["error"])
        embeddings = data.get("embeddings") or []
        vectors = check_count([vector_from(e.get("values")) for e in embeddings], request, "Gemini")
        return EmbeddingResponse(
            vectors=vectors,
            usage=Usage(input_tokens=estimated_tokens(request)),
            metadata={"usage_estimated": True},
        )
