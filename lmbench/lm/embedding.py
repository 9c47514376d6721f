"""Embedding calls as plain data, and the protocol every embedding model implements.

An ``EmbeddingRequest`` is a batch of texts plus options; an ``EmbeddingResponse`` holds one
vector per text (a float32 numpy array, shape ``(n, d)``), the tokens billed and metadata.
Embedding models (local ONNX, remote APIs) turn one into the other and know nothing of
caching, batching policy, history or budgets: ``lmbench.retrieval.Embedder`` and the call
layer add those.

numpy is imported only when vectors are touched, so importing this module stays cheap.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from lmbench.lm.types import Attempt, Usage

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "BaseEmbeddingModel",
    "EmbeddingModel",
    "EmbeddingRequest",
    "EmbeddingResponse",
    "InputType",
    "as_matrix",
]

#: What the texts are for: some models embed queries and documents differently.
InputType = Literal["query", "document"]


@dataclass(frozen=True)
class EmbeddingRequest:
    """One batch of texts to embed.

    ``dimensions`` asks models that can shorten their vectors for that many (OpenAI
    ``text-embedding-3-*``, Gemini, Cohere v4, Ollama); ``input_type`` tells retrieval models
    whether the texts are queries or documents; ``extra`` carries provider body fields verbatim.
    """

    texts: tuple[str, ...]
    dimensions: int | None = None
    input_type: InputType | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def replace(self, **changes: Any) -> EmbeddingRequest:
        return replace(self, **changes)

    def params(self) -> dict[str, Any]:
        """The options besides the texts (for history and cache keys)."""
        return {
            "dimensions": self.dimensions,
            "input_type": self.input_type,
            "extra": dict(self.extra),
        }

    def to_dict(self) -> dict[str, Any]:
        return {"texts": list(self.texts), **self.params()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EmbeddingRequest:
        return cls(
            texts=tuple(data["texts"]),
            dimensions=data.get("dimensions"),
            input_type=data.get("input_type"),
            extra=dict(data.get("extra") or {}),
        )


def as_matrix(vectors: Any) -> np.ndarray:
    """``vectors`` (nested lists or an array) as a C-contiguous float32 ``(n, d)`` array."""
    import numpy as np

    matrix = np.ascontiguousarray(vectors, dtype=np.float32)
    if matrix.ndim == 1 and matrix.size == 0:
        return matrix.reshape(0, 0)
    if matrix.ndim != 2:
        raise ValueError(f"expected one vector per text (a 2-d array), got shape {matrix.shape}")
    return matrix


@dataclass
class EmbeddingResponse:
    """What an embedding model returned: ``vectors[i]`` embeds ``request.texts[i]``."""

    vectors: np.ndarray
    model: str = ""
    provider: str = ""
    usage: Usage = field(default_factory=Usage)
    latency_s: float = 0.0
    request_id: str | None = None
    attempts: list[Attempt] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    raw: Any = None

    def __post_init__(self) -> None:
        self.vectors = as_matrix(self.vectors)

    @property
    def dimensions(self) -> int:
        return int(self.vectors.shape[1]) if self.vectors.ndim == 2 else 0

    def __len__(self) -> int:
        return int(self.vectors.shape[0])

    def to_dict(self, *, include_raw: bool = False) -> dict[str, Any]:
        """JSON-able data; the vectors are exact, as base64 of little-endian float32."""
        out: dict[str, Any] = {
            "vectors": {
                "dtype": "<f4",
                "shape": list(self.vectors.shape),
                "base64": base64.b64encode(self.vectors.astype("<f4").tobytes()).decode(),
            },
            "model": self.model,
            "provider": self.provider,
            "usage": self.usage.to_dict(),
            "latency_s": self.latency_s,
            "request_id": self.request_id,
            "attempts": [a.to_dict() for a in self.attempts],
            "metadata": dict(self.metadata),
        }
        if include_raw:
            out["raw"] = self.raw
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EmbeddingResponse:
        import numpy as np

        packed = data["vectors"]
        if isinstance(packed, dict):
            flat = np.frombuffer(base64.b64decode(packed["base64"]), dtype=packed["dtype"])
            vectors = flat.reshape(packed["shape"]).astype(np.float32)
        else:
            vectors = as_matrix(packed)
        return cls(
            vectors=vectors,
            model=data.get("model", ""),
            provider=data.get("provider", ""),
            usage=Usage(**data.get("usage", {})),
            latency_s=data.get("latency_s", 0.0),
            request_id=data.get("request_id"),
            attempts=[Attempt(**a) for a in data.get("attempts", [])],
            metadata=dict(data.get("metadata", {})),
            raw=data.get("raw"),
        )


@runtime_checkable
class EmbeddingModel(Protocol):
    """Anything that turns an ``EmbeddingRequest`` into an ``EmbeddingResponse``.

    ``max_batch`` is the most texts one request may carry (the API's limit).
    """

    provider: str
    model: str
    max_batch: int

    @property
    def name(self) -> str: ...

    def embed(self, request: EmbeddingRequest) -> EmbeddingResponse: ...

    async def aembed(self, request: EmbeddingRequest) -> EmbeddingResponse: ...


class BaseEmbeddingModel:
    """Convenience base: subclasses set ``provider``/``model`` and implement ``embed``;
    ``aembed`` runs it in a worker thread unless overridden."""

    provider: str = "custom"
    model: str = "model"
    max_batch: int = 64
    #: Cost of the model is known to be zero (local models).
    free: bool = False

    @property
    def name(self) -> str:
        return f"{self.provider}/{self.model}"

    def embed(self, request: EmbeddingRequest) -> EmbeddingResponse:
        raise NotImplementedError

    async def aembed(self, request: EmbeddingRequest) -> EmbeddingResponse:
        import asyncio

        return await asyncio.to_thread(self.embed, request)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"
