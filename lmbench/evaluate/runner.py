"""``evaluate`` and ``batch``: run a program over rows, on threads or on a Dask cluster.

::

    result = lmbench.evaluate(qa, df, metrics.exact_match)          # EvalResult
    result.score, result.frame(), result.totals

    outputs = lmbench.batch(qa, df, executor="dask")                # BatchResult, row order

A run gets a run id: its LM calls, module calls and one ``"eval"`` entry per row carry it in
history, so ``lmbench.history.frame()`` groups by ``run_id`` and ``load_run(run_id)`` rebuilds
the result later from a JSONL or SQLite history. Rows that fail keep their error (scored
``failure_score``); the run stops early only past ``max_errors`` failed rows or on an error no
other row could avoid (configuration, authentication, budget): then the rows done so far
are kept on the raised error as ``error.partial_result``.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from lmbench.errors import ConfigError
from lmbench.evaluate.data import Row, load_rows
from lmbench.evaluate.executors.threads import Stopped, run_threads
from lmbench.evaluate.result import BatchResult, EvalResult
from lmbench.evaluate.rows import RowResult, RowTask
from lmbench.evaluate.runs import record_summary
from lmbench.metrics import metric_name, resolve_metric
from lmbench.progress import RunProgress
from lmbench.settings import context

__all__ = ["batch", "evaluate", "new_run_id", "program_name"]

DEFAULT_THREADS = 8


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


def program_name(program: Any) -> str:
    signature = getattr(program, "signature", None)
    kind = getattr(program, "__name__", None) or type(program).__name__  # a function, a module
    return f"{kind}({signature})" if signature is not None else kind


def _output_names(program: Any) -> list[str]:
    signature = getattr(program, "signature", None)
    outputs = getattr(signature, "output_fields", None)
    return list(outputs) if outputs else []


@contextlib.contextmanager
def _budget(limit: Any) -> Iterator[None]:
    if limit is None:
        yield
        return
    from lmbench.calls.budget import budget

    if isinstance(limit, (int, float)):
        limit = {"usd": float(limit)}
    if not isinstance(limit, Mapping):
        raise ConfigError(
            f"budget={limit!r}: pass a USD amount (budget=0.50) or a dict like "
            "{'usd': 0.5, 'tokens': 100_000}"
        )
    with budget(**limit):
        yield


def _check_threads(threads: int) -> int:
    if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
        raise ConfigError(f"threads={threads!r}: pass a whole number of threads, at least 1")
    return threads


def _execute(
    task: RowTask,
    rows: list[Row],
    *,
    executor: Any,
    threads: int,
    max_errors: int | None,
    bar: RunProgress,
) -> list[RowResult]:
    if executor is None or executor == "threads":

        def done(result: RowResult) -> None:
            bar.advance(1, errors=result.error is not None)

        shown = done if bar.showing else None
        return run_threads(task, rows, threads=threads, on_done=shown, max_errors=max_errors)
    from lmbench.evaluate.executors.dask import run_dask

    return run_dask(task, rows, executor, threads=threads, max_errors=max_errors, bar=bar)


def _run(
    program: Any,
    data: Any,
    task: RowTask,
    *,
    executor: Any,
    threads: int,
    progress: bool,
    max_errors: int | None,
    budget: Any,
    constants: Mapping[str, Any] | None,
    make_result: Callable[[list[RowResult], str, float, str], Any],
    description: str,
) -> Any:
    if max_errors is not None and (not isinstance(max_errors, int) or max_errors < 0):
        raise ConfigError(f"max_errors={max_errors!r} must be a whole number >= 0, or None")
    rows = load_rows(data, program, constants)
    run_id = new_run_id()
    executor_name = "threads" if executor in (None, "threads") else "dask"
    started = time.perf_counter()
    bar = RunProgress(len(rows), description=description, enabled=progress)
    try:
        with context(run_id=run_id), _budget(budget):
            results = _execute(
                task,
                rows,
                executor=executor,
                threads=_check_threads(threads),
                max_errors=max_errors,
                bar=bar,
            )
    except Stopped as stopped:
        partial = make_result(stopped.results, run_id, time.perf_counter() - started, executor_name)
        record_summary(partial, run_id, stopped=str(stopped.cause))
        stopped.cause.partial_result = partial  # type: ignore[attr-defined]
        raise stopped.cause from None
    finally:
        bar.close()
    result = make_result(results, run_id, time.perf_counter() - started, executor_name)
    record_summary(result, run_id)
    return result


def evaluate(
    program: Any,
    data: Any,
    metric: Any,
    *,
    threads: int = DEFAULT_THREADS,
    executor: Any = None,
    progress: bool = True,
    budget: Any = None,
    max_errors: int | None = None,
    failure_score: float | None = 0.0,
    constants: Mapping[str, Any] | None = None,
    call_kwargs: Mapping[str, Any] | None = None,
    name: str | None = None,
) -> EvalResult:
    """Run ``program`` over ``data`` and score each row with ``metric(example, prediction)``.

    ``data``: a DataFrame, a list of Examples or dicts, or a CSV/JSONL path; columns named
    like the program's inputs are inputs, the others labels. ``metric``: a function
    returning a float (0..1) or bool, or a built-in name (``"exact_match"``, ``"f1"``,
    ``"contains"``, ``"numeric"``). ``executor``: ``"threads"`` (default), ``"dask"`` (the
    current ``dask.distributed`` client) or a ``Client``; ``threads``: rows in flight at once
    (on Dask, spread over the workers). ``failure_score``: the score of a
    row whose program or metric failed (None leaves it out of the mean). ``budget``: USD
    (or ``{"usd": ..., "tokens": ...}``) the whole run may spend.
    """
    chosen = resolve_metric(metric)
    task = RowTask(
        program,
        chosen,
        dict(call_kwargs or {}),
        program_name(program),
        metric_name(chosen),
        failure_score,
    )
    outputs = _output_names(program)

    def make(rows: list[RowResult], run_id: str, duration: float, where: str) -> EvalResult:
        return EvalResult(
            rows,
            metric_name=task.metric_name or "metric",
            run_id=run_id,
            program_name=task.program_name,
            output_names=outputs,
            duration_s=duration,
            executor=where,
            name=name,
        )

    return _run(
        program,
        data,
        task,
        executor=executor,
        threads=threads,
        progress=progress,
        max_errors=max_errors,
        budget=budget,
        constants=constants,
        make_result=make,
        description=name or "evaluate",
    )


def batch(
    program: Any,
    data: Any,
    *,
    executor: Any = "threads",
    threads: int = DEFAULT_THREADS,
    progress: bool = True,
    max_errors: int | None = None,
    budget: Any = None,
    constants: Mapping[str, Any] | None = None,
    call_kwargs: Mapping[str, Any] | None = None,
    description: str = "rows",
) -> BatchResult:
    """Call ``program`` once per row of ``data``: the outputs in row order (None where a row
    failed), with ``.rows``, ``.errors``, ``.totals`` and ``.frame()``. The batch entry point
    for threads and Dask alike (``executor=`` as in ``evaluate``)."""
    task = RowTask(program, None, dict(call_kwargs or {}), program_name(program))
    outputs = _output_names(program)

    def make(rows: list[RowResult], run_id: str, duration: float, where: str) -> BatchResult:
        return BatchResult(
            rows,
            run_id=run_id,
            program_name=task.program_name,
            output_names=outputs,
            duration_s=duration,
            executor=where,
            constants=frozenset(constants or ()),
        )

    return _run(
        program,
        data,
        task,
        executor=executor,
        threads=threads,
        progress=progress,
        max_errors=max_errors,
        budget=budget,
        constants=constants,
        make_result=make,
        description=description,
    )
