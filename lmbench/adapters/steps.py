"""Adapter logic written once for sync and async: a generator of steps, and four drivers.

``drive``/``adrive`` come from ``lmbench.steps``; the streaming drivers are here.

An adapter's work (format, call the LM, parse; try each adapter of a chain; stream the
fields) is a generator that yields *steps*, the points where it waits on an LM or on another
adapter, and gets back each step's outcome (or has its error raised at the ``yield``). A
step is any object with ``run()`` and ``arun()`` (an ``LMCall``, a ``Pull``);
the drivers decide which one is used, so the generator holds no ``await`` and serves both:

- ``drive`` / ``adrive`` return what the generator returns;
- ``drive_stream`` / ``adrive_stream`` also pass on the events it yields (``FieldDelta`` and
  ``AdapterResult``), and send nothing back for them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from lmbench.adapters.results import AdapterResult, FieldDelta
from lmbench.steps import DONE, Resume, Steps, adrive, drive

__all__ = [
    "Pull",
    "Steps",
    "adrive",
    "adrive_stream",
    "drive",
    "drive_stream",
]

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

    @property
    def opened(self) -> bool:
        return self._items is not None

    def close(self) -> None:
        """Stop the items' source where it waits (its ``finally`` blocks run now)."""
        close = getattr(self._items, "close", None)
        if close is not None:
            close()

    async def aclose(self) -> None:
        aclose = getattr(self._items, "aclose", None)
        if aclose is not None:
            await aclose()
        else:
            self.close()


# A stream whose consumer stops (closes it, or is cancelled while it waits) stops the work
# under way first, innermost first: every source it pulls from is closed at once, so the LM
# calls in them end (reservations released, HTTP responses closed, history recorded) before
# the steps around them do, and never later, when the garbage collector finds them.


def drive_stream(steps: Steps[Any], *, events: tuple[type, ...] = _EVENTS) -> Iterator[Any]:
    """Run ``steps`` synchronously, yielding its events (the items of the ``events`` types)."""
    resume = Resume(steps)
    pulls: list[Pull] = []
    try:
        while (item := resume.next()) is not DONE:
            if isinstance(item, events):
                try:
                    resume.outcome = yield item
                except BaseException as exc:  # the consumer stopped
                    for pull in reversed(pulls):
                        pull.close()
                    resume.error = exc
                continue
            try:
                if type(item) is Pull and not item.opened:
                    pulls.append(item)
                resume.outcome = item.run()
            except BaseException as exc:
                resume.error = exc
    finally:
        for pull in reversed(pulls):
            pull.close()


async def adrive_stream(
    steps: Steps[Any], *, events: tuple[type, ...] = _EVENTS
) -> AsyncIterator[Any]:
    """Run ``steps``, awaiting each step and yielding its events."""
    resume = Resume(steps)
    pulls: list[Pull] = []
    try:
        while (item := resume.next()) is not DONE:
            if isinstance(item, events):
                try:
                    resume.outcome = yield item
                except BaseException as exc:  # the consumer stopped
                    for pull in reversed(pulls):
                        await pull.aclose()
                    resume.error = exc
                continue
            try:
                if type(item) is Pull and not item.opened:
                    pulls.append(item)
                resume.outcome = await item.arun()
            except BaseException as exc:
                resume.error = exc
    finally:
        for pull in reversed(pulls):
            await pull.aclose()
