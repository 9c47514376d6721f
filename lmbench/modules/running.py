"""How modules run: one generator body, driven as a call, an await, and a stream.

A module's work is ``Module._steps(inputs, streaming)``: a generator (the pattern of
``lmbench.steps``) that yields *steps* where it waits (an LM call, a tool, a
sub-module) and *events* (``FieldDelta``, status events from ``lmbench.modules.events``), and
returns the module's result. ``Module.__call__``, ``acall``, ``stream`` and ``astream`` drive
that one body four ways. ``streaming`` tells the body whether anyone listens for events; when
nobody does, it makes plain (not streamed) LM calls and skips building events.

Events reach a listener two ways. A body yields them, and the driver passes them on: to the
consumer of ``stream``/``astream``, or to the *sink* of the stream in progress around a plain
call (a module called from inside a streamed ``forward``, a worker thread of ``Parallel``).
Code outside a body calls ``report(event)``, which goes to that sink.

Helpers for bodies: ``sub_call`` (call another module; in a stream, pass its events on),
``concurrently`` (several bodies at once, on threads or tasks), ``Call`` (a step made of a
sync and an async function).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import queue
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from lmbench.adapters.results import FieldDelta
from lmbench.adapters.steps import Pull, adrive_stream, drive_stream
from lmbench.calls.tree import current_node
from lmbench.modules.events import StatusEvent
from lmbench.steps import Steps, adrive, drive

__all__ = [
    "EVENTS",
    "Call",
    "Final",
    "Outcome",
    "astream_events",
    "concurrently",
    "listening",
    "relay",
    "report",
    "run_async",
    "run_sync",
    "stream_events",
    "sub_call",
    "task_events",
    "thread_events",
]

Sink = Callable[[Any], None]

_sink: ContextVar[Sink | None] = ContextVar("lmbench_event_sink", default=None)


class Final:
    """The last item of an event source: the result of the work."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class _Failed:
    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


#: The items a module body yields that are not steps.
EVENTS: tuple[type, ...] = (FieldDelta, StatusEvent, Final)


def report(event: Any) -> None:
    """Hand ``event`` to the stream in progress around this code, if any (else nothing)."""
    sink = _sink.get()
    if sink is not None:
        sink(event)


def listening() -> bool:
    """Whether a stream in progress around this code takes events."""
    return _sink.get() is not None


class Call:
    """A step: ``fn(**kwargs)``, or ``await afn(**kwargs)`` when driven asynchronously."""

    __slots__ = ("_afn", "_fn", "_kwargs")

    def __init__(
        self, fn: Callable[..., Any], afn: Callable[..., Awaitable[Any]], kwargs: dict[str, Any]
    ) -> None:
        self._fn, self._afn, self._kwargs = fn, afn, kwargs

    def run(self) -> Any:
        return self._fn(**self._kwargs)

    async def arun(self) -> Any:
        return await self._afn(**self._kwargs)


# -- driving a body ------------------------------------------------------------------------------

Body = Callable[[bool], Steps[Any]]


def run_sync(body: Body) -> Any:
    """``body`` run to its result; its events go to the sink around, if any."""
    sink = _sink.get()
    return drive(body(sink is not None), events=EVENTS, on_event=sink)


async def run_async(body: Body) -> Any:
    sink = _sink.get()
    return await adrive(body(sink is not None), events=EVENTS, on_event=sink)


def _ending(steps: Steps[Any]) -> Steps[None]:
    result = yield from steps
    yield Final(result)


def stream_events(target: Any, inputs: dict[str, Any]) -> Iterator[Any]:
    """The events of calling ``target(**inputs)``, then ``Final(result)``.

    A module's body is driven here; any other callable runs in a worker thread, the events
    it reports passed on as they come.
    """
    steps = getattr(target, "_steps", None)
    if steps is None:
        return thread_events(functools.partial(target, **inputs))
    return _own(drive_stream(_ending(steps(inputs, True)), events=EVENTS))


def astream_events(target: Any, inputs: dict[str, Any]) -> AsyncIterator[Any]:
    """``stream_events`` for async code (other callables run in a task, or a worker thread)."""
    steps = getattr(target, "_steps", None)
    if steps is None:
        return task_events(functools.partial(_acall, target, **inputs))
    return _aown(adrive_stream(_ending(steps(inputs, True)), events=EVENTS))


_END: Any = object()


