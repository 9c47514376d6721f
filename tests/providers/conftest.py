"""Fixtures for provider tests (``cassette`` and ``server`` are in ``tests/conftest.py``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from provider_replay import Replay


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
