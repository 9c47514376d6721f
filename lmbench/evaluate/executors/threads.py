"""Rows on a pool of threads in this process (the default executor).

Each thread runs in a copy of the caller's context, so ``configure``/``context`` settings,
the run id and budgets apply inside, and takes the next row from a shared counter (no future
per row: the per-row overhead stays a few microseconds). Results land at their row's place.
"""

from __future__ import annotations

import contextvars
import itertools
import threading
from collections.abc import Callable, Sequence

from lmbench.errors import RunsFailed
from lmbench.evaluate.data import Row
from lmbench.evaluate.rows import RowResult, RowTask

__all__ = ["Stopped", "run_threads"]

OnDone = Callable[[RowResult], None]


class Stopped(Exception):
    """A run ended early: ``cause`` is the error to raise, ``results`` the rows that finished."""

    def __init__(self, cause: BaseException, results: list[RowResult]) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.results = results


class _ErrorCount:
    def __init__(self, limit: int | None, total: int) -> None:
        self.limit = limit
        self.total = total
        self.count = 0
        self._lock = threading.Lock()

    def add(self, result: RowResult) -> RunsFailed | None:
        """Count a failed row; the error to stop with once more than ``limit`` failed."""
        if result.error is None or self.limit is None:
            return None
        with self._lock:
            self.count += 1
            if self.count <= self.limit:
                return None
        return RunsFailed(
            f"{self.count} of {self.total} rows failed, more than max_errors={self.limit}; "
            f"the run stopped. Last error: {result.error}",
            errors=[result.exception] if result.exception is not None else [],
        )


def run_threads(
    task: RowTask,
    rows: Sequence[Row],
    *,
    threads: int,
    on_done: OnDone | None = None,
    max_errors: int | None = None,
    first_position: int = 0,
) -> list[RowResult]:
    """Run every row; results in row order. Raises ``Stopped`` when a fatal error or too
    many failed rows end the run (rows in flight finish first)."""
    results: list[RowResult | None] = [None] * len(rows)
    errors = _ErrorCount(max_errors, len(rows))
    stop: list[BaseException] = []
    claim = itertools.count()  # next() on a count is atomic under the GIL

    def work() -> None:
        while not stop:
            i = next(claim)
            if i >= len(rows):
                return
            try:
                result = task.run(rows[i], first_position + i)
            except BaseException as exc:  # fatal for the whole run
                stop.append(exc)
                return
            results[i] = result
            if on_done is not None:
                on_done(result)
            failure = errors.add(result)
            if failure is not None:
                stop.append(failure)

    count = max(1, min(threads, len(rows)))
    if count == 1:
        work()
    else:
        pool = [
            threading.Thread(target=contextvars.copy_context().run, args=(work,), daemon=True)
            for _ in range(count)
        ]
        for thread in pool:
            thread.start()
        try:
            for thread in pool:
                thread.join()
        except BaseException as exc:  # Ctrl-C: let the threads finish their rows and stop
            stop.append(exc)
            for thread in pool:
                thread.join()
    finished = [r for r in results if r is not None]
    if stop:
        raise Stopped(stop[0], finished)
    return finished
