"""``Parallel``: run many module calls on a thread pool, results in input order.

::

    qa = Predict("question -> answer")
    results = Parallel(num_threads=4)([(qa, {"question": q}) for q in questions])
    results[0].answer               # results keep the order of the inputs
    results.errors                  # [ItemError(index=..., inputs=..., error=...)] for failures

    outputs = lmbench.batch(qa, [{"question": q} for q in questions], threads=4)

Each item runs in a copy of the caller's context (``contextvars.copy_context``), so
``lmbench.context(...)`` settings and the enclosing call-tree node apply inside the threads.
A failed item leaves ``None`` at its place and an ``ItemError`` in ``results.errors``.
When more than ``max_errors`` items have failed, the remaining ones are cancelled and
``RunsFailed`` is raised; errors that no other item could avoid (bad configuration,
authentication, an exhausted budget) are raised at once. Inputs are mappings of keyword
inputs, or ``Example`` objects (only the fields marked with ``with_inputs`` are passed).
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from lmbench.errors import ConfigError, InputError, RunsFailed, describe_error
from lmbench.modules.base import Module
from lmbench.modules.best_of_n import FATAL_ERRORS
from lmbench.primitives.example import Example

__all__ = ["ItemError", "Parallel", "ParallelResults", "parallel_map"]

DEFAULT_THREADS = 4


@dataclass(frozen=True)
class ItemError:
    """A failed item: where it was in the input, what it was called with, what it raised."""

    index: int
    inputs: dict[str, Any]
    error: BaseException


class ParallelResults(list[Any]):
    """The results in input order (``None`` for failed items), with ``errors`` alongside."""

    def __init__(self, results: Iterable[Any], errors: Sequence[ItemError]) -> None:
        super().__init__(results)
        self.errors: list[ItemError] = sorted(errors, key=lambda e: e.index)

    @property
    def failed_inputs(self) -> list[dict[str, Any]]:
        """The inputs of the failed items, to run them again."""
        return [e.inputs for e in self.errors]


class Parallel(Module):
    """Runs ``(module, inputs)`` pairs concurrently; see the module docstring."""

    def __init__(
        self, num_threads: int = DEFAULT_THREADS, *, max_errors: int | None = None
    ) -> None:
        if not isinstance(num_threads, int) or num_threads < 1:
            raise ConfigError(f"num_threads={num_threads!r}: Parallel needs at least one thread")
        if max_errors is not None and max_errors < 0:
            raise ConfigError(f"max_errors={max_errors!r} must be >= 0, or None for no limit")
        self.num_threads = num_threads
        self.max_errors = max_errors

    def __call__(self, pairs: Iterable[tuple[Any, Any]]) -> ParallelResults:  # type: ignore[override]
        return super().__call__(pairs=pairs)

    async def acall(self, pairs: Iterable[tuple[Any, Any]]) -> ParallelResults:  # type: ignore[override]
        """``Parallel(...)(pairs)`` from async code: the threads run without blocking the loop."""
        return await super().acall(pairs=pairs)

    def forward(self, pairs: Iterable[tuple[Any, Any]]) -> ParallelResults:  # type: ignore[override]
        work = [_checked_pair(i, pair) for i, pair in enumerate(pairs)]
        results: list[Any] = [None] * len(work)
        errors: list[ItemError] = []
        pool = ThreadPoolExecutor(max_workers=min(self.num_threads, max(1, len(work))))
        try:
            pending: dict[Future[Any], int] = {
                pool.submit(contextvars.copy_context().run, module, **inputs): index
                for index, (module, inputs) in enumerate(work)
            }
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    index = pending.pop(future)
                    error = future.exception()
                    if error is None:
                        results[index] = future.result()
                        continue
                    if isinstance(error, FATAL_ERRORS):
                        raise error
                    errors.append(ItemError(index, work[index][1], error))
                    if self.max_errors is not None and len(errors) > self.max_errors:
                        raise RunsFailed(
                            f"{len(errors)} of {len(work)} items failed, more than "
                            f"max_errors={self.max_errors}; the rest were cancelled. Last error: "
                            f"{describe_error(error)}",
                            errors=[e.error for e in errors],
                        ) from error
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return ParallelResults(results, errors)

    def __repr__(self) -> str:
        return f"Parallel(num_threads={self.num_threads}, max_errors={self.max_errors})"


def parallel_map(
    module: Any,
    inputs: Iterable[Mapping[str, Any]],
    *,
    num_threads: int = DEFAULT_THREADS,
    max_errors: int | None = None,
) -> ParallelResults:
    """Deprecated: ``lmbench.batch(module, inputs, threads=...)`` is the batch entry point."""
    import warnings

    warnings.warn(
        "parallel_map is deprecated and will be removed in the next release: use "
        "lmbench.batch(module, inputs, threads=N)",
        DeprecationWarning,
        stacklevel=2,
    )
    return Parallel(num_threads, max_errors=max_errors)([(module, item) for item in inputs])


def _checked_pair(index: int, pair: Any) -> tuple[Any, dict[str, Any]]:
    if not isinstance(pair, tuple) or len(pair) != 2:
        raise InputError(
            f"Parallel item {index} is {pair!r}; each item must be a (module, inputs) pair"
        )
    module, inputs = pair
    if not callable(module):
        raise InputError(f"Parallel item {index}: {module!r} is not a module (not callable)")
    if isinstance(inputs, Example) and inputs.input_keys is not None:
        return module, inputs.inputs().to_dict()
    if not isinstance(inputs, Mapping):
        raise InputError(
            f"Parallel item {index}: inputs {inputs!r} ({type(inputs).__name__}) must be a mapping "
            "of input names to values, or an Example"
        )
    return module, dict(inputs)
