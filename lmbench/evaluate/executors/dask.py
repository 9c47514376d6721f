"""Rows on a Dask cluster (``executor="dask"`` or a ``dask.distributed.Client``).

The rows are cut into partitions, a few per worker. The payload (see ``transport``) is
scattered to the workers once; each partition task unpacks it (once per worker process),
runs its rows on a pool of threads under the driver's settings, and sends back its row
results, the history entries its calls made (redacted, as JSON-able dicts) and, when the
driver has callbacks, the events of its rows (see ``events``). The driver puts results in
row order, adds the entries to its own history collector, tells its callbacks the events,
and advances the progress bar as partitions finish.

Under a budget, each partition is sent with a share of what is left, reserved on the driver
before it goes, and settled to its calls' real cost when it returns (see ``shares``): rows a
share could not pay for are sent again once budget is free, and the run stops when none is.

Point ``executor`` at a real cluster with ``Client("tcp://scheduler-host:8786")``; the
workers need lmbench installed and, for remote models, the API keys in their environment.
"""

from __future__ import annotations

import contextlib
import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from lmbench.calls.budget import Reservation
from lmbench.errors import BudgetExceeded, ConfigError, RunsFailed
from lmbench.evaluate.data import Row
from lmbench.evaluate.executors.events import (
    PositionedTask,
    Recorded,
    RowEvents,
    deliver,
    portable_error,
)
from lmbench.evaluate.executors.shares import Refused, ShareLimit, Shares
from lmbench.evaluate.executors.threads import Stopped, run_threads
from lmbench.evaluate.rows import RowResult, RowTask
from lmbench.observe.collectors import Collector
from lmbench.observe.entry import HistoryEntry
from lmbench.progress import RunProgress

__all__ = ["Partition", "partition", "resolve_client", "run_dask", "run_partition"]

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


def partition(count: int, slots: int, threads: int) -> list[Sequence[int]]:
    """Row ranges: about ``PARTITIONS_PER_SLOT`` per task slot of the cluster, each a
    multiple of the threads a task runs (so no thread idles in the last round) when there
    are rows enough."""
    if count == 0:
        return []
    target = math.ceil(count / (max(1, slots) * PARTITIONS_PER_SLOT))
    size = max(threads, math.ceil(target / threads) * threads) if target >= threads else target
    return [range(start, min(start + size, count)) for start in range(0, count, size)]


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


@dataclass
class Partition:
    """What a partition task sends back: its finished rows, their history entries and
    callback events, the error that stopped it early (if any), and the call its budget
    share refused (if that is what stopped it: its other rows are to be sent again)."""

    results: list[RowResult]
    entries: list[dict[str, Any]]
    stopped: BaseException | None = None
    events: list[Recorded] = field(default_factory=list)
    refused: Refused | None = None


def _without_rows(shipped: Partition, undone: set[int]) -> None:
    """Drop what the rows in ``undone`` left (they run again): their events, and their entries
    but for the calls that were billed (history keeps what was spent)."""
    roots = {
        data["root_id"]
        for data in shipped.entries
        if data["kind"] == "eval"
        and (data.get("metadata") or {}).get("row", {}).get("position") in undone
    }
    shipped.entries = [
        data
        for data in shipped.entries
        if data["root_id"] not in roots
        or (data["kind"] not in ("module", "eval") and data.get("response"))
    ]
    shipped.events = [event for event in shipped.events if event[0] not in undone]


def run_partition(
    payload: bytes,
    rows: list[Row],
    positions: Sequence[int],
    threads: int,
    events: bool = False,
    share: ShareLimit | None = None,
) -> Partition:
    """On a worker: run ``rows`` (``positions`` in the run), recording callback events when
    ``events``, within the budget ``share`` when one is given."""
    from lmbench.evaluate.executors.transport import loads_task, worker_settings

    task, settings = loads_task(payload)
    collector = _ShippingCollector()
    recorder = RowEvents() if events else None
    shipped = Partition([], collector.shipped, events=recorder.events if recorder else [])
    with (
        worker_settings(settings, collector, (recorder,) if recorder else ()),
        share.applied() if share is not None else contextlib.nullcontext() as held,
    ):
        try:
            results = run_threads(PositionedTask(task, positions), rows, threads=threads)
        except Stopped as stop:
            results, shipped.stopped = stop.results, portable_error(stop.cause)
    shipped.results = [r.shipped() for r in results]
    refused = held.refused if held is not None else None
    if refused is not None and isinstance(shipped.stopped, BudgetExceeded):
        shipped.refused, shipped.stopped = refused, None
        _without_rows(shipped, set(positions) - {r.position for r in results})
    return shipped


