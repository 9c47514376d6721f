"""``streamify``: stream any program, including your own modules with a plain ``forward``.

::

    class Summarise(lmbench.Module):
        def __init__(self):
            self.outline = lmbench.ChainOfThought("text -> outline")
            self.write = lmbench.Predict("outline -> summary")

        def forward(self, text):
            return self.write(outline=self.outline(text=text).outline)

    stream = lmbench.streamify(Summarise())
    for event in stream(text=article):
        ...  # FieldDelta and status events of both predictors, then the Prediction
    async for event in stream.astream(text=article):
        ...

The ``forward`` runs in a worker thread (its async form, ``aforward``, as a task); every
module it calls passes its events to the stream as they happen. Built-in modules stream
their own body without a thread. A plain function that calls modules works as well.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from lmbench.errors import ConfigError
from lmbench.modules.running import Final, astream_events, stream_events

__all__ = ["Streamed", "streamify"]


class Streamed:
    """A program whose calls stream: ``streamed(**inputs)`` yields events, then the result."""

    def __init__(self, program: Callable[..., Any]) -> None:
        if not callable(program):
            raise ConfigError(
                f"streamify needs a module or a function, got {program!r} ({type(program).__name__})"
            )
        self.program = program

    def __call__(self, **inputs: Any) -> Iterator[Any]:
        with contextlib.closing(stream_events(self.program, inputs)) as events:
            for item in events:
                yield item.value if type(item) is Final else item

    async def astream(self, **inputs: Any) -> AsyncIterator[Any]:
        async with contextlib.aclosing(astream_events(self.program, inputs)) as events:
            async for item in events:
                yield item.value if type(item) is Final else item

    def __repr__(self) -> str:
        return f"streamify({self.program!r})"


def streamify(program: Callable[..., Any]) -> Streamed:
    """``program`` (a module or a function calling modules) made to stream; see above."""
    return Streamed(program)
