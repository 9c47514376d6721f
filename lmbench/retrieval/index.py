"""``VectorIndex``: exact nearest-neighbour search over float32 vectors, on numpy.

Vectors live in one preallocated float32 matrix that grows by doubling, so adding is
amortised O(1) per vector (no copy of the whole index per ``add``). A query is one float32
matrix-vector product (BLAS) and ``argpartition`` for the top k, then a sort of those k only.
With ``metric="cosine"`` vectors are normalised when added and queries when searched, so the
score is the dot product.

``backend="faiss"`` (``pip install 'lmbench[faiss]'``) answers unfiltered searches from a FAISS
HNSW graph instead: approximate, and much faster than a full scan once an index holds
millions of vectors (on 100,000 the exact scan is already a few milliseconds). The graph is
built at the first search and grown with later additions; building is slow (minutes for
100,000 x 384 on two cores), so it pays off for large indexes queried many times. Filtering (``where``) is exact on
numpy in every case: the filter picks rows, then the rows are scored.

Saved as ``<path>.npz`` (the vectors, no pickle) plus ``<path>.json`` (ids, metadata,
settings); ``VectorIndex.load(path, mmap=True)`` maps the vectors instead of reading them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from lmbench.display import RichDisplay
from lmbench.errors import ConfigError, InputError
from lmbench.retrieval.hits import Hit, Hits

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Metric", "VectorIndex"]

Metric = Literal["cosine", "dot", "l2"]
_METRICS = ("cosine", "dot", "l2")
#: FAISS HNSW graph: neighbours per node, and the least search depth (raised for large k).
HNSW_NEIGHBOURS = 32
HNSW_SEARCH_DEPTH = 128
_MIN_CAPACITY = 1024

Where = Callable[[dict[str, Any]], bool] | Mapping[str, Any]


def _normalise(matrix: np.ndarray) -> np.ndarray:
    import numpy as np

    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms


def _matches(where: Where) -> Callable[[dict[str, Any] | None], bool]:
    """A predicate on one row's metadata: ``where`` itself, or equality on every key given
    (a list or set value matches any of its members)."""
    if callable(where):
        return lambda meta: bool(where(meta or {}))
    wanted = dict(where)

    def check(meta: dict[str, Any] | None) -> bool:
        if meta is None:
            return False
        for key, value in wanted.items():
            have = meta.get(key)
            if isinstance(value, (list, tuple, set, frozenset)):
                if have not in value:
                    return False
            elif have != value:
                return False
        return True

    return check


class VectorIndex(RichDisplay):
    """An exact vector index: ``add`` vectors with ids and metadata, ``search`` the nearest.

    >>> index = VectorIndex(384)
    >>> index.add(vectors, ids=["a", "b"], metadata=[{"src": "x"}, {"src": "y"}])
    >>> index.search(query_vector, k=3, where={"src": "x"})
    """

    def __init__(
        self,
        dim: int,
        metric: Metric = "cosine",
        *,
        backend: Literal["numpy", "faiss"] = "numpy",
    ) -> None:
        import numpy as np

        if not isinstance(dim, int) or isinstance(dim, bool) or dim < 1:
            raise ConfigError(
                f"VectorIndex(dim={dim!r}): dim is the vector length, a whole number >= 1"
            )
        if metric not in _METRICS:
            raise ConfigError(f"VectorIndex(metric={metric!r}): use one of {', '.join(_METRICS)}")
        if backend not in ("numpy", "faiss"):
            raise ConfigError(f"VectorIndex(backend={backend!r}): use 'numpy' or 'faiss'")
        self.dim = dim
        self.metric: Metric = metric
        self.backend = backend
        self._matrix = np.empty((0, dim), dtype=np.float32)
        self._size = 0
        self._sq_norms: np.ndarray | None = None  # l2 only, per row
        self._ids: list[Any] = []
        self._positions: dict[Any, int] = {}
        self._metadata: list[dict[str, Any] | None] = []
        self._texts: list[str | None] = []
        self._faiss: Any = None
        self._faiss_size = 0
        self._columns: dict[str, np.ndarray] = {}

    # -- adding -----------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._size

    @property
    def ids(self) -> list[Any]:
        return list(self._ids)

    @property
    def vectors(self) -> np.ndarray:
        """The stored vectors (normalised for cosine), a read-only view."""
        view = self._matrix[: self._size]
        view.flags.writeable = False
        return view

    def _as_rows(self, vectors: Any, what: str) -> np.ndarray:
        import numpy as np

        try:
            rows = np.asarray(vectors, dtype=np.float32)
        except (TypeError, ValueError) as exc:
            raise InputError(f"{what}: expected numbers, one row per vector ({exc})") from None
        if rows.ndim == 1:
            rows = rows.reshape(1, -1)
        if rows.ndim != 2 or rows.shape[1] != self.dim:
            raise InputError(
                f"{what}: expected vectors of length {self.dim} (shape (n, {self.dim})), got "
                f"shape {tuple(np.shape(vectors))}; the index was made with dim={self.dim}"
            )
        if not np.isfinite(rows).all():
            raise InputError(
                f"{what}: vectors contain NaN or infinity; check the embedder's output"
            )
        return rows

    def _reserve(self, extra: int) -> None:
        """Room for ``extra`` more rows, doubling the capacity (amortised growth)."""
        import numpy as np

        needed = self._size + extra
        capacity = self._matrix.shape[0]
        if needed <= capacity and self._matrix.flags.writeable:
            return
        new_capacity = max(needed, capacity * 2, _MIN_CAPACITY)
        grown = np.empty((new_capacity, self.dim), dtype=np.float32)
        grown[: self._size] = self._matrix[: self._size]
        self._matrix = grown
        if self._sq_norms is not None:
            norms = np.empty(new_capacity, dtype=np.float32)
            norms[: self._size] = self._sq_norms[: self._size]
            self._sq_norms = norms

    def add(
        self,
        vectors: Any,
        ids: Sequence[Any] | None = None,
        metadata: Sequence[dict[str, Any] | None] | None = None,
        *,
        texts: Sequence[str | None] | None = None,
    ) -> list[Any]:
        """Add ``vectors`` (shape ``(n, dim)``, or one vector); return their ids.

        ``ids`` default to consecutive numbers; an id already in the index is an error (and
        nothing is added). ``metadata`` and ``texts`` (the passages, for ``Retrieve``) give one
        entry per vector.
        """
        rows = self._as_rows(vectors, "VectorIndex.add(vectors)")
        n = rows.shape[0]
        new_ids = list(range(self._size, self._size + n)) if ids is None else list(ids)
        for name, given in (("ids", new_ids), ("metadata", metadata), ("texts", texts)):
            if given is not None and len(given) != n:
                raise InputError(
                    f"VectorIndex.add: {len(given)} {name} for {n} vectors; give one per vector"
                )
        seen: set[Any] = set()
        for item in new_ids:
            if item in self._positions or item in seen:
                raise InputError(
                    f"VectorIndex.add: id {item!r} is already in the index; ids must be unique"
                )
            seen.add(item)
        if metadata is not None:
            for item in metadata:
                if item is not None and not isinstance(item, dict):
                    raise InputError(
                        f"VectorIndex.add: metadata entries are dicts (or None), got {item!r}"
                    )
        if self.metric == "cosine":
            rows = _normalise(rows)
        self._reserve(n)
        start = self._size
        self._matrix[start : start + n] = rows
        if self.metric == "l2":
            import numpy as np

            if self._sq_norms is None:
                self._sq_norms = np.empty(self._matrix.shape[0], dtype=np.float32)
            self._sq_norms[start : start + n] = np.einsum("ij,ij->i", rows, rows)
        for offset, item in enumerate(new_ids):
            self._positions[item] = start + offset
        self._ids.extend(new_ids)
        self._metadata.extend(metadata if metadata is not None else [None] * n)
        self._texts.extend(texts if texts is not None else [None] * n)
        self._size += n
        return new_ids

    def get(self, id: Any) -> Hit:
        """The stored entry of ``id`` (score 1.0)."""
        position = self._positions.get(id)
        if position is None:
            raise KeyError(f"no id {id!r} in the index ({self._size} vectors)")
        return Hit(id, 1.0, self._metadata[position], self._texts[position])

    # -- searching ----------------------------------------------------------------------------
    def _use_faiss(self) -> bool:
        if self.backend == "numpy":
            return False
        try:
            import faiss  # noqa: F401
        except ImportError:
            raise ConfigError(
                "VectorIndex(backend='faiss') needs FAISS: pip install 'lmbench[faiss]' "
                "(or use backend='numpy', exact and fast up to a few hundred thousand vectors)"
            ) from None
        return True

    def _faiss_scores(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Approximate top ``k`` from a FAISS HNSW graph, grown with the rows added since."""
        import faiss
        import numpy as np

        if self._faiss is None:
            metric = faiss.METRIC_L2 if self.metric == "l2" else faiss.METRIC_INNER_PRODUCT
            self._faiss = faiss.IndexHNSWFlat(self.dim, HNSW_NEIGHBOURS, metric)
            self._faiss_size = 0
        if self._faiss_size < self._size:
            self._faiss.add(np.ascontiguousarray(self._matrix[self._faiss_size : self._size]))
            self._faiss_size = self._size
        self._faiss.hnsw.efSearch = max(HNSW_SEARCH_DEPTH, 4 * k)
        scores, positions = self._faiss.search(query.reshape(1, -1), k)
        keep = positions[0] >= 0
        if self.metric == "l2":  # FAISS gives squared distances; scores grow with similarity
            return positions[0][keep], -scores[0][keep]
        return positions[0][keep], scores[0][keep]

    def _scores(self, query: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
        matrix = self._matrix[: self._size] if rows is None else self._matrix[rows]
        scores = matrix @ query
        if self.metric == "l2":
            assert self._sq_norms is not None
            norms = self._sq_norms[: self._size] if rows is None else self._sq_norms[rows]
            scores = 2.0 * scores - norms - float(query @ query)
        return scores

    def _top(self, scores: np.ndarray, k: int) -> np.ndarray:
        """Positions of the ``k`` best scores, best first (argpartition, then k sorted)."""
        import numpy as np

        if k >= scores.shape[0]:
            return np.argsort(-scores, kind="stable")
        part = np.argpartition(-scores, k - 1)[:k]
        return part[np.argsort(-scores[part], kind="stable")]

    def search(self, query: Any, k: int = 10, where: Where | None = None) -> Hits:
        """The ``k`` nearest vectors to ``query``, best first.

        ``where`` keeps only rows whose metadata matches: a dict (every key equal; a list
        value matches any member) or a function of the metadata dict.
        """
        import numpy as np

        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            raise InputError(
                f"VectorIndex.search(k={k!r}): k is how many hits, a whole number >= 1"
            )
        vector = self._as_rows(query, "VectorIndex.search(query)")
        if vector.shape[0] != 1:
            raise InputError(
                f"VectorIndex.search: one query vector at a time, got {vector.shape[0]}; "
                "use search_many for several"
            )
        q = vector[0]
        if self.metric == "cosine":
            norm = float(np.linalg.norm(q))
            q = q / norm if norm else q
        if self._size == 0:
            return Hits([], metric=self.metric)
        rows: np.ndarray | None = None
        if where is not None:
            rows = self._rows_where(where)
            if rows.size == 0:
                return Hits([], metric=self.metric)
        if rows is None and self._use_faiss():
            positions, scores = self._faiss_scores(q, min(k, self._size))
        else:
            all_scores = self._scores(q, rows)
            top = self._top(all_scores, min(k, all_scores.shape[0]))
            scores = all_scores[top]
            positions = top if rows is None else rows[top]
        return Hits(
            [self._hit(int(p), float(s)) for p, s in zip(positions, scores, strict=True)],
            metric=self.metric,
        )

    def _column(self, key: str) -> np.ndarray:
        """Metadata ``key`` of every row as an object array (kept until the next ``add``)."""
        import numpy as np

        cached = self._columns.get(key)
        if cached is None or cached.shape[0] != self._size:
            cached = np.empty(self._size, dtype=object)
            cached[:] = [None if meta is None else meta.get(key) for meta in self._metadata]
            self._columns[key] = cached
        return cached

    def _rows_where(self, where: Where) -> np.ndarray:
        """Positions of the rows whose metadata matches ``where``. A dict of plain values is
        compared column by column on numpy; a function is called on each row's metadata."""
        import numpy as np

        plain = (str, int, float, bool, type(None))
        if callable(where) or not all(
            isinstance(v, plain)
            or (
                isinstance(v, (list, tuple, set, frozenset))
                and all(isinstance(x, plain) for x in v)
            )
            for v in where.values()
        ):
            check = _matches(where)
            return np.fromiter(
                (i for i, meta in enumerate(self._metadata) if check(meta)), dtype=np.int64
            )
        mask = np.array([meta is not None for meta in self._metadata], dtype=bool)
        for key, value in where.items():
            column = self._column(key)
            if isinstance(value, (list, tuple, set, frozenset)):
                either = np.zeros(self._size, dtype=bool)
                for option in value:
                    either |= column == option
                mask &= either
            else:
                mask &= column == value
        return np.flatnonzero(mask)

    def search_many(self, queries: Any, k: int = 10, where: Where | None = None) -> list[Hits]:
        """``search`` for each row of ``queries``."""
        rows = self._as_rows(queries, "VectorIndex.search_many(queries)")
        return [self.search(row, k=k, where=where) for row in rows]

    def _hit(self, position: int, score: float) -> Hit:
        return Hit(self._ids[position], score, self._metadata[position], self._texts[position])

    # -- saving -------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write ``<path>.npz`` and ``<path>.json``; return the ``.npz`` path."""
        from lmbench.retrieval.index_store import save_index

        return save_index(self, Path(path))

    @classmethod
    def load(cls, path: str | Path, *, mmap: bool | None = None) -> VectorIndex:
        """An index saved by ``save``. ``mmap`` maps the vectors from disk instead of reading
        them (default: for files over 256 MB); a mapped index copies them on its first ``add``."""
        from lmbench.retrieval.index_store import load_index

        return load_index(cls, Path(path), mmap=mmap)

    def _restore(
        self,
        matrix: np.ndarray,
        ids: list[Any],
        metadata: list[dict[str, Any] | None],
        texts: list[str | None],
    ) -> None:
        """Take over loaded rows (``index_store`` only)."""
        import numpy as np

        self._matrix = matrix
        self._size = matrix.shape[0]
        self._ids = ids
        self._positions = {item: i for i, item in enumerate(ids)}
        self._metadata = metadata
        self._texts = texts
        self._faiss = None
        self._columns = {}
        if self.metric == "l2":
            self._sq_norms = np.einsum("ij,ij->i", matrix, matrix).astype(np.float32)

    def _state(self) -> dict[str, Any]:
        """What ``index_store`` writes besides the vectors."""
        return {
            "dim": self.dim,
            "metric": self.metric,
            "backend": self.backend,
            "ids": self._ids,
            "metadata": self._metadata,
            "texts": self._texts,
        }

    def __deepcopy__(self, memo: dict[int, Any]) -> VectorIndex:
        """Copies of a program share its index (as they share LM clients), rather than each
        copying every vector."""
        return self

    def __repr__(self) -> str:
        return f"<VectorIndex {self._size} x {self.dim} {self.metric}>"

    def describe(self) -> Iterable[tuple[str, str]]:
        """Name/value pairs shown by the notebook rendering."""
        yield "vectors", f"{self._size:,}"
        yield "dimensions", str(self.dim)
        yield "metric", self.metric
        yield "memory", f"{self._size * self.dim * 4 / 1e6:,.1f} MB"
