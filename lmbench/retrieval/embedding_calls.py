"""The seam between ``Embedder`` and the model: per-text cache lookups and one call per batch.

Everything an embedding call needs besides the model itself (cache, history, cost, budgets,
replay, spans) is the call layer's; this module is where ``Embedder`` hands a batch to it.
"""

from __future__ import annotations

import hashlib
import threading
from typing import TYPE_CHECKING, Any

import orjson

from lmbench import settings as _settings
from lmbench.errors import ProviderError
from lmbench.lm.embedding import EmbeddingModel, EmbeddingRequest, EmbeddingResponse

if TYPE_CHECKING:
    import numpy as np

__all__ = ["asend", "lookup", "send", "text_key"]

_memory: dict[str, Any] = {}
_lock = threading.Lock()


def text_key(model: EmbeddingModel, text: str, template: EmbeddingRequest) -> str:
    """The cache key of one text embedded by ``model`` with ``template``'s options."""
    payload = {"kind": "embedding", "model": model.name, "text": text, **template.params()}
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


def lookup(
    model: EmbeddingModel, texts: list[str], template: EmbeddingRequest, cache: bool | None
) -> dict[str, np.ndarray]:
    """The vectors the cache holds for ``texts`` (by text)."""
    if cache is False or not _settings.current().cache:
        return {}
    with _lock:
        return {t: _memory[k] for t in texts if (k := text_key(model, t, template)) in _memory}


def _check(
    model: EmbeddingModel, request: EmbeddingRequest, response: EmbeddingResponse
) -> EmbeddingResponse:
    if len(response) != len(request.texts):
        raise ProviderError(
            f"{model.name} returned {len(response)} vectors for {len(request.texts)} texts",
            provider=model.provider,
        )
    with _lock:
        for text, vector in zip(request.texts, response.vectors, strict=True):
            _memory[text_key(model, text, request)] = vector
    return response


def send(model: EmbeddingModel, request: EmbeddingRequest) -> EmbeddingResponse:
    return _check(model, request, model.embed(request))


async def asend(model: EmbeddingModel, request: EmbeddingRequest) -> EmbeddingResponse:
    return _check(model, request, await model.aembed(request))
