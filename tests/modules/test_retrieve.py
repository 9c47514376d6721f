"""Retrieve over a small corpus with the real local embedder."""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("onnxruntime")

from lmbench.errors import ConfigError, InputError
from lmbench.lm.scripted import ScriptedLM
from lmbench.modules import Module, Predict
from lmbench.modules.retrieve import Retrieve
from lmbench.retrieval import Embedder, VectorIndex

CORPUS = [
    {"id": "paris", "text": "Paris is the capital and largest city of France.", "topic": "geo"},
    {
        "id": "python",
        "text": "Python is a programming language created by Guido van Rossum.",
        "topic": "tech",
    },
    {
        "id": "tea",
        "text": "Green tea is made from unoxidised leaves of Camellia sinensis.",
        "topic": "food",
    },
    {"id": "berlin", "text": "Berlin is the capital of Germany.", "topic": "geo"},
]


def test_finds_the_relevant_passage_with_scores() -> None:
    retrieve = Retrieve(CORPUS, k=2)
    hits = retrieve("What is the capital of France?")
    assert hits.ids[0] == "paris"
    assert len(hits) == 2 and hits.scores[0] > hits.scores[1]
    assert hits.passages[0].startswith("Paris")
    assert hits[0].metadata == {"topic": "geo"}
    assert hits.query == "What is the capital of France?"
    assert retrieve(query="Who made Python?", k=1).ids == ["python"]
    assert retrieve("a city", k=4, where={"topic": "food"}).ids == ["tea"]
    assert "passage" in hits._repr_html_()


def test_inside_a_program_and_async() -> None:
    lm = ScriptedLM(["[[ ## answer ## ]]\nBerlin\n\n[[ ## completed ## ]]"])

    class RAG(Module):
        def __init__(self) -> None:
            self.retrieve = Retrieve([c["text"] for c in CORPUS], k=1)
            self.answer = Predict("context: list[str], question -> answer", lm=lm)

        def forward(self, question: str):
            context = self.retrieve(question).passages
            return self.answer(context=context, question=question)

    prediction = RAG()(question="Which city is Germany's capital?")
    assert prediction.answer == "Berlin"
    assert "Berlin is the capital of Germany." in lm.requests[0].messages[-1].text
    names = [child.module for child in prediction.call.children]
    assert names == ["Retrieve", "Predict"]
    hits = asyncio.run(Retrieve(["alpha beta", "gamma delta"], k=1).acall(query="alpha"))
    assert hits.ids == [0]


def test_a_whole_document_is_chunked() -> None:
    from lmbench.media import Document

    text = "Cats purr when content.\n\n" + "Filler sentence about nothing. " * 60 + "\n\nDogs bark."
    hits = Retrieve(Document.from_text(text, title="pets"), k=1)("Which animal barks?")
    assert "Dogs bark." in hits.passages[0] and hits[0].metadata["source"] == "pets"


def test_a_prebuilt_index() -> None:
    embedder = Embedder()
    texts = ["red apples", "blue ocean"]
    index = VectorIndex(384)
    index.add(embedder.embed(texts), ids=["r", "b"], texts=texts)
    assert Retrieve(index, k=1, embedder=embedder)("the sea").ids == ["b"]


def test_bad_input() -> None:
    with pytest.raises(InputError, match="'text' string"):
        Retrieve([{"body": "x"}])
    with pytest.raises(InputError, match="one string"):
        Retrieve("a whole document")
    with pytest.raises(ConfigError, match="k is how many"):
        Retrieve(["a"], k=0)
    with pytest.raises(InputError, match="query"):
        Retrieve(["a"])("  ")
    index = VectorIndex(8)
    index.add([[1.0] * 8])
    with pytest.raises(ConfigError, match="same embedder"):
        Retrieve(index)("hello")


def test_the_trace_shows_the_query_embedding_call() -> None:
    from lmbench.notebook.render_trace import trace_html, trace_text

    retrieve = Retrieve(["solar panels on roofs", "wind turbines at sea"], k=1)
    hits = retrieve("offshore wind energy, first time asked")
    text = trace_text(hits.call)
    assert "Retrieve" in text and "embedding local/all-minilm-l6-v2" in text
    assert "offshore wind" in trace_html(hits.call)


def test_copies_of_a_program_share_the_index_and_embedder() -> None:
    import copy

    retrieve = Retrieve(["one passage", "another passage"], k=1)
    retrieve.build()
    twin = copy.deepcopy(retrieve)
    assert twin.index is retrieve.index and twin.embedder is retrieve.embedder
    assert twin("another").ids == [1]
