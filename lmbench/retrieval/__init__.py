"""Embeddings and vector search: ``Embedder``, ``VectorIndex``, ``Hit``/``Hits``.

The modules built on them (``Retrieve``, ``KNN``) live in ``lmbench.modules``.
"""

from lmbench.retrieval.embedder import Embedder, resolve_embedder
from lmbench.retrieval.hits import Hit, Hits
from lmbench.retrieval.index import VectorIndex

__all__ = ["Embedder", "Hit", "Hits", "VectorIndex", "resolve_embedder"]
