"""Ollama's native embed API (``POST /api/embed``).

Texts go in ``input``; ``dimensions`` is sent as is (models that can shorten their vectors
honour it); ``prompt_eval_count`` is the tokens read, and Ollama's timings (nanoseconds) go
to ``metadata["timings"]``.
"""

from __future__ import annotations

from typing import Any

from lmbench.lm.embedding import EmbeddingRequest, EmbeddingResponse
from lmbench.lm.types import Usage
from lmbench.providers.wire.base import (
    WireError,
    WireRequest,
    expect_object,
    merge_extra,
    token_count,
)
from lmbench.providers.wire.embeddings_base import check_count, vector_from

__all__ = ["OllamaEmbeddings"]

_TIMINGS = ("total_duration", "load_duration")


class OllamaEmbeddings:
    """The native ``/api/embed`` wire format."""

    name = "ollama-embeddings"
    max_batch = 512

    def build(self, request: EmbeddingRequest, model: str) -> WireRequest:
        body: dict[str, Any] = {"model": model, "input": list(request.texts)}
        if request.dimensions is not None:
            body["dimensions"] = request.dimensions
        ignored = ("input_type",) if request.input_type is not None else ()
        return WireRequest("/api/embed", merge_extra(body, request.extra), ignored)

    def parse(self, data: Any, request: EmbeddingRequest) -> EmbeddingResponse:
        data = expect_object(data)
        if data.get("error"):
            raise WireError(str(data["error"]))
        vectors = check_count(
            [vector_from(v) for v in data.get("embeddings") or []], request, "Ollama embed"
        )
        timings = {k: data[k] for k in _TIMINGS if k in data}
        return EmbeddingResponse(
            vectors=vectors,
            model=data.get("model") or "",
            usage=Usage(input_tokens=token_count(data.get("prompt_eval_count"))),
            metadata={"timings": timings} if timings else {},
        )
