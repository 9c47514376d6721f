"""OpenAI embeddings (``POST /embeddings``), also spoken by Mistral, Together, vLLM, LM Studio,
llama.cpp servers and Ollama's ``/v1``.

``dimensions`` goes under the dialect's field name (OpenAI ``dimensions``, Mistral
``output_dimension``). Vectors arrive as numbers, or as base64 float32 when the request asks
for ``encoding_format: base64`` (smaller bodies; OpenAI only).
"""

from __future__ import annotations

from typing import Any

from lmbench.lm.embedding import EmbeddingRequest, EmbeddingResponse
from lmbench.lm.types import Usage
from lmbench.providers.wire.base import (
    WireRequest,
    error_from,
    expect_object,
    mapping,
    merge_extra,
    token_count,
)
from lmbench.providers.wire.embeddings_base import check_count, vector_from

__all__ = ["OpenAIEmbeddings"]


class OpenAIEmbeddings:
    """The ``/embeddings`` wire format, tuned by the dialect's knobs."""

    name = "openai-embeddings"

    def __init__(
        self,
        *,
        dimensions_field: str = "dimensions",
        encoding_format: str | None = None,
        max_batch: int = 2048,
    ) -> None:
        self.dimensions_field = dimensions_field
        self.encoding_format = encoding_format
        self.max_batch = max_batch

    def build(self, request: EmbeddingRequest, model: str) -> WireRequest:
        body: dict[str, Any] = {"model": model, "input": list(request.texts)}
        if self.encoding_format:
            body["encoding_format"] = self.encoding_format
        if request.dimensions is not None:
            body[self.dimensions_field] = request.dimensions
        ignored = ("input_type",) if request.input_type is not None else ()
        return WireRequest("/embeddings", merge_extra(body, request.extra), ignored)

    def parse(self, data: Any, request: EmbeddingRequest) -> EmbeddingResponse:
        data = expect_object(data)
        if data.get("error"):
            raise error_from(data["error"])
        items = sorted(data.get("data") or [], key=lambda item: item.get("index", 0))
        vectors = check_count(
            [vector_from(item.get("embedding")) for item in items], request, "embeddings"
        )
        usage = data.get("usage")
        counts = mapping(usage)
        return EmbeddingResponse(
            vectors=vectors,
            model=data.get("model") or "",
            usage=Usage(
                input_tokens=token_count(counts.get("prompt_tokens") or counts.get("total_tokens"))
            ),
            metadata={"usage": usage} if usage else {},
        )
