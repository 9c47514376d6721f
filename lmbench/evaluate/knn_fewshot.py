"""``KNNFewShot``: demos chosen at call time, the training examples nearest to the inputs.

``KNNFewShot(k).compile(program, trainset)`` returns a ``NearestDemos`` program: on every call
it embeds the call's inputs, picks the ``k`` most similar training examples (``KNN``), gives
them as demos to every predictor they fit, and runs a copy of ``program`` with them. The
original program is left as it was; the embedder is the offline local one unless given.
"""

from __future__ import annotations

from typing import Any

from lmbench.errors import ConfigError
from lmbench.evaluate.data import Row, load_rows
from lmbench.evaluate.fewshot import _demo, _predictors, clone_program
from lmbench.modules.base import Module
from lmbench.modules.knn import KNN
from lmbench.retrieval.embedder import Embedder, resolve_embedder

__all__ = ["KNNFewShot", "NearestDemos"]


class NearestDemos(Module):
    """``program`` run with the ``k`` training examples nearest to each call's inputs as demos."""

    def __init__(self, program: Any, rows: list[Row], knn: KNN) -> None:
        self.program = program
        self.rows = rows
        self.knn = knn

    def demos_for(self, **inputs: Any) -> list[Row]:
        """The training rows that become demos for ``inputs``, nearest first."""
        by_example = {
            id(example): row for row, example in zip(self.rows, self.knn.trainset, strict=True)
        }
        return [by_example[id(example)] for example in self.knn(**inputs)]

    def forward(self, **inputs: Any) -> Any:
        nearest = self.demos_for(**inputs)
        program = clone_program(self.program)  # one copy a call: concurrent calls stay apart
        for _path, predictor in _predictors(program):
            predictor.demos = [
                d for d in (_demo(row, predictor) for row in nearest) if d is not None
            ]
        return program(**inputs)

    def __repr__(self) -> str:
        return f"NearestDemos({type(self.program).__name__}, k={self.knn.k}, {len(self.rows)} examples)"


class KNNFewShot:
    """Per-call demos by similarity (see the module docstring)."""

    def __init__(self, k: int = 3, embedder: Embedder | str | None = None) -> None:
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            raise ConfigError(f"KNNFewShot(k={k!r}): k is the number of demos, at least 1")
        self.k = k
        self.embedder = embedder

    def compile(self, program: Any, trainset: Any) -> NearestDemos:
        rows = load_rows(trainset, program)
        if not rows:
            raise ConfigError("KNNFewShot.compile: the trainset is empty")
        _predictors(program)  # a program without predictors is refused here, not at call time
        knn = KNN(self.k, [row.example() for row in rows], resolve_embedder(self.embedder))
        return NearestDemos(clone_program(program), rows, knn)

    def __repr__(self) -> str:
        return f"KNNFewShot(k={self.k})"
