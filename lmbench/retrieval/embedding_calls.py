"""Embedding calls on the call layer: the ``embedding`` kind of model call, and the per-text
cache ``Embedder`` reads before it calls a model.

Each batch the model gets is one ``ModelCall`` of ``EmbeddingKind``: replay record and play,
budgets (reserved on the texts' estimated tokens, settled on the tokens billed), pricing, a
history entry of kind ``"embedding"``, callbacks (``on_embedding_start``/``_end``) and spans.

Vectors are cached per text, in the same response cache as LM answers (memory, then disk),
under a key naming the kind, the model, the options and the text: a text embedded once is
never sent again, whichever batch it arrives in. The batch call itself is therefore not
cached as a whole. Texts served from that cache are recorded as one embedding call of their
own (``record_served``): a cache hit in history, free, with its text count and what it saved,
as an LM cache hit is. While a replay recording is made or played, the per-text cache is not
read: batches then hold every text, so the played run finds exactly the recorded batches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from lmbench import settings as _settings
from lmbench.calls.kind import CallKind
from lmbench.calls.model_call import ModelCall
from lmbench.errors import ProviderError
from lmbench.lm.cache import get_cache
from lmbench.lm.cache_key import key_of
from lmbench.lm.embedding import EmbeddingModel, EmbeddingRequest, EmbeddingResponse
from lmbench.lm.replay import active as active_replayer
from lmbench.lm.stored import ResponseCodec, copied_facts
from lmbench.lm.types import Usage
from lmbench.logs import warn
from lmbench.secrets import redact

__all__ = [
    "EMBEDDINGS",
    "CachedTexts",
    "EmbeddingKind",
    "EmbeddingRecord",
    "EmbeddingResponseCodec",
    "asend",
    "lookup",
    "record_served",
    "send",
    "store",
]

_PREVIEW_CHARS = 60


def _chars_tokens(texts: tuple[str, ...]) -> int:
    """About four characters a token, at least one a text."""
    return sum(max(1, len(text) // 4) for text in texts)


class EmbeddingResponseCodec(ResponseCodec[EmbeddingResponse]):
    """``EmbeddingResponse`` as stored data (vectors exact, as base64 float32)."""

    response_type = EmbeddingResponse

    def copy(self, response: EmbeddingResponse) -> EmbeddingResponse:
        return EmbeddingResponse(vectors=response.vectors.copy(), **copied_facts(response))


@dataclass(frozen=True)
class EmbeddingRecord:
    """What history keeps of an embedding response: its shape and usage, not the vectors
    (a batch's vectors are tens of kilobytes; the cache and replay files keep them)."""

    model: str
    provider: str
    count: int
    dimensions: int
    usage: Usage
    latency_s: float
    metadata: dict[str, Any]

    @classmethod
    def of(cls, response: EmbeddingResponse) -> EmbeddingRecord:
        return cls(
            response.model,
            response.provider,
            len(response),
            response.dimensions,
            response.usage,
            response.latency_s,
            response.metadata,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "provider": self.provider,
            "count": self.count,
            "dimensions": self.dimensions,
            "usage": self.usage.to_dict(),
            "latency_s": self.latency_s,
            "metadata": dict(self.metadata),
        }


class EmbeddingKind(CallKind[EmbeddingModel, EmbeddingRequest, EmbeddingResponse]):
    """Batches of texts sent to an embedding model."""

    entry_kind: ClassVar[str] = "embedding"
    event: ClassVar[str] = "embedding"
    client_name: ClassVar[str] = "model"
    codec: ClassVar[EmbeddingResponseCodec] = EmbeddingResponseCodec()

    @staticmethod
    def _checked(
        client: EmbeddingModel, request: EmbeddingRequest, response: EmbeddingResponse
    ) -> EmbeddingResponse:
        if len(response) != len(request.texts):
            raise ProviderError(
                f"{client.name} returned {len(response)} vectors for {len(request.texts)} texts",
                provider=client.provider,
            )
        return response

    def send(self, client: EmbeddingModel, request: EmbeddingRequest) -> EmbeddingResponse:
        return self._checked(client, request, client.embed(request))

    async def asend(self, client: EmbeddingModel, request: EmbeddingRequest) -> EmbeddingResponse:
        return self._checked(client, request, await client.aembed(request))

    def key(self, client: EmbeddingModel, request: EmbeddingRequest, rollout_id: Any) -> str:
        """Over the kind, model, texts and options; secret-named ``extra`` values redacted."""
        params = request.params()
        if params["extra"]:
            params["extra"] = redact(params["extra"])
        return key_of(
            {"kind": "embedding", "model": client.name, "texts": list(request.texts), **params}
        )

    def cacheable(self, client: EmbeddingModel, request: EmbeddingRequest, rollout_id: Any) -> bool:
        return False  # cached per text instead (``lookup``/``store``)

    def usage(self, response: EmbeddingResponse) -> Usage:
        return response.usage

    def estimate(
        self, client: EmbeddingModel, request: EmbeddingRequest, *, priced: bool = False
    ) -> Usage:
        return Usage(input_tokens=_chars_tokens(request.texts))

    def preview(self, request: EmbeddingRequest) -> str:
        first = request.texts[0] if request.texts else ""
        more = f" (+{len(request.texts) - 1} more texts)" if len(request.texts) > 1 else ""
        return first[:_PREVIEW_CHARS] + more

    def entry_fields(
        self, call: ModelCall[EmbeddingModel, EmbeddingRequest, EmbeddingResponse]
    ) -> dict[str, Any]:
        client, response = call.client, call.response
        fields: dict[str, Any] = {
            "provider": client.provider,
            "model": client.model,
            "request": call.request,
        }
        if response is not None:
            fields["response_model"] = response.model
            fields["response"] = EmbeddingRecord.of(response)
            fields["usage"] = response.usage
            fields["attempts"] = response.attempts
            fields["metadata"] = {**response.metadata, "texts": len(call.request.texts)}
        return fields

    def span(
        self, call: ModelCall[EmbeddingModel, EmbeddingRequest, EmbeddingResponse]
    ) -> tuple[str, dict[str, Any]]:
        """GenAI semantic conventions for embeddings."""
        client = call.client
        return f"embeddings {client.model}", {
            "gen_ai.operation.name": "embeddings",
            "gen_ai.system": client.provider,
            "gen_ai.request.model": client.model,
            "lmbench.texts": len(call.request.texts),
        }

    def client_label(self, client: EmbeddingModel) -> str:
        return client.name


EMBEDDINGS = EmbeddingKind()


# -- per-text cache ---------------------------------------------------------------------------
def _text_key(model: EmbeddingModel, text: str, template: EmbeddingRequest) -> str:
    return EMBEDDINGS.key(model, template.replace(texts=(text,)), None)


def _keyable(model: EmbeddingModel, template: EmbeddingRequest) -> bool:
    """Whether keys can be made with ``template``'s options (JSON-able ``extra``)."""
    try:
        _text_key(model, "", template)
    except TypeError as exc:
        warn(f"embeddings by {model.name} not cached: {exc}")
        return False
    return True


def _reading(model: EmbeddingModel, template: EmbeddingRequest, cache: bool | None) -> bool:
    if cache is False or not _settings.current().cache:
        return False
    # While recording or playing, every text goes into the batches, so a played run sends
    # exactly the batches that were recorded, whatever either run's cache held.
    return active_replayer() is None and _keyable(model, template)


@dataclass
class CachedTexts:
    """What the per-text cache held of one input: a vector per text found, the tokens those
    texts cost when they were embedded, the slowest level that served one, and a stored
    response (for the model's name)."""

    vectors: dict[str, Any] = field(default_factory=dict)
    key: str | None = None  # the cache key of the last text found
    usage: Usage = field(default_factory=Usage)
    level: Literal["memory", "disk"] = "memory"
    sample: EmbeddingResponse | None = None


def lookup(
    model: EmbeddingModel, texts: list[str], template: EmbeddingRequest, cache: bool | None
) -> CachedTexts:
    """The cached vector of each of ``texts`` that has one (by text)."""
    found = CachedTexts()
    if not texts or not _reading(model, template, cache):
        return found
    store_ = get_cache()
    for text in texts:
        key = _text_key(model, text, template)
        hit = store_.get(key, EMBEDDINGS.codec)
        if hit is not None:
            response, level = hit
            found.vectors[text] = response.vectors[0]
            found.key = key
            found.usage = found.usage + response.usage
            found.sample = found.sample or response
            if level == "disk":
                found.level = "disk"
    return found


class _ServedCall(ModelCall[EmbeddingModel, EmbeddingRequest, EmbeddingResponse]):
    """Texts answered wholly from the per-text cache, on the call path as a cache hit: a
    history entry, callbacks and a span, no budget charge, no request."""

    __slots__ = ("_hit", "_key")

    def __init__(
        self,
        model: EmbeddingModel,
        request: EmbeddingRequest,
        hit: tuple[EmbeddingResponse, Literal["memory", "disk"]],
        key: str | None,
    ) -> None:
        super().__init__(EMBEDDINGS, model, request)
        self._hit, self._key = hit, key

    def _cached(self) -> EmbeddingResponse:
        self.cache_key = self._key
        return self._served(*self._hit)


def record_served(model: EmbeddingModel, template: EmbeddingRequest, cached: CachedTexts) -> None:
    """Record the texts ``cached`` served as one embedding call that hit the cache."""
    if not cached.vectors:
        return
    import numpy as np

    sample = cached.sample
    response = EmbeddingResponse(
        vectors=np.stack(list(cached.vectors.values())),
        model=sample.model if sample is not None else model.model,
        provider=sample.provider if sample is not None else model.provider,
        usage=cached.usage,
    )
    request = template.replace(texts=tuple(cached.vectors))
    key = cached.key if len(cached.vectors) == 1 else None  # a group has no key of its own
    with _ServedCall(model, request, (response, cached.level), key) as call:
        call.run()


def store(
    model: EmbeddingModel,
    request: EmbeddingRequest,
    response: EmbeddingResponse,
    cache: bool | None,
) -> None:
    """Cache each text's vector of a batch, with its share of the batch's tokens."""
    if cache is False or not _settings.current().cache or not _keyable(model, request):
        return
    total_tokens = response.usage.input_tokens
    total_chars = sum(len(t) for t in request.texts) or 1
    singles = (
        (
            _text_key(model, text, request),
            EmbeddingResponse(
                vectors=vector.reshape(1, -1),
                model=response.model,
                provider=response.provider,
                usage=Usage(input_tokens=round(total_tokens * len(text) / total_chars)),
            ),
        )
        for text, vector in zip(request.texts, response.vectors, strict=True)
    )
    get_cache().put_many(singles, EMBEDDINGS.codec)


# -- one batch on the call path ----------------------------------------------------------------
def send(model: EmbeddingModel, request: EmbeddingRequest) -> EmbeddingResponse:
    with ModelCall(EMBEDDINGS, model, request) as call:
        return call.run()


async def asend(model: EmbeddingModel, request: EmbeddingRequest) -> EmbeddingResponse:
    with ModelCall(EMBEDDINGS, model, request) as call:
        return await call.arun()
