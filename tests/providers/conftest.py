"""Fixtures for provider tests: recorded exchanges to replay, and a fault-injecting server."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

# The tests run with --import-mode=importlib, which leaves sys.path alone: make the helper
# modules beside this file (provider_faults, provider_replay) importable by the tests.
sys.path.insert(0, str(Path(__file__).parent))

from provider_faults import FaultServer, running_server
from provider_replay import Replay


@pytest.fixture
def cassette(fixtures_dir: Path) -> Callable[[str, str], Replay]:
    """``cassette("openai", "test_x")``: a ``Replay`` of ``providers/openai/cassettes/test_x.yaml``."""

    def load(provider: str, name: str) -> Replay:
        path = fixtures_dir / "providers" / provider / "cassettes" / f"{name}.yaml"
        return Replay(yaml.safe_load(path.read_text())["interactions"])

    return load


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


@pytest.fixture
def server() -> Iterator[FaultServer]:
    """A real HTTP server on 127.0.0.1; script its answers with ``server.script(...)``."""
    with running_server() as faults:
        yield faults
