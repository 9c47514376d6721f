"""The drivers of module bodies: sinks, sub-calls of plain callables, concurrent bodies."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from lmbench.modules.events import Notice
from lmbench.modules.running import (
    Final,
    Outcome,
    astream_events,
    concurrently,
    listening,
    report,
    run_async,
    run_sync,
    stream_events,
    sub_call,
)
from lmbench.steps import Steps


def shout(word: str) -> str:
    report(Notice("shout", "progress", f"shouting {word}"))
    return word.upper()


def test_a_plain_callable_streams_what_it_reports_from_its_thread() -> None:
    assert not listening()
    events = list(stream_events(shout, {"word": "hi"}))
    assert [e.text for e in events[:-1]] == ["shout · progress: shouting hi"]
    assert type(events[-1]) is Final and events[-1].value == "HI"

    async def collect() -> list[Any]:
        return [e async for e in astream_events(shout, {"word": "yo"})]

    events = asyncio.run(collect())
    assert events[-1].value == "YO" and len(events) == 2


def body_of(words: list[str], stop_at: str | None = None) -> Any:
    def body(streaming: bool) -> Steps[list[Any]]:
        bodies = [lambda s, w=w: sub_call(shout, {"word": w}, s) for w in words]

        def check(outcome: Outcome) -> bool:
            if outcome.error is not None:
                raise outcome.error
            return outcome.value == stop_at

        outcomes = yield from concurrently(bodies, workers=2, streaming=streaming, check=check)
        return [o.value if o is not None else None for o in outcomes]

    return body


def test_concurrent_bodies_keep_their_order_sync_and_async() -> None:
    assert run_sync(body_of(["a", "b", "c"])) == ["A", "B", "C"]
    assert asyncio.run(run_async(body_of(["a", "b", "c"]))) == ["A", "B", "C"]


def test_concurrent_bodies_pass_their_reports_on_in_a_stream() -> None:
    events = list(stream_events(_Probe(body_of(["a", "b"])), {}))
    texts = sorted(e.text for e in events if isinstance(e, Notice))
    assert texts == ["shout · progress: shouting a", "shout · progress: shouting b"]
    assert events[-1].value == ["A", "B"]


def test_an_error_a_check_raises_comes_out_of_the_driver() -> None:
    def boom(word: str) -> str:
        raise KeyError(word)

    def body(streaming: bool) -> Steps[Any]:
        def check(outcome: Outcome) -> bool:
            if outcome.error is not None:
                raise outcome.error
            return False

        bodies = [lambda s: sub_call(boom, {"word": "x"}, s)]
        return (yield from concurrently(bodies, workers=1, streaming=streaming, check=check))

    with pytest.raises(KeyError, match="x"):
        run_sync(body)


class _Probe:
    """An object whose ``_steps`` is a given body, as a module's would be."""

    def __init__(self, body: Any) -> None:
        self.body = body

    def _steps(self, inputs: dict[str, Any], streaming: bool) -> Steps[Any]:
        return self.body(streaming)
