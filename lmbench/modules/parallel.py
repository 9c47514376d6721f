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

``results.usage`` and ``results.cost`` total every LM call of the batch (``results.call`` is
its node in the call tree). ``Parallel(...).stream(pairs)`` yields the items' events as they
come (interleaved), then the results.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lmbench.calls import module_call
from lmbench.errors import ConfigError, InputError, RunsFailed, describe_error
from lmbench.modules.base import Module, attached
from lmbench.modules.best_of_n import FATAL_ERRORS
from lmbench.modules.running import Outcome, concurrently, sub_call
from lmbench.primitives.example import Example
from lmbench.steps import Steps

if TYPE_CHECKING:
    from lmbench.calls import ModuleCall
    from lmbench.lm.types import Usage

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

    def __init__(
        self,
        results: Iterable[Any],
        errors: Sequence[ItemError],
        call: ModuleCall | None = None,
    ) -> None:
        super().__init__(results)
        self.errors: list[ItemError] = sorted(errors, key=lambda e: e.index)
        self.call = call

    @property
    def usage(self) -> Usage:
        """Tokens of every LM call of the batch (cache hits excluded)."""
        from lmbench.lm.types import Usage

        return self.call.usage if self.call is not None else Usage()

    @property
    def cost(self) -> float | None:
        """USD of every LM call of the batch; None when a model's price is unknown."""
        return self.call.cost if self.call is not None else 0.0

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

    def stream(self, pairs: Iterable[tuple[Any, Any]]) -> Iterator[Any]:  # type: ignore[override]
        """The items' events as they come, then the ``ParallelResults``."""
        return super().stream(pairs=pairs)

    def astream(self, pairs: Iterable[tuple[Any, Any]]) -> AsyncIterator[Any]:  # type: ignore[override]
        return super().astream(pairs=pairs)

    def _steps(self, inputs: dict[str, Any], streaming: bool) -> Steps[ParallelResults]:
        work = [_checked_pair(i, pair) for i, pair in enumerate(inputs["pairs"])]
        errors: list[ItemError] = []

        def check(outcome: Outcome) -> bool:
            error = outcome.error
            if error is None:
                return False
            if isinstance(error, FATAL_ERRORS):
                raise error
            errors.append(ItemError(outcome.index, work[outcome.index][1], error))
            if self.max_errors is not None and len(errors) > self.max_errors:
                raise RunsFailed(
                    f"{len(errors)} of {len(work)} items failed, more than "
                    f"max_errors={self.max_errors}; the rest were cancelled. Last error: "
                    f"{describe_error(error)}",
                    errors=[e.error for e in errors],
                ) from error
            return False

        with module_call("Parallel", callbacks=self.callbacks) as node:
            bodies = [functools.partial(sub_call, module, kwargs) for module, kwargs in work]
            outcomes = yield from concurrently(
                bodies, workers=self.num_threads, streaming=streaming, check=check
            )
            results = [o.value if o is not None and o.error is None else None for o in outcomes]
            return attached(ParallelResults(results, errors), node)

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
