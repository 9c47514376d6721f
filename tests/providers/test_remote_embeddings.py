"""Remote embedding models against a real HTTP server on 127.0.0.1: what each wire format
sends, how its answer is read, and retries and errors through the shared transport."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import numpy as np
import pytest
from provider_faults import FaultServer, respond

from lmbench.errors import ConfigError, ProviderError
from lmbench.lm.embedding import EmbeddingRequest
from lmbench.providers.embedding_catalog import resolve_embedding_model

TEXTS = ("first text", "second text")


def _openai_body(vectors: list[list[float]], **extra: Any) -> dict[str, Any]:
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)
        ],
        "model": "text-embedding-3-small",
        "usage": {"prompt_tokens": 5, "total_tokens": 5},
        **extra,
    }


def test_openai_request_and_response(server: FaultServer) -> None:
    server.script(respond(200, _openai_body([[1.0, 0.0], [0.0, 1.0]])))
    model = resolve_embedding_model(
        "openai/text-embedding-3-small", base_url=server.url, api_key="sk-test-123456789"
    )
    response = model.embed(EmbeddingRequest(TEXTS, dimensions=2))
    sent = server.received[0]
    assert sent.path == "/embeddings"
    assert sent.body == {"model": "text-embedding-3-small", "input": list(TEXTS), "dimensions": 2}
    assert sent.headers["Authorization"] == "Bearer sk-test-123456789"
    assert response.vectors.dtype == np.float32
    assert response.vectors.tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert response.usage.input_tokens == 5
    assert response.provider == "openai"
    assert response.attempts[-1].reason == "ok"


def test_openai_base64_vectors_out_of_order(server: FaultServer) -> None:
    packed = [
        base64.b64encode(np.array(v, dtype="<f4").tobytes()).decode() for v in ([1, 2], [3, 4])
    ]
    body = {"data": [{"index": 1, "embedding": packed[1]}, {"index": 0, "embedding": packed[0]}]}
    server.script(respond(200, body))
    model = resolve_embedding_model(
        "openai-compatible/e5", base_url=server.url, encoding_format="base64"
    )
    response = model.embed(EmbeddingRequest(TEXTS))
    assert server.received[0].body["encoding_format"] == "base64"
    assert response.vectors.tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_mistral_names_its_dimensions_field(server: FaultServer) -> None:
    server.script(respond(200, _openai_body([[1.0], [2.0]])))
    model = resolve_embedding_model(
        "mistral/codestral-embed", base_url=server.url, api_key="k-1234567890"
    )
    model.embed(EmbeddingRequest(TEXTS, dimensions=1))
    assert server.received[0].body["output_dimension"] == 1


def test_gemini_batch_embed(server: FaultServer) -> None:
    server.script(respond(200, {"embeddings": [{"values": [0.5, 0.5]}, {"values": [1.0, 0.0]}]}))
    model = resolve_embedding_model(
        "gemini/text-embedding-004", base_url=server.url, api_key="g-1234567890"
    )
    response = model.embed(EmbeddingRequest(TEXTS, input_type="query", dimensions=2))
    sent = server.received[0]
    assert sent.path == "/models/text-embedding-004:batchEmbedContents"
    assert sent.headers["x-goog-api-key"] == "g-1234567890"
    first = sent.body["requests"][0]
    assert first == {
        "model": "models/text-embedding-004",
        "content": {"parts": [{"text": "first text"}]},
        "taskType": "RETRIEVAL_QUERY",
        "outputDimensionality": 2,
    }
    assert response.vectors.shape == (2, 2)
    assert response.metadata["usage_estimated"] is True
    assert response.usage.input_tokens > 0


def test_cohere_embed(server: FaultServer) -> None:
    body = {
        "id": "emb-1",
        "embeddings": {"float": [[0.1, 0.2], [0.3, 0.4]]},
        "texts": list(TEXTS),
        "meta": {"billed_units": {"input_tokens": 4}},
    }
    server.script(respond(200, body))
    model = resolve_embedding_model(
        "cohere/embed-v4.0", base_url=server.url, api_key="c-1234567890"
    )
    response = model.embed(EmbeddingRequest(TEXTS, input_type="document"))
    sent = server.received[0]
    assert sent.path == "/v2/embed"
    assert sent.body["input_type"] == "search_document"
    assert sent.body["embedding_types"] == ["float"]
    assert response.usage.input_tokens == 4
    assert response.metadata["response_id"] == "emb-1"


def test_ollama_native_and_openai_paths(server: FaultServer) -> None:
    server.script(
        respond(
            200, {"model": "nomic-embed-text", "embeddings": [[1.0], [2.0]], "prompt_eval_count": 6}
        ),
        respond(200, _openai_body([[1.0], [2.0]])),
    )
    native = resolve_embedding_model("ollama/nomic-embed-text", base_url=server.url)
    response = native.embed(EmbeddingRequest(TEXTS))
    assert server.received[0].path == "/api/embed"
    assert server.received[0].body == {"model": "nomic-embed-text", "input": list(TEXTS)}
    assert response.usage.input_tokens == 6
    assert native.free  # a local server costs nothing
    compatible = resolve_embedding_model(
        "ollama/nomic-embed-text", base_url=server.url, api="openai"
    )
    compatible.embed(EmbeddingRequest(TEXTS))
    assert server.received[1].path == "/v1/embeddings"


def test_retries_a_rate_limit_then_succeeds(server: FaultServer) -> None:
    server.script(
        respond(429, {"error": {"message": "slow down"}}, {"retry-after-ms": "10"}),
        respond(200, _openai_body([[1.0], [2.0]])),
    )
    model = resolve_embedding_model(
        "openai/text-embedding-3-small", base_url=server.url, api_key="sk-abcdefghijkl"
    )
    response = model.embed(EmbeddingRequest(TEXTS))
    assert server.count == 2
    assert [a.status for a in response.attempts] == [429, 200]


def test_wrong_vector_count_is_a_provider_error(server: FaultServer) -> None:
    server.script(respond(200, _openai_body([[1.0]])))
    model = resolve_embedding_model(
        "openai/text-embedding-3-small", base_url=server.url, api_key="sk-abcdefghijkl"
    )
    with pytest.raises(ProviderError, match="returned 1 embeddings for 2 texts"):
        model.embed(EmbeddingRequest(TEXTS))


def test_error_inside_a_200_body(server: FaultServer) -> None:
    server.script(respond(200, {"error": "model 'nope' not found"}))
    model = resolve_embedding_model("ollama/nope", base_url=server.url)
    with pytest.raises(ProviderError, match="not found"):
        model.embed(EmbeddingRequest(TEXTS))


def test_async_embed(server: FaultServer) -> None:
    server.script(respond(200, _openai_body([[1.0], [2.0]])))
    model = resolve_embedding_model("vllm/bge", base_url=server.url)
    response = asyncio.run(model.aembed(EmbeddingRequest(TEXTS)))
    assert response.vectors.tolist() == [[1.0], [2.0]]


def test_key_never_in_error(server: FaultServer) -> None:
    server.script(respond(401, {"error": {"message": "bad key sk-secret-999999999"}}))
    model = resolve_embedding_model(
        "openai/text-embedding-3-small",
        base_url=server.url,
        api_key="sk-secret-999999999",
        max_retries=0,
    )
    with pytest.raises(ProviderError) as caught:
        model.embed(EmbeddingRequest(TEXTS))
    assert "sk-secret-999999999" not in str(caught.value)


def test_names_without_embeddings_and_bad_options() -> None:
    with pytest.raises(ConfigError, match="no embeddings API"):
        resolve_embedding_model("anthropic/claude-haiku-4-5", api_key="x")
    with pytest.raises(ConfigError, match="chat models, not embeddings"):
        resolve_embedding_model("openai/text-embedding-3-small", structured_modes=("text",))
    with pytest.raises(ConfigError, match="unknown embedding provider"):
        resolve_embedding_model("nowhere/model")
    with pytest.raises(ConfigError, match="no provider prefix"):
        resolve_embedding_model("text-embedding-3-small")
