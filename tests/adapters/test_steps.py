"""Steps: adapter work written once as a generator, then driven synchronously or awaited."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest

from lmbench.adapters import AdapterResult, ChatAdapter, FallbackAdapter, FieldDelta, JSONAdapter
from lmbench.adapters.steps import Pull, Steps, adrive, adrive_stream, drive, drive_stream
from lmbench.calls import module_call
from lmbench.lm.scripted import ScriptedLM
from lmbench.signatures import Signature


class Invoke:
    """A step for these tests: ``run(*args)`` when driven synchronously, ``arun(*args)`` awaited."""

    def __init__(
        self, run: Callable[..., Any], arun: Callable[..., Awaitable[Any]], *args: Any
    ) -> None:
        self._run, self._arun, self._args = run, arun, args

    def run(self) -> Any:
        return self._run(*self._args)

    async def arun(self) -> Any:
        return await self._arun(*self._args)


def double(value: int) -> int:
    return 2 * value


async def adouble(value: int) -> int:
    return 2 * value


def refuse(value: int) -> int:
    raise ValueError(f"refused {value}")


async def arefuse(value: int) -> int:
    return refuse(value)


def doubled_sum(values: list[int]) -> Steps[int]:
    total = 0
    for value in values:
        total += yield Invoke(double, adouble, value)
    return total


def recovering(log: list[str]) -> Steps[int]:
    """Catches the error of its first step at the yield, then goes on."""
    try:
        yield Invoke(refuse, arefuse, 1)
    except ValueError as exc:
        log.append(str(exc))
    return (yield Invoke(double, adouble, 5))


def not_recovering(log: list[str]) -> Steps[int]:
    try:
        return (yield Invoke(refuse, arefuse, 2))
    finally:
        log.append("left")


def test_drive_sends_each_outcome_back_and_returns_the_result() -> None:
    assert drive(doubled_sum([1, 2, 3])) == 12


async def test_adrive_awaits_each_step() -> None:
    assert await adrive(doubled_sum([1, 2, 3])) == 12


def test_a_step_error_is_raised_at_its_yield() -> None:
    log: list[str] = []
    assert drive(recovering(log)) == 10
    assert log == ["refused 1"]


async def test_a_step_error_is_raised_at_its_yield_when_awaited() -> None:
    log: list[str] = []
    assert await adrive(recovering(log)) == 10
    assert log == ["refused 1"]


def test_an_uncaught_step_error_reaches_the_caller_after_the_generator_unwinds() -> None:
    log: list[str] = []
    with pytest.raises(ValueError, match="refused 2") as caught:
        drive(not_recovering(log))
    assert log == ["left"]
    assert caught.value.__context__ is None


def counted(values: list[int], log: list[str]) -> Steps[None]:
    """A stream: one delta per item pulled, then a result."""
    try:
        items = Pull(iter, _aiter, values)
        while (item := (yield items)) is not None:
            yield FieldDelta("n", str(item), str(item))
        yield AdapterResult([{"n": values[-1]}], "Counter")
    finally:
        log.append("closed")


async def _aiter(values: list[int]) -> AsyncIterator[int]:
    for value in values:
        yield value


def test_drive_stream_passes_events_on_and_performs_steps() -> None:
    log: list[str] = []
    events = list(drive_stream(counted([1, 2], log)))
    assert events[:2] == [FieldDelta("n", "1", "1"), FieldDelta("n", "2", "2")]
    assert isinstance(events[2], AdapterResult)
    assert log == ["closed"]


async def test_adrive_stream_gives_the_same_events() -> None:
    sync_events = list(drive_stream(counted([1, 2], [])))
    async_events = [event async for event in adrive_stream(counted([1, 2], []))]
    assert async_events == sync_events


def test_closing_a_stream_early_closes_the_generator() -> None:
    log: list[str] = []
    stream = drive_stream(counted([1, 2, 3], log))
    assert next(stream) == FieldDelta("n", "1", "1")
    stream.close()
    assert log == ["closed"]


async def test_closing_an_async_stream_early_closes_the_generator() -> None:
    log: list[str] = []
    stream = adrive_stream(counted([1, 2, 3], log))
    assert await anext(stream) == FieldDelta("n", "1", "1")
    await stream.aclose()
    assert log == ["closed"]


def test_pull_opens_on_first_use_and_ends_with_none() -> None:
    opened: list[tuple[int, ...]] = []

    def open_items(*args: int) -> Iterator[int]:
        opened.append(args)
        return iter(args)

    pull = Pull(open_items, _aiter, 7)
    assert opened == []
    assert [pull.run(), pull.run()] == [7, None]
    assert opened == [(7,)]


SIG = Signature("question -> answer: int")
ANSWER = "[[ ## answer ## ]]\n1234\n\n[[ ## completed ## ]]"


@pytest.mark.parametrize(
    "adapter", [ChatAdapter(), FallbackAdapter([ChatAdapter(), JSONAdapter()])], ids=repr
)
def test_an_adapter_stream_closed_early_still_ends_its_lm_call(adapter: ChatAdapter) -> None:
    with module_call("Predict", signature="test") as node:
        stream = adapter.stream(ScriptedLM([ANSWER], chunk_size=2), SIG, {"question": "?"})
        assert isinstance(next(stream), FieldDelta)
        stream.close()
    (call,) = node.lm_calls()
    assert call.ended is not None
    assert call.error is not None and call.error.startswith("GeneratorExit")
