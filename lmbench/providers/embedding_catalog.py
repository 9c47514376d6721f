"""Embedding models by name: ``"local/all-minilm-l6-v2"`` (the offline default) or
``"<provider>/<model>"`` for every remote provider that has an embeddings API.

==================  ===================================  =======================
prefix              endpoint                             wire format
==================  ===================================  =======================
local               in process (ONNX Runtime)            -
openai, mistral,    ``/embeddings``                      OpenAI embeddings
together, vllm,
lmstudio, llamacpp,
openai-compatible,
openrouter, groq,
deepseek
gemini              ``/models/<m>:batchEmbedContents``   Gemini
cohere              ``/v2/embed``                        Cohere v2
ollama              ``/api/embed`` (``api="openai"``:    Ollama (or OpenAI)
                    ``/v1/embeddings``)
==================  ===================================  =======================

Keys, base URLs and their environment variables are the chat providers' (see
``lmbench.providers.catalog``); so are the connection options (``api_key``, ``base_url``,
``timeout``, ``max_retries``, ``headers``, ``http_client``...). Embedding options:
``max_batch`` (texts per request, default the API's limit) and, for OpenAI-style servers,
``encoding_format`` (``"base64"`` for smaller bodies where the server supports it).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from lmbench.env import env_str
from lmbench.errors import ConfigError
from lmbench.lm.embedding import EmbeddingModel

__all__ = [
    "DEFAULT_EMBEDDING_MODEL",
    "build_embedding_model",
    "register_embedding_provider",
    "resolve_embedding_model",
]

DEFAULT_EMBEDDING_MODEL = "local/all-minilm-l6-v2"

_CHAT_ONLY = frozenset(
    {"structured_modes", "max_tokens_field", "default_max_tokens", "capabilities"}
)
_registered: dict[str, Callable[..., EmbeddingModel]] = {}
_lock = threading.Lock()


def register_embedding_provider(prefix: str, factory: Callable[..., EmbeddingModel]) -> None:
    """Make ``"prefix/<model>"`` resolve to ``factory(model, **options)`` as an embedding model."""
    with _lock:
        _registered[prefix] = factory


def _wire(prefix: str, service_wire: str, options: dict[str, Any]) -> Any:
    from lmbench.providers.wire.cohere_embeddings import CohereEmbeddings
    from lmbench.providers.wire.gemini_embeddings import GeminiEmbeddings
    from lmbench.providers.wire.ollama_embeddings import OllamaEmbeddings
    from lmbench.providers.wire.openai_embeddings import OpenAIEmbeddings

    encoding = options.pop("encoding_format", None)
    if service_wire == "gemini":
        return GeminiEmbeddings()
    if service_wire == "cohere":
        return CohereEmbeddings()
    if service_wire == "ollama" and options.get("api", "native") == "native":
        return OllamaEmbeddings()
    if service_wire == "anthropic":
        raise ConfigError(
            f"{prefix} has no embeddings API: use 'local/all-minilm-l6-v2' (offline), or an "
            "embedding provider such as 'openai/text-embedding-3-small' or 'gemini/text-embedding-004'"
        )
    field = "output_dimension" if prefix == "mistral" else "dimensions"
    return OpenAIEmbeddings(dimensions_field=field, encoding_format=encoding)


def build_embedding_model(prefix: str, model: str, **options: Any) -> EmbeddingModel:
    """A ``RemoteEmbeddingModel`` for the built-in provider ``prefix`` (see the table above)."""
    from lmbench.providers.catalog import SERVICES, build_lm
    from lmbench.providers.remote_embeddings import RemoteEmbeddingModel

    service = SERVICES[prefix]
    chat_only = sorted(set(options) & _CHAT_ONLY)
    if chat_only:
        raise ConfigError(
            f"{prefix}/{model}: option(s) {chat_only} apply to chat models, not embeddings; "
            "embedding options are max_batch and encoding_format, plus the connection options"
        )
    max_batch = options.pop("max_batch", None)
    if max_batch is not None and (not isinstance(max_batch, int) or max_batch < 1):
        raise ConfigError(f"max_batch={max_batch!r}: give a whole number of texts >= 1")
    wire = _wire(prefix, service.wire, options)
    return RemoteEmbeddingModel(build_lm(prefix, model, **options), wire, max_batch=max_batch)


def resolve_embedding_model(
    name: str | EmbeddingModel | None = None, **options: Any
) -> EmbeddingModel:
    """Turn ``"provider/model"`` into an embedding model (default: ``LMBENCH_EMBEDDER``, else
    ``DEFAULT_EMBEDDING_MODEL``); a model object is returned as it is."""
    if name is not None and not isinstance(name, str):
        return name
    name = name or env_str("LMBENCH_EMBEDDER") or DEFAULT_EMBEDDING_MODEL
    prefix, sep, model = name.partition("/")
    if not sep or not model:
        raise ConfigError(
            f"embedding model name {name!r} has no provider prefix: write it as 'provider/model', "
            f"e.g. 'openai/text-embedding-3-small' or '{DEFAULT_EMBEDDING_MODEL}'"
        )
    if prefix in _registered:
        return _registered[prefix](model, **options)
    if prefix == "local":
        from lmbench.providers.local_embeddings import LocalEmbeddingModel

        if options:
            raise ConfigError(
                f"{name} runs in process and takes no options; got {sorted(options)} "
                "(Embedder's own options are batch_size, normalize, dimensions, cache, ...)"
            )
        return LocalEmbeddingModel(model)
    from lmbench.providers.catalog import SERVICES

    if prefix not in SERVICES:
        known = sorted({"local", *SERVICES, *_registered} - {"anthropic"})
        raise ConfigError(
            f"unknown embedding provider {prefix!r} in {name!r}. Known: {', '.join(known)}; "
            "add one with register_embedding_provider(prefix, factory)"
        )
    return build_embedding_model(prefix, model, **options)