# A stream's body runs in its consumer's context, but keeps that context to itself: while
# the body runs, no sink is in force (a stream opened inside another stream's work, such as
# ``inner.stream()`` in a streamed ``forward``, keeps its events to itself) and the call-tree
# node is the body's own; between items the consumer has its own node back. So a consumer
# that stops reading, or abandons the stream, never finds its later calls filed under it.
# Closing the stream closes the body inside its own context too.


class _StreamContext:
    """``with`` it around each step of a stream's body: no sink, and the body's own node (the
    one it left the last time), put back as they were afterwards."""

    __slots__ = ("_tokens", "node")

    def __init__(self) -> None:
        self.node = current_node.get()

    def __enter__(self) -> None:
        self._tokens = (_sink.set(None), current_node.set(self.node))

    def __exit__(self, *exc_info: object) -> None:
        sink_token, node_token = self._tokens
        self.node = current_node.get()
        current_node.reset(node_token)
        _sink.reset(sink_token)


def _own(events: Iterator[Any]) -> Iterator[Any]:
    """``events``, each advanced in the stream's own context (see above)."""
    context = _StreamContext()
    item: Any = None
    try:
        while item is not _END:
            with context:
                item = next(events, _END)
            if item is not _END:
                yield item
    finally:
        with context:
            events.close()  # type: ignore[attr-defined]


async def _aown(events: AsyncIterator[Any]) -> AsyncIterator[Any]:
    """``_own`` for async streams."""
    context = _StreamContext()
    item: Any = None
    try:
        while item is not _END:
            with context:
                item = await anext(events, _END)
            if item is not _END:
                yield item
    finally:
        with context:
            await events.aclose()  # type: ignore[attr-defined]


async def _acall(target: Any, **inputs: Any) -> Any:
    acall = getattr(target, "acall", None)
    if acall is not None:
        return await acall(**inputs)
    return await asyncio.to_thread(contextvars.copy_context().run, target, **inputs)


def thread_events(work: Callable[[], Any]) -> Iterator[Any]:
    """Events reported while ``work()`` runs in a worker thread (in a copy of this context),
    then ``Final`` of its result; its error is raised here. Abandoning the iterator lets the
    work finish unobserved."""
    items: queue.SimpleQueue[Any] = queue.SimpleQueue()

    def run() -> None:
        _sink.set(items.put)
        try:
            items.put(Final(work()))
        except BaseException as exc:
            items.put(_Failed(exc))

    context = contextvars.copy_context()
    threading.Thread(target=context.run, args=(run,), daemon=True, name="lmbench-stream").start()
    while True:
        item = items.get()
        if type(item) is _Failed:
            raise item.error
        yield item
        if type(item) is Final:
            return


async def task_events(work: Callable[[], Awaitable[Any]]) -> AsyncIterator[Any]:
    """``thread_events`` for a coroutine: it runs as a task; events may come from any thread."""
    loop = asyncio.get_running_loop()
    items: asyncio.Queue[Any] = asyncio.Queue()

    def put(item: Any) -> None:
        loop.call_soon_threadsafe(items.put_nowait, item)

    async def run() -> None:
        _sink.set(put)
        try:
            put(Final(await work()))
        except BaseException as exc:
            put(_Failed(exc))

    task = asyncio.ensure_future(run())
    try:
        while True:
            item = await items.get()
            if type(item) is _Failed:
                raise item.error
            yield item
            if type(item) is Final:
                return
    finally:
        if not task.done():
            task.cancel()


# -- inside a body -------------------------------------------------------------------------------


def relay(source: Pull) -> Steps[Any]:
    """Pass on the events of an event source until its ``Final``; return that value."""
    while type(item := (yield source)) is not Final:
        yield item
    return item.value


def sub_call(target: Any, inputs: dict[str, Any], streaming: bool) -> Steps[Any]:
    """Call a module (or any callable) from a body: ``result = yield from sub_call(...)``.

    A module's body runs inside this one (its steps and events pass through); anything else
    is a plain call (or an await of its ``acall``), or in a stream runs as ``stream_events``
    does, its events passed on as they come.
    """
    if _runs_its_steps(target):
        return (yield from target._steps(inputs.copy(), streaming))
    if streaming:
        return (yield from relay(Pull(stream_events, astream_events, target, inputs)))
    return (yield Call(target, functools.partial(_acall, target), inputs))


