"""Fixtures for provider tests (``cassette`` and ``server`` are in ``tests/conftest.py``)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
from provider_replay import Replay

from lmbench.lm.cache import reset_cache
from lmbench.observe.collectors import CompositeCollector, MemoryCollector
from lmbench.observe.jsonl import JSONLCollector
from lmbench.observe.sqlite import SQLiteCollector


@pytest.fixture
def sse_fixture(fixtures_dir: Path) -> Callable[[str], Replay]:
    """``sse_fixture("basic_response")``: a ``Replay`` answering with a raw Anthropic SSE file."""

    def load(name: str) -> Replay:
        text = (fixtures_dir / "providers" / "anthropic" / "sse" / f"{name}.sse").read_text()
        response = {
            "status": {"code": 200},
            "headers": {"content-type": ["text/event-stream; charset=utf-8"]},
            "body": {"string": text},
        }
        return Replay([{"request": {}, "response": response}])

    return load


class Records(NamedTuple):
    """Where a call's traces go: ``memory`` and ``history`` (memory, ``h.jsonl`` and ``h.db``
    in ``folder``, with the response cache in ``folder / "cache"``), and the captured logs."""

    memory: MemoryCollector
    history: CompositeCollector
    folder: Path
    logs: pytest.LogCaptureFixture


@pytest.fixture
def every_record(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> Iterator[Records]:
    """Every place a call leaves a trace, for the tests that a value never reaches one: a
    memory history and the history that also writes ``h.jsonl`` and ``h.db`` in ``tmp_path``,
    a response cache in ``tmp_path / "cache"``, and logs captured down to DEBUG."""
    caplog.set_level(logging.DEBUG)
    reset_cache(tmp_path / "cache")
    memory = MemoryCollector()
    files = [JSONLCollector(tmp_path / "h.jsonl"), SQLiteCollector(tmp_path / "h.db")]
    try:
        yield Records(memory, CompositeCollector([memory, *files]), tmp_path, caplog)
    finally:
        reset_cache(None)
