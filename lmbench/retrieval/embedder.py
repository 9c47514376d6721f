"""``Embedder``: texts in, one L2-normalised float32 vector per text out.

``Embedder()`` is the offline local model (all-MiniLM-L6-v2, no key, no network);
``Embedder("openai/text-embedding-3-small")`` and the like call a provider's embeddings API.
Each text is looked up in the response cache first; the texts not found go to the model in
batches of ``batch_size``, each batch one embedding call on the path every model call takes
(``lmbench.calls``: history with tokens and cost, budgets, replay, callbacks, spans; see
``embedding_calls``). Repeated texts in one input are embedded once.

``embed`` and ``aembed`` share every step but the waiting: ``_Plan`` holds the lookups,
batches and results; the two methods only differ in how they wait for each batch (``aembed``
sends up to ``concurrency`` batches at once).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from lmbench.display import RichDisplay
from lmbench.errors import ConfigError, InputError
from lmbench.lm.embedding import EmbeddingModel, EmbeddingRequest, EmbeddingResponse, InputType
from lmbench.retrieval import embedding_calls

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Embedder", "resolve_embedder"]

#: Texts per request when neither the caller nor the model's limit says less.
DEFAULT_BATCH_SIZE = 64
#: Show a progress bar when an input needs more batches than this.
_PROGRESS_BATCHES = 4


def _check_texts(texts: str | Iterable[str]) -> list[str]:
    if isinstance(texts, str):
        raise InputError(
            "Embedder.embed(texts): give a list of texts (for one text, use embed_one(text) "
            "or embed([text]))"
        )
    items = list(texts)
    for position, text in enumerate(items):
        if not isinstance(text, str):
            raise InputError(
                f"Embedder.embed: texts[{position}] is {type(text).__name__} ({text!r:.60}), "
                "not str; convert it to text first"
            )
    return items


class _Plan:
    """One ``embed`` call: which texts the cache has, which batches go to the model, and the
    matrix put together at the end."""

    def __init__(self, embedder: Embedder, texts: list[str], input_type: InputType | None) -> None:
        self.embedder = embedder
        self.texts = texts
        self.input_type = input_type
        self.found: dict[str, Any] = {}
        unique = list(dict.fromkeys(texts))
        if embedder.cache is not False:
            template = self._template()
            cached = embedding_calls.lookup(embedder.model, unique, template, embedder.cache)
            embedding_calls.record_served(embedder.model, template, cached)
            self.found = cached.vectors
        missing = [t for t in unique if t not in self.found]
        size = embedder.batch_size
        self.requests = [
            self._template().replace(texts=tuple(missing[i : i + size]))
            for i in range(0, len(missing), size)
        ]

    def _template(self) -> EmbeddingRequest:
        return EmbeddingRequest(
            texts=(),
            dimensions=self.embedder.dimensions,
            input_type=self.input_type,
            extra=dict(self.embedder.extra),
        )

    def take(self, request: EmbeddingRequest, response: EmbeddingResponse) -> None:
        for text, vector in zip(request.texts, response.vectors, strict=True):
            self.found[text] = vector
        embedding_calls.store(self.embedder.model, request, response, self.embedder.cache)

    def result(self) -> np.ndarray:
        import numpy as np

        if not self.texts:
            return np.zeros((0, self.embedder.dim or 0), dtype=np.float32)
        matrix = np.stack([np.asarray(self.found[t], dtype=np.float32) for t in self.texts])
        if self.embedder.normalize:
            norms = np.linalg.norm(matrix, axis=1, keepdims=True)
            norms[norms == 0] = 1.0
            matrix /= norms
        self.embedder.dim = int(matrix.shape[1])
        return matrix

    def progress(self, requests: Sequence[EmbeddingRequest]) -> Iterable[EmbeddingRequest]:
        show = self.embedder.show_progress
        if show is None:
            show = len(requests) > _PROGRESS_BATCHES
        if not show:
            return requests
        from lmbench.progress import track

        description = f"embedding ({self.embedder.model.name})"
        return track(requests, total=len(requests), description=description, unit="batches")


class Embedder(RichDisplay):
    """Embeds texts with ``name`` (default: the offline local model).

    - ``batch_size``: texts per request (default 64, capped by the API's limit);
    - ``normalize``: scale each vector to length 1 (default True), so dot product is cosine;
    - ``dimensions``: ask models that can shorten their vectors for this many;
    - ``cache``: None follows the settings (on by default), False skips it;
    - ``concurrency``: batches in flight at once in ``aembed``;
    - ``show_progress``: show progress (default: when more than 4 batches are needed);
    - other keyword arguments go to the model (``api_key``, ``base_url``, ``timeout``...).
    """

    def __init__(
        self,
        name: str | EmbeddingModel | None = None,
        *,
        batch_size: int | None = None,
        normalize: bool = True,
        dimensions: int | None = None,
        cache: bool | None = None,
        concurrency: int = 4,
        show_progress: bool | None = None,
        extra: dict[str, Any] | None = None,
        **options: Any,
    ) -> None:
        from lmbench.providers.embedding_catalog import resolve_embedding_model

        self.model = resolve_embedding_model(name, **options)
        limit = self.model.max_batch
        if batch_size is not None and (
            not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1
        ):
            raise ConfigError(f"Embedder(batch_size={batch_size!r}): give a whole number >= 1")
        if batch_size is not None and batch_size > limit:
            raise ConfigError(
                f"Embedder(batch_size={batch_size}): {self.model.name} takes at most {limit} "
                f"texts per request; use batch_size={limit} or less"
            )
        if dimensions is not None and (not isinstance(dimensions, int) or dimensions < 1):
            raise ConfigError(f"Embedder(dimensions={dimensions!r}): give a whole number >= 1")
        if concurrency < 1:
            raise ConfigError(f"Embedder(concurrency={concurrency!r}): give a whole number >= 1")
        self.batch_size = batch_size or min(DEFAULT_BATCH_SIZE, limit)
        self.normalize = normalize
        self.dimensions = dimensions
        self.cache = cache
        self.concurrency = concurrency
        self.show_progress = show_progress
        self.extra = dict(extra or {})
        #: Vector length, known once something was embedded (or from the model).
        self.dim: int | None = dimensions or getattr(self.model, "dimensions", None)

    @property
    def name(self) -> str:
        return self.model.name

    def __repr__(self) -> str:
        return f"<Embedder {self.name} batch_size={self.batch_size}>"

    def __deepcopy__(self, memo: dict[int, Any]) -> Embedder:
        return self  # a handle on a model: copies of a program share it

    def embed(
        self, texts: str | Iterable[str], *, input_type: InputType | None = None
    ) -> np.ndarray:
        """One row per text: a float32 array of shape ``(len(texts), dim)``."""
        plan = _Plan(self, _check_texts(texts), input_type)
        for request in plan.progress(plan.requests):
            plan.take(request, embedding_calls.send(self.model, request))
        return plan.result()

    async def aembed(
        self, texts: str | Iterable[str], *, input_type: InputType | None = None
    ) -> np.ndarray:
        """``embed``, awaiting up to ``concurrency`` batches at once."""
        plan = _Plan(self, _check_texts(texts), input_type)
        gate = asyncio.Semaphore(self.concurrency)

        async def one(request: EmbeddingRequest) -> None:
            async with gate:
                plan.take(request, await embedding_calls.asend(self.model, request))

        await asyncio.gather(*(one(r) for r in plan.requests))
        return plan.result()

    def embed_one(self, text: str, *, input_type: InputType | None = None) -> np.ndarray:
        """One text's vector (shape ``(dim,)``)."""
        if not isinstance(text, str):
            raise InputError(f"Embedder.embed_one(text): expected str, got {type(text).__name__}")
        return self.embed([text], input_type=input_type)[0]

    __call__ = embed

    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of two texts."""
        import numpy as np

        first, second = self.embed([a, b])
        denominator = float(np.linalg.norm(first) * np.linalg.norm(second)) or 1.0
        return float(first @ second) / denominator


def resolve_embedder(embedder: Embedder | str | EmbeddingModel | None) -> Embedder:
    """An ``Embedder`` from one, a model name or model (None: the default local one, shared)."""
    global _default
    if isinstance(embedder, Embedder):
        return embedder
    if embedder is None:
        if _default is None:
            _default = Embedder()
        return _default
    return Embedder(embedder)


_default: Embedder | None = None
