"""Embedding calls take the call layer's path: history with tokens and cost, budgets,
replay, callbacks, the per-text cache. Against a real server on 127.0.0.1 (a priced remote
model) and the real local model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from provider_faults import FaultServer, respond

from lmbench.calls import Callback, CallbackEvent, budget, module_call
from lmbench.errors import BudgetExceeded, ReplayMissError
from lmbench.lm.cache import reset_cache
from lmbench.lm.replay import replay
from lmbench.observe import set_price
from lmbench.retrieval import Embedder
from lmbench.settings import context


@pytest.fixture(autouse=True)
def _isolated(collector: Any, response_cache: Any) -> None:
    set_price("openai/tiny-embed", input=1_000.0, output=0.0)  # $0.001 a token


def _answer(texts: list[str]) -> Any:
    body = {
        "data": [{"index": i, "embedding": [float(len(t)), 1.0]} for i, t in enumerate(texts)],
        "usage": {"prompt_tokens": 2 * len(texts)},
    }
    return respond(200, body)


def _embedder(server: FaultServer, **options: Any) -> Embedder:
    return Embedder(
        "openai/tiny-embed",
        base_url=server.url,
        api_key="sk-test-0123456789",
        show_progress=False,
        **options,
    )


def test_history_has_one_entry_per_batch_with_tokens_and_cost(
    server: FaultServer, collector: Any
) -> None:
    server.script(_answer(["aa", "bbb"]), _answer(["c"]))
    embedder = _embedder(server, batch_size=2)
    with module_call("Indexing") as node:
        embedder.embed(["aa", "bbb", "c"])
    entries = [e for e in collector.entries() if e.kind == "embedding"]
    assert [e.usage.input_tokens for e in entries] == [4, 2]
    assert [e.cost_usd for e in entries] == [pytest.approx(0.004), pytest.approx(0.002)]
    assert entries[0].model == "tiny-embed" and entries[0].metadata["texts"] == 2
    assert entries[0].parent_id == node.call_id
    assert node.cost == pytest.approx(0.006)
    saved = entries[0].to_dict()
    assert saved["request"]["texts"] == ["aa", "bbb"]
    assert saved["response"]["count"] == 2 and saved["response"]["dimensions"] == 2
    assert "vectors" not in saved["response"]  # history keeps no vectors


def test_each_text_is_cached_whatever_batch_it_came_in(server: FaultServer, collector: Any) -> None:
    server.script(_answer(["one", "two"]), _answer(["three"]))
    embedder = _embedder(server)
    first = embedder.embed(["one", "two"])
    again = embedder.embed(["two", "three", "one"])
    assert server.count == 2
    assert server.received[1].body["input"] == ["three"]  # only the new text was sent
    assert np.allclose(again[[2, 0]], first)
    entries = [e for e in collector.entries() if e.kind == "embedding"]
    # the first batch, then the two cached texts (one hit entry) and the batch of the new one
    assert [(e.cache, e.metadata["texts"]) for e in entries] == [
        ("off", 2),  # batches are cached per text, not as a whole
        ("memory", 2),
        ("off", 1),
    ]
    with context(cache=False):
        server.script(_answer(["one"]))
        embedder.embed(["one"])
    assert server.count == 3


def test_texts_served_from_the_cache_are_one_free_cache_hit_in_history(
    server: FaultServer, collector: Any, response_cache: Any
) -> None:
    server.script(_answer(["aa", "bbbb"]))
    embedder = _embedder(server)
    embedder.embed(["aa", "bbbb"])  # 4 tokens, $0.004
    heard: list[str] = []

    class Listener(Callback):
        def on_embedding_end(self, event: CallbackEvent) -> None:
            heard.append(f"{event.entry.cache} {len(event.response)}")

    with context(callbacks=[Listener()]), module_call("Lookup") as node:
        again = embedder.embed(["bbbb", "aa", "aa"])
    assert server.count == 1 and again.shape == (3, 2)
    hit = collector.entries()[-2]  # before the module entry
    assert hit.kind == "embedding" and hit.cache == "memory" and hit.parent_id == node.call_id
    assert hit.cost_usd == 0.0 and hit.saved_usd == pytest.approx(0.004)
    assert hit.metadata["texts"] == 2 and hit.usage.input_tokens == 4
    assert hit.to_dict()["request"]["texts"] == ["bbbb", "aa"]
    assert heard == ["memory 2"]
    assert node.cost == 0.0 and node.usage.input_tokens == 0  # hits are not spent tokens
    reset_cache(response_cache.directory)  # a new process's cache: memory empty, same disk
    embedder.embed(["aa"])  # from disk now: the single text's own key is named
    (last,) = [e for e in collector.entries() if e.kind == "embedding"][-1:]
    assert last.cache == "disk" and last.metadata["texts"] == 1 and last.cache_key
    assert server.count == 1


def test_budgets_count_embeddings(server: FaultServer) -> None:
    server.script(_answer(["abcdefgh"]))
    embedder = _embedder(server, cache=False)
    with budget(usd=0.0025) as limit:
        embedder.embed(["abcdefgh"])  # 2 tokens: $0.002
        with pytest.raises(BudgetExceeded):
            embedder.embed(["a much longer text that would cost more than is left"])
    assert limit.spent_usd == pytest.approx(0.002)
    assert server.count == 1  # the second call was refused before it was sent


def test_replay_records_then_plays_without_the_server(server: FaultServer, tmp_path: Path) -> None:
    path = tmp_path / "embeddings.jsonl"
    server.script(_answer(["alpha"]), _answer(["alpha", "beta"]))
    _embedder(server).embed(["alpha"])  # cached before recording: recorded all the same
    with replay.record(path):
        recorded = _embedder(server).embed(["alpha", "beta"])
    silent = Embedder(
        "openai/tiny-embed", base_url="http://127.0.0.1:9", api_key="sk-x", show_progress=False
    )
    with replay.play(path):
        played = silent.embed(["alpha", "beta"])
        with pytest.raises(ReplayMissError, match="tiny-embed"):
            silent.embed(["never embedded"])
    assert np.allclose(played, recorded)


def test_callbacks_hear_embedding_events(server: FaultServer) -> None:
    heard: list[str] = []

    class Listener(Callback):
        def on_embedding_start(self, event: CallbackEvent) -> None:
            heard.append(f"start {event.model.name}")

        def on_embedding_end(self, event: CallbackEvent) -> None:
            heard.append(f"end {len(event.response)}")

    server.script(_answer(["x", "y"]))
    with context(callbacks=[Listener()]):
        _embedder(server).embed(["x", "y"])
    assert heard == ["start openai/tiny-embed", "end 2"]


def test_local_model_calls_are_free_and_recorded(collector: Any) -> None:
    pytest.importorskip("onnxruntime")
    Embedder(show_progress=False).embed(["a local text", "another one"])
    (entry,) = [e for e in collector.entries() if e.kind == "embedding"]
    assert entry.provider == "local" and entry.cost_usd == 0.0
    assert entry.usage.input_tokens > 4


def test_options_no_key_can_be_made_of_run_uncached(collector: Any) -> None:
    pytest.importorskip("onnxruntime")
    embedder = Embedder(show_progress=False, extra={"note": object()})  # the local model ignores it
    for _ in range(2):
        with pytest.warns(RuntimeWarning, match="not cached"):
            assert embedder.embed(["x"]).shape == (1, 384)
    assert len([e for e in collector.entries() if e.kind == "embedding"]) == 2


def test_secret_extra_values_are_not_in_the_key(server: FaultServer) -> None:
    from lmbench.lm.embedding import EmbeddingRequest
    from lmbench.retrieval.embedding_calls import EMBEDDINGS

    model = _embedder(server).model
    first = EMBEDDINGS.key(
        model, EmbeddingRequest(("t",), extra={"api_key": "sk-one-111111"}), None
    )
    second = EMBEDDINGS.key(
        model, EmbeddingRequest(("t",), extra={"api_key": "sk-two-222222"}), None
    )
    assert first == second
