"""``Retrieve``: the passages nearest to a query, as a module programs can call.

    retrieve = Retrieve(["passage one", "passage two", ...], k=3)
    hits = retrieve(query="...")          # Hits: .passages, .scores, .ids; renders in notebooks

The corpus is embedded on the first call (or by ``build()``), with the embedder's cache and
call path; a ``VectorIndex`` built elsewhere is used as it is (it must hold the passages'
``texts`` to return them, and vectors made by the same embedder).
"""

from __future__ import annotations

import threading
from typing import Any

from lmbench.errors import ConfigError, InputError
from lmbench.modules.base import Module
from lmbench.retrieval.embedder import Embedder, resolve_embedder
from lmbench.retrieval.hits import Hits
from lmbench.retrieval.index import VectorIndex, Where

__all__ = ["Retrieve"]

_building = threading.Lock()


class Retrieve(Module):
    """The ``k`` passages of ``corpus_or_index`` most similar to a query.

    ``corpus_or_index``: passages (strings, ``{id: text}``, records with a ``text`` field,
    ``Document`` chunks) or a ``VectorIndex``. ``embedder``: an ``Embedder``, a model name,
    or None for the offline local one.
    """

    def __init__(
        self, corpus_or_index: Any, k: int = 3, embedder: Embedder | str | None = None
    ) -> None:
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            raise ConfigError(f"Retrieve(k={k!r}): k is how many passages, a whole number >= 1")
        self.k = k
        self.embedder = resolve_embedder(embedder)
        if isinstance(corpus_or_index, VectorIndex):
            self.index: VectorIndex | None = corpus_or_index
            self._corpus: Any = None
        else:
            from lmbench.retrieval.corpus import passages_from

            self._corpus = passages_from(corpus_or_index)
            self.index = None

    def build(self) -> VectorIndex:
        """Embed the corpus into the index (done on the first call when not called)."""
        if self.index is not None:
            return self.index
        with _building:  # concurrent first calls embed the corpus once
            if self.index is None:
                corpus = self._corpus
                vectors = self.embedder.embed(corpus.texts, input_type="document")
                index = VectorIndex(vectors.shape[1])
                index.add(vectors, ids=corpus.ids, metadata=corpus.metadata, texts=corpus.texts)
                self.index = index
        return self.index

    def forward(self, query: str, k: int | None = None, where: Where | None = None) -> Hits:  # type: ignore[override]
        if not isinstance(query, str) or not query.strip():
            raise InputError(f"Retrieve(query={query!r}): give the query text")
        index = self.build()
        vector = self.embedder.embed([query], input_type="query")[0]
        if vector.shape[0] != index.dim:
            raise ConfigError(
                f"the query vector has {vector.shape[0]} dimensions but the index {index.dim}: "
                "build the index with the same embedder as Retrieve's"
            )
        hits = index.search(vector, k=k or self.k, where=where)
        hits.query = query
        return hits

    def __call__(self, query: str | None = None, **inputs: Any) -> Hits:  # type: ignore[override]
        if query is not None:
            inputs["query"] = query
        return super().__call__(**inputs)

    def __repr__(self) -> str:
        size = len(self.index) if self.index is not None else len(self._corpus.texts)
        return f"Retrieve({size} passages, k={self.k}, embedder={self.embedder.name})"
