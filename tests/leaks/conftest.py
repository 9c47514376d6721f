"""Red-team tests: API keys set through every route, searched for in everything produced."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from leak_scan import Artifacts, Traces

from lmbench.lm.cache import reset_cache
from lmbench.observe.collectors import CompositeCollector, MemoryCollector
from lmbench.observe.jsonl import JSONLCollector
from lmbench.observe.sqlite import SQLiteCollector


@pytest.fixture
def traces(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> Iterator[Traces]:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "lmbench"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    reset_cache(tmp_path / "cache")
    memory = MemoryCollector()
    files = [JSONLCollector(tmp_path / "h.jsonl"), SQLiteCollector(tmp_path / "h.db")]
    try:
        yield Traces(memory, CompositeCollector([memory, *files]), tmp_path, caplog, Artifacts())
    finally:
        for name in ("httpx", "httpcore", "lmbench"):
            logging.getLogger(name).setLevel(logging.NOTSET)
        reset_cache(None)
