"""Rows on a Dask cluster (``executor="dask"`` or a ``dask.distributed.Client``).

The rows are cut into partitions, a few per worker. The payload (see ``transport``) is
scattered to the workers once; each partition task unpacks it (once per worker process),
runs its rows on a pool of threads under the driver's settings, and sends back its row
results and the history entries its calls made (redacted, as JSON-able dicts). The driver
puts results in row order, adds the entries to its own history collector (costs included,
charged to its budgets), and advances the progress bar as partitions finish.

Point ``executor`` at a real cluster with ``Client("tcp://scheduler-host:8786")``; the
workers need lmbench installed and, for remote models, the API keys in their environment.
"""

from __future__ import annotations

import math
import pickle
from typing import Any

from lmbench.errors import ConfigError, RunsFailed, describe_error
from lmbench.evaluate.data import Row
from lmbench.evaluate.executors.threads import Stopped, run_threads
from lmbench.evaluate.rows import RowResult, RowTask
from lmbench.observe.collectors import Collector
from lmbench.progress import RunProgress

__all__ = ["partition", "resolve_client", "run_dask", "run_partition"]

PARTITIONS_PER_SLOT = 4


def resolve_client(executor: Any) -> Any:
    """The Dask client for ``executor``: a ``Client`` as given, or for ``"dask"`` the
    current default client."""
    try:
        from distributed import Client, default_client
    except ImportError:
        raise ConfigError(
            "executor='dask' needs dask.distributed: pip install 'lmbench[dask]'"
        ) from None
    if isinstance(executor, Client):
        return executor
    if executor != "dask":
        raise ConfigError(
            f"executor={executor!r}: use 'threads', 'dask', or a dask.distributed.Client"
        )
    try:
        return default_client()
    except ValueError:
        raise ConfigError(
            "executor='dask' found no Dask client: create one first, e.g. "
            "Client('tcp://scheduler-host:8786') for a cluster or Client(LocalCluster()) on "
            "this machine, or pass executor=client"
        ) from None


def partition(count: int, slots: int, threads: int) -> list[range]:
    """Row ranges: about ``PARTITIONS_PER_SLOT`` per task slot of the cluster, each a
    multiple of the threads a task runs (so no thread idles in the last round) when there
    are rows enough."""
    if count == 0:
        return []
    target = math.ceil(count / (max(1, slots) * PARTITIONS_PER_SLOT))
    size = max(threads, math.ceil(target / threads) * threads) if target >= threads else target
    return [range(start, min(start + size, count)) for start in range(0, count, size)]


def _portable(error: BaseException) -> BaseException:
    """``error`` if it survives pickling (to travel to the driver), else a RuntimeError."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return RuntimeError(describe_error(error))
    return error


class _ShippingCollector(Collector):
    """Turns each entry into its (redacted) dict as it arrives, in the row's own thread, so
    the work overlaps other rows' waits instead of holding up the end of the partition."""

    def __init__(self) -> None:
        self.shipped: list[dict[str, Any]] = []

    def add(self, entry: Any) -> None:
        self.shipped.append(entry.to_dict())  # list.append is atomic under the GIL

    def entries(self) -> list[Any]:
        return []

    def clear(self) -> None:
        self.shipped.clear()


def run_partition(
    payload: bytes, rows: list[Row], first: int, threads: int
) -> tuple[list[RowResult], list[dict[str, Any]], BaseException | None]:
    """On a worker: run ``rows`` (positions from ``first``); results, history entries, and
    the error that stopped them early, if any."""
    from lmbench.evaluate.executors.transport import loads_task, worker_settings

    task, settings = loads_task(payload)
    collector = _ShippingCollector()
    stopped: BaseException | None = None
    with worker_settings(settings, collector):
        try:
            results = run_threads(task, rows, threads=threads, first_position=first)
        except Stopped as stop:
            results, stopped = stop.results, _portable(stop.cause)
    return [r.shipped() for r in results], collector.shipped, stopped


def _gather_entries(entries: list[dict[str, Any]]) -> None:
    """Add a worker's entries to this process's history and charge its budgets."""
    from lmbench.calls.budget import active_budgets
    from lmbench.observe.collectors import resolve_collector
    from lmbench.observe.entry import HistoryEntry
    from lmbench.settings import current

    collector = resolve_collector(current().history)
    budgets = active_budgets()
    for data in entries:
        entry = HistoryEntry.from_dict(data)
        collector.add(entry)
        if budgets and entry.kind == "lm" and entry.cache not in ("memory", "disk"):
            for limit in budgets:
                limit.charge(
                    tokens=entry.usage.total_tokens,
                    usd=entry.cost_usd,
                    model=f"{entry.provider}/{entry.model}",
                )


def run_dask(
    task: RowTask,
    rows: list[Row],
    executor: Any,
    *,
    threads: int,
    max_errors: int | None,
    bar: RunProgress,
) -> list[RowResult]:
    """Run ``rows`` on the cluster; results in row order. Raises ``Stopped`` like
    ``run_threads``."""
    client = resolve_client(executor)
    from distributed import as_completed

    from lmbench.evaluate.executors.transport import pack_task

    # task slots: the threads each worker runs tasks on; the rows in flight (``threads``)
    # are shared among them, so partitions on one worker overlap instead of waiting in line
    workers = client.scheduler_info(n_workers=-1).get("workers", {}).values()
    slots = max(1, sum(int(w.get("nthreads", 1)) for w in workers))
    per_task = max(1, math.ceil(threads / slots))
    payload = client.scatter(pack_task(task), broadcast=True)
    futures = {
        client.submit(
            run_partition,
            payload,
            [rows[i] for i in span],
            span.start,
            per_task,
            pure=False,
        ): span
        for span in partition(len(rows), slots, per_task)
    }
    results: list[RowResult | None] = [None] * len(rows)
    errors = 0
    stop: BaseException | None = None
    completed = as_completed(futures)
    try:
        for future in completed:
            try:
                done, entries, stopped = future.result()
            except Exception as exc:  # the task itself failed (a worker died, unpickling...)
                stop = stop or exc
                continue
            for result in done:
                results[result.position] = result
            _gather_entries(entries)
            failed = sum(1 for r in done if r.error is not None)
            errors += failed
            bar.advance(len(done), errors=failed)
            if stopped is not None:
                stop = stop or stopped
            elif max_errors is not None and errors > max_errors:
                stop = stop or RunsFailed(
                    f"{errors} of {len(rows)} rows failed, more than max_errors={max_errors}; "
                    "the run stopped",
                    errors=[],
                )
            if stop is not None:
                break
    except BaseException as exc:  # Ctrl-C or a budget crossed while gathering
        stop = stop or exc
    finally:
        if stop is not None:
            client.cancel(list(futures))
    finished = [r for r in results if r is not None]
    if stop is not None:
        raise Stopped(stop, finished)
    return finished
