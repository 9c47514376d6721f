"""Code written once for sync and async: a generator of steps, run by ``drive`` or ``adrive``.

A piece of work that waits on something (a model, another adapter) is written as a generator
that yields *steps*, the points where it waits, and gets back each step's outcome (or has its
error raised at the ``yield``). A step is any object with ``run()`` and ``arun()``; the driver
decides which one is used, so the generator holds no ``await`` and serves both. Streaming
drivers (``lmbench.adapters.steps``, ``lmbench.calls.model_call``) build on ``Resume``.
Modules (``lmbench.modules.running``) also yield events between their steps, which the drivers
hand on (``events=``, ``on_event=``).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, Generic, TypeVar

__all__ = ["DONE", "Resume", "Steps", "adrive", "drive"]

T = TypeVar("T")

#: A generator of steps (and, in a stream, events) that returns a ``T``.
Steps = Generator[Any, Any, T]

#: What ``Resume.next`` returns once the generator has returned.
DONE: Any = object()


class Resume(Generic[T]):
    """Resumes a generator of steps: sends it the outcome of the last step, or raises in it the
    error that step ended with (never from inside an ``except`` block, so that error does not
    become the context of what the generator raises next)."""

    __slots__ = ("_steps", "error", "finished", "outcome", "result")

    def __init__(self, steps: Steps[T]) -> None:
        self._steps = steps
        self.outcome: Any = None
        self.error: BaseException | None = None
        self.result: T | None = None
        self.finished = False

    def next(self) -> Any:
        """The next step or event, or ``DONE`` once the generator has returned ``result``."""
        error = self.error
        try:
            if error is None:
                return self._steps.send(self.outcome)
            self.error = None
            return self._steps.throw(error)
        except StopIteration as done:
            self.result = done.value
            self.finished = True
            return DONE

    def close(self) -> None:
        """Stop the generator where it waits (its ``finally`` and ``except`` blocks run)."""
        self._steps.close()


def drive(
    steps: Steps[T],
    *,
    events: tuple[type, ...] = (),
    on_event: Callable[[Any], None] | None = None,
) -> T:
    """Run ``steps`` synchronously; return what it returns. Items of the ``events`` types are
    not steps: they go to ``on_event`` (when given) and the generator gets None back."""
    resume = Resume(steps)
    while (step := resume.next()) is not DONE:
        try:
            if events and isinstance(step, events):
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
    events: tuple[type, ...] = (),
    on_event: Callable[[Any], None] | None = None,
) -> T:
    """Run ``steps``, awaiting each step; return what it returns (events as in ``drive``)."""
    resume = Resume(steps)
    while (step := resume.next()) is not DONE:
        try:
            if events and isinstance(step, events):
                resume.outcome = None
                if on_event is not None:
                    on_event(step)
            else:
                resume.outcome = await step.arun()
        except BaseException as exc:
            resume.error = exc
    return resume.result  # type: ignore[return-value]
