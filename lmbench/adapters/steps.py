"""Adapter logic written once for sync and async: a generator of steps, and four drivers.

An adapter's work (format, call the LM, parse; try each adapter of a chain; stream the
fields) is a generator that yields *steps*, the points where it waits on an LM or on another
adapter, and gets back each step's outcome (or has its error raised at the ``yield``). A
step is any object with ``run()`` and ``arun()`` (an ``LMCall``, a ``Pull``);
the drivers decide which one is used, so the generator holds no ``await`` and serves both:

- ``drive`` / ``adrive`` return what the generator returns;
- ``drive_stream`` / ``adrive_stream`` also pass on the events it yields (``FieldDelta`` and
  ``AdapterResult``), and send nothing back for them.

Modules drive their own generators with these drivers too, naming their event types
(``events=``); ``drive`` and ``adrive`` then hand each event to ``on_event`` (or drop it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Generator, Iterator
from typing import Any, Generic, TypeVar

from lmbench.adapters.results import AdapterResult, FieldDelta

__all__ = [
    "Pull",
    "Steps",
    "adrive",
    "adrive_stream",
    "drive",
    "drive_stream",
]

T = TypeVar("T")

#: A generator of steps (and, in a stream, events) that returns a ``T``.
Steps = Generator[Any, Any, T]

_EVENTS = (FieldDelta, AdapterResult)


class Pull:
    """A step: the next item of ``opener(*args)`` (or of the async ``aopener(*args)``), opened
    on first use; None once it is exhausted."""

    __slots__ = ("_aopen", "_args", "_items", "_open")

    def __init__(
        self,
        opener: Callable[..., Iterator[Any]],
        aopener: Callable[..., AsyncIterator[Any]],
        *args: Any,
    ) -> None:
        self._open, self._aopen, self._args = opener, aopener, args
        self._items: Any = None

    def run(self) -> Any:
        if self._items is None:
            self._items = self._open(*self._args)
        return next(self._items, None)

    async def arun(self) -> Any:
        if self._items is None:
            self._items = self._aopen(*self._args)
        return await anext(self._items, None)


_DONE: Any = object()


class _Resume(Generic[T]):
    """Resumes a generator of steps: sends it the outcome of the last step, or raises in it the
    error that step ended with (never from inside an ``except`` block, so that error does not
    become the context of what the generator raises next)."""

    __slots__ = ("_steps", "error", "outcome", "result")

    def __init__(self, steps: Steps[T]) -> None:
        self._steps = steps
        self.outcome: Any = None
        self.error: BaseException | None = None
        self.result: T | None = None

    def next(self) -> Any:
        """The next step or event, or ``_DONE`` once the generator has returned ``result``."""
        error = self.error
        try:
            if error is None:
                return self._steps.send(self.outcome)
            self.error = None
            return self._steps.throw(error)
        except StopIteration as done:
            self.result = done.value
            return _DONE


def drive(
    steps: Steps[T],
    *,
    events: tuple[type, ...] = _EVENTS,
    on_event: Callable[[Any], None] | None = None,
) -> T:
    """Run ``steps`` synchronously; return what it returns. Items of the ``events`` types go
    to ``on_event`` (when given) instead of being run."""
    resume = _Resume(steps)
    while (step := resume.next()) is not _DONE:
        try:
            if isinstance(step, events):
                resume.outcome = None
                if on_event is not None:
                    on_event(step)
            else:
                resume.outcome = step.run()
        except BaseException as exc:
            resume.error = exc
    return resume.result  # type: ignore[return-value]


async def adrive(
    steps: Steps[T],
    *,
    events: tuple[type, ...] = _EVENTS,
    on_event: Callable[[Any], None] | None = None,
) -> T:
    """Run ``steps``, awaiting each step; return what it returns (events as in ``drive``)."""
    resume = _Resume(steps)
    while (step := resume.next()) is not _DONE:
        try:
            if isinstance(step, events):
                resume.outcome = None
                if on_event is not None:
                    on_event(step)
            else:
                resume.outcome = await step.arun()
        except BaseException as exc:
            resume.error = exc
    return resume.result  # type: ignore[return-value]


def drive_stream(steps: Steps[Any], *, events: tuple[type, ...] = _EVENTS) -> Iterator[Any]:
    """Run ``steps`` synchronously, yielding its events (items of the ``events`` types)."""
    resume = _Resume(steps)
    while (item := resume.next()) is not _DONE:
        try:
            resume.outcome = (yield item) if isinstance(item, events) else item.run()
        except BaseException as exc:
            resume.error = exc


async def adrive_stream(
    steps: Steps[Any], *, events: tuple[type, ...] = _EVENTS
) -> AsyncIterator[Any]:
    """Run ``steps``, awaiting each step and yielding its events."""
    resume = _Resume(steps)
    while (item := resume.next()) is not _DONE:
        try:
            resume.outcome = (yield item) if isinstance(item, events) else await item.arun()
        except BaseException as exc:
            resume.error = exc
