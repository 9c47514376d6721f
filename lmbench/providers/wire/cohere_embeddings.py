"""Cohere v2 embed (``POST /v2/embed``).

``input_type`` is required by Cohere's v3+ models: queries are ``search_query``, documents
(and texts of unknown use) ``search_document``. ``dimensions`` maps to ``output_dimension``
(embed-v4). Float vectors are asked for; billed tokens come from ``meta.billed_units``.
"""

from __future__ import annotations

from typing import Any

from lmbench.lm.embedding import EmbeddingRequest, EmbeddingResponse
from lmbench.lm.types import Usage
from lmbench.providers.wire.base import (
    WireError,
    WireRequest,
    expect_object,
    mapping,
    merge_extra,
    token_count,
)
from lmbench.providers.wire.embeddings_base import check_count, vector_from

__all__ = ["CohereEmbeddings"]

_INPUT_TYPES = {"query": "search_query", "document": "search_document", None: "search_document"}


class CohereEmbeddings:
    """The v2 ``/embed`` wire format."""

    name = "cohere-embeddings"
    max_batch = 96

    def build(self, request: EmbeddingRequest, model: str) -> WireRequest:
        body: dict[str, Any] = {
            "model": model,
            "texts": list(request.texts),
            "input_type": _INPUT_TYPES[request.input_type],
            "embedding_types": ["float"],
        }
        if request.dimensions is not None:
            body["output_dimension"] = request.dimensions
        return WireRequest("/v2/embed", merge_extra(body, request.extra))

    def parse(self, data: Any, request: EmbeddingRequest) -> EmbeddingResponse:
        data = expect_object(data)
        if data.get("message") and "embeddings" not in data:
            raise WireError(str(data["message"]))
        embeddings = data.get("embeddings") or {}
        floats = embeddings.get("float") if isinstance(embeddings, dict) else embeddings
        vectors = check_count([vector_from(v) for v in floats or []], request, "Cohere embed")
        billed = mapping(mapping(data.get("meta")).get("billed_units"))
        metadata: dict[str, Any] = {"usage": billed} if billed else {}
        if data.get("id"):
            metadata["response_id"] = data["id"]
        return EmbeddingResponse(
            vectors=vectors,
            usage=Usage(input_tokens=token_count(billed.get("input_tokens"))),
            metadata=metadata,
        )