def _runs_its_steps(target: Any) -> bool:
    """Whether calling ``target`` is driving its ``_steps`` (a module that keeps
    ``Module.__call__``; one with its own ``__call__`` is called as it asks)."""
    return type(target).__call__ is _module_call()


@functools.cache
def _module_call() -> Any:
    from lmbench.modules.base import Module  # base imports this module

    return Module.__call__


@dataclass(frozen=True)
class Outcome:
    """How one of several concurrent bodies ended: its index, and its result or error."""

    index: int
    value: Any = None
    error: BaseException | None = None


#: Told each outcome as it arrives; True stops the others (the ones not yet started are
#: cancelled; on threads the running ones finish and are kept, as tasks they are cancelled);
#: an error it raises is raised after the running ones end.
Check = Callable[[Outcome], bool]


def _stops(outcome: Outcome, check: Check) -> bool:
    if outcome.error is not None and not isinstance(outcome.error, Exception):
        raise outcome.error  # KeyboardInterrupt, SystemExit: not an outcome to weigh
    return check(outcome)


class _Gathering:
    """The outcomes of ``count`` concurrent bodies, kept in order as they arrive among the
    bodies' events; ``open`` until every body has ended or ``check`` stops the rest."""

    def __init__(self, count: int, check: Check) -> None:
        self.outcomes: list[Outcome | None] = [None] * count
        self.open = count > 0
        self._remaining = count
        self._check = check

    def takes(self, item: Any) -> bool:
        """Whether ``item`` is an outcome (kept here) rather than an event to pass on."""
        if type(item) is not Outcome:
            return False
        self._remaining -= 1
        self.outcomes[item.index] = item
        if _stops(item, self._check) or not self._remaining:
            self.open = False
        return True


def concurrently(
    bodies: Sequence[Body], *, workers: int, streaming: bool, check: Check
) -> Steps[list[Outcome | None]]:
    """Run ``bodies`` at once (threads when driven synchronously, tasks when awaited), at
    most ``workers`` at a time; return their outcomes in order (None for those stopped).
    Each runs in a copy of this context; in a stream their events are passed on as they come."""
    return (yield from relay(Pull(_threads, _tasks, bodies, workers, streaming, check)))


def _threads(bodies: Sequence[Body], workers: int, streaming: bool, check: Check) -> Iterator[Any]:
    items: queue.SimpleQueue[Any] = queue.SimpleQueue()
    gathering = _Gathering(len(bodies), check)

    def run(index: int, body: Body) -> None:
        sink = items.put if streaming else None
        _sink.set(sink)
        try:
            items.put(Outcome(index, drive(body(streaming), events=EVENTS, on_event=sink)))
        except BaseException as exc:
            items.put(Outcome(index, error=exc))

    pool = ThreadPoolExecutor(max_workers=max(1, min(workers, len(bodies))))
    try:
        for index, body in enumerate(bodies):
            pool.submit(contextvars.copy_context().run, run, index, body)
        while gathering.open:
            item = items.get()
            if not gathering.takes(item):
                yield item
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    while not items.empty():  # bodies that were running when the check stopped the rest
        item = items.get_nowait()
        if type(item) is Outcome:
            gathering.outcomes[item.index] = item
    yield Final(gathering.outcomes)


async def _tasks(
    bodies: Sequence[Body], workers: int, streaming: bool, check: Check
) -> AsyncIterator[Any]:
    loop = asyncio.get_running_loop()
    items: asyncio.Queue[Any] = asyncio.Queue()
    gathering = _Gathering(len(bodies), check)
    slots = asyncio.Semaphore(max(1, workers))

    def put(item: Any) -> None:
        loop.call_soon_threadsafe(items.put_nowait, item)

    async def run(index: int, body: Body) -> None:
        async with slots:
            sink = put if streaming else None
            _sink.set(sink)
            try:
                value = await adrive(body(streaming), events=EVENTS, on_event=sink)
            except asyncio.CancelledError:
                raise
            except BaseException as exc:
                put(Outcome(index, error=exc))
            else:
                put(Outcome(index, value))

    tasks = [asyncio.ensure_future(run(index, body)) for index, body in enumerate(bodies)]
    try:
        while gathering.open:
            item = await items.get()
            if not gathering.takes(item):
                yield item
    finally:
        for task in tasks:
            task.cancel()
    yield Final(gathering.outcomes)