def _gather_entries(entries: list[dict[str, Any]]) -> dict[str, HistoryEntry]:
    """Add a worker's entries to this process's history; by call id."""
    from lmbench.observe.collectors import resolve_collector
    from lmbench.settings import current

    collector = resolve_collector(current().history)
    gathered: dict[str, HistoryEntry] = {}
    for data in entries:
        entry = HistoryEntry.from_dict(data)
        collector.add(entry)
        gathered[entry.call_id] = entry
    return gathered


@dataclass
class _Sent:
    positions: Sequence[int]
    held: Reservation | None


class _Run:
    """The driver's side of one run: partitions to send, in flight and back."""

    def __init__(
        self,
        client: Any,
        rows: list[Row],
        *,
        threads: int,
        max_errors: int | None,
        bar: RunProgress,
    ) -> None:
        from distributed import as_completed

        from lmbench.calls.tree import active_callbacks

        self.client = client
        self.rows = rows
        self.max_errors = max_errors
        self.bar = bar
        # task slots: the threads each worker runs tasks on; the rows in flight (``threads``)
        # are shared among them, so partitions on one worker overlap instead of waiting in line
        workers = client.scheduler_info(n_workers=-1).get("workers", {}).values()
        slots = max(1, sum(int(w.get("nthreads", 1)) for w in workers))
        self.per_task = max(1, math.ceil(threads / slots))
        self.queue: deque[Sequence[int]] = deque(partition(len(rows), slots, self.per_task))
        self.callbacks = active_callbacks()
        self.shares = Shares.in_force()
        self.lms: dict[str, Any] = {}  # the LMs of the payload, by spec (see ``events``)
        self.payload: Any = None
        self.in_flight: dict[Any, _Sent] = {}
        self.completed = as_completed(loop=client.loop)
        self.results: list[RowResult | None] = [None] * len(rows)
        self.errors = 0

    def start(self, task: RowTask) -> None:
        from lmbench.evaluate.executors.transport import pack_task

        self.payload = self.client.scatter(pack_task(task, self.lms), broadcast=True)
        self.send()

    def send(self) -> None:
        """Submit the waiting partitions the budgets can give a share to; raise when some wait
        and none can be sent and none is in flight to free budget."""
        while self.queue:
            share, held = None, None
            if self.shares is not None:
                taken = self.shares.take(len(self.queue), self.per_task)
                if taken is None:
                    break
                share, held = taken
            positions = self.queue.popleft()
            future = self.client.submit(
                run_partition,
                self.payload,
                [self.rows[i] for i in positions],
                positions,
                self.per_task,
                bool(self.callbacks),
                share,
                pure=False,
            )
            self.in_flight[future] = _Sent(positions, held)
            self.completed.add(future)
        if self.queue and not self.in_flight and self.shares is not None:
            raise self.shares.exhausted()

    def take(self, future: Any) -> BaseException | None:
        """Take a finished partition in; the error that stops the run, if any."""
        sent = self.in_flight.pop(future)
        try:
            shipped: Partition = future.result()
        except Exception as exc:  # the task itself failed (a worker died, unpickling...)
            if sent.held is not None:
                sent.held.release()
            return exc
        for result in shipped.results:
            self.results[result.position] = result
        entries = _gather_entries(shipped.entries)
        if self.callbacks:
            deliver(self.callbacks, shipped.events, entries, self.lms)
        failed = sum(1 for r in shipped.results if r.error is not None)
        self.errors += failed
        self.bar.advance(len(shipped.results), errors=failed)
        if self.shares is not None and sent.held is not None:
            self.shares.settle(sent.held, entries.values())  # raises when a limit was crossed
        if shipped.refused is not None and self.shares is not None:
            self.shares.refused(shipped.refused, progressed=bool(shipped.results))
            done = {r.position for r in shipped.results}
            self.queue.append([p for p in sent.positions if p not in done])
        if shipped.stopped is not None:
            return shipped.stopped
        if self.max_errors is not None and self.errors > self.max_errors:
            return RunsFailed(
                f"{self.errors} of {len(self.rows)} rows failed, more than "
                f"max_errors={self.max_errors}; the run stopped",
                errors=[],
            )
        self.send()
        return None

    def stop(self) -> None:
        """Cancel what is in flight and give back the budget shares it held."""
        self.client.cancel(list(self.in_flight))
        for sent in self.in_flight.values():
            if sent.held is not None:
                sent.held.release()
        self.in_flight.clear()


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
    run = _Run(resolve_client(executor), rows, threads=threads, max_errors=max_errors, bar=bar)
    stop: BaseException | None = None
    try:
        run.start(task)
        for future in run.completed:
            stop = run.take(future)
            if stop is not None:
                break
    except BaseException as exc:  # Ctrl-C, or a budget crossed or spent while gathering
        stop = exc
    finally:
        if stop is not None:
            run.stop()
    finished = [r for r in run.results if r is not None]
    if stop is not None:
        raise Stopped(stop, finished)
    return finished
