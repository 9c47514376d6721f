"""Evaluation tests: each test gets its own memory history and cache folder."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # model_server, evaluate_helpers

from lmbench.lm.cache import ResponseCache, reset_cache
from lmbench.observe import MemoryCollector
from lmbench.settings import configure


@pytest.fixture(autouse=True)
def collector() -> MemoryCollector:
    memory = MemoryCollector()
    configure(history=memory)
    return memory


@pytest.fixture(autouse=True)
def response_cache(tmp_path: Path) -> Iterator[ResponseCache]:
    cache = reset_cache(tmp_path / "cache")
    yield cache
    cache.close()
