"""Code written once for sync and async: a generator of steps, run by ``drive`` or ``adrive``.

A piece of work that waits on something (a model, another adapter) is written as a generator
that yields *steps*, the points where it waits, and gets back each step's outcome (or has its
error raised at the ``yield``). A step is any object with ``run()`` and ``arun()``; the driver
decides which one is used, so the generator holds no ``await`` and serves both. Streaming
drivers (``lmbench.adapters.steps``, ``lmbench.calls.model_call``) build on ``Resume``.
"""

from __future__ import annotations

from collections.abc import Generator
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


def drive(steps: Steps[T]) -> T:
    """Run ``steps`` synchronously; return what it returns."""
    resume = Resume(steps)
    while (step := resume.next()) is not DONE:
        try:
            resume.outcome = step.run()
        except BaseException as exc:
            resume.error = exc
    return resume.result  # type: ignore[return-value]


async def adrive(steps: Steps[T]) -> T:
    """Run ``steps``, awaiting each step; return what it returns."""
    resume = Resume(steps)
    while (step := resume.next()) is not DONE:
        try:
            resume.outcome = await step.arun()
        except BaseException as exc:
            resume.error = exc
    return resume.result  # type: ignore[return-value]
