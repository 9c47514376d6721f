"""``KNN``: the training examples most similar to the current inputs, as demos.

    knn = KNN(3, trainset)                 # trainset: Examples with inputs marked
    demos = knn(question="...")            # the 3 nearest examples
    qa(question="...", demos=demos)

An example is embedded as its input fields, one ``name: value`` line each (the fields
marked by ``with_inputs``, or ``input_keys=``); the query is the same lines of the call's
inputs, so similar questions find each other. The trainset is embedded on the first call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lmbench.errors import ConfigError, InputError
from lmbench.primitives.example import Example
from lmbench.retrieval.embedder import Embedder, resolve_embedder
from lmbench.retrieval.index import VectorIndex

__all__ = ["KNN"]


def _as_example(position: int, item: Any) -> Example:
    if isinstance(item, Example):
        return item
    if isinstance(item, Mapping):
        return Example(item)
    raise InputError(f"trainset[{position}] is {type(item).__name__}: give Examples or dicts")


class KNN:
    """Picks the ``k`` examples of ``trainset`` nearest to the inputs of each call."""

    def __init__(
        self,
        k: int,
        trainset: Sequence[Example | Mapping[str, Any]],
        embedder: Embedder | str | None = None,
        *,
        input_keys: Sequence[str] | None = None,
    ) -> None:
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            raise ConfigError(f"KNN(k={k!r}): k is how many demos, a whole number >= 1")
        self.k = k
        self.trainset = [_as_example(i, item) for i, item in enumerate(trainset)]
        if not self.trainset:
            raise InputError("KNN: the trainset is empty; give at least one example")
        self.embedder = resolve_embedder(embedder)
        self.input_keys = tuple(input_keys) if input_keys is not None else None
        self._index: VectorIndex | None = None

    def _keys(self, example: Example) -> tuple[str, ...]:
        if self.input_keys is not None:
            return self.input_keys
        if example.input_keys is not None:
            return tuple(k for k in example if k in example.input_keys)
        raise InputError(
            "KNN: the trainset's examples have no inputs marked; call .with_inputs('field', ...) "
            "on them or pass input_keys=('field', ...)"
        )

    @staticmethod
    def _text(values: Mapping[str, Any], keys: Sequence[str]) -> str:
        return "\n".join(f"{key}: {values[key]}" for key in keys if key in values)

    def _build(self) -> VectorIndex:
        if self._index is None:
            texts = [self._text(ex, self._keys(ex)) for ex in self.trainset]
            vectors = self.embedder.embed(texts, input_type="document")
            index = VectorIndex(vectors.shape[1])
            index.add(vectors)
            self._index = index
        return self._index

    def __call__(self, **inputs: Any) -> list[Example]:
        """The ``k`` nearest examples to ``inputs``, nearest first."""
        index = self._build()
        keys = self.input_keys or self._keys(self.trainset[0])
        missing = [key for key in keys if key not in inputs]
        if len(missing) == len(keys):
            raise InputError(
                f"KNN: the call gives none of the input fields {list(keys)} (got {sorted(inputs)})"
            )
        query = self.embedder.embed([self._text(inputs, keys)], input_type="query")[0]
        hits = index.search(query, k=self.k)
        return [self.trainset[hit.id] for hit in hits]

    def __repr__(self) -> str:
        return f"KNN(k={self.k}, {len(self.trainset)} examples, embedder={self.embedder.name})"
