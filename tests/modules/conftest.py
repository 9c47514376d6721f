"""Fixtures for module tests that talk to real provider code: recorded exchanges replayed
through the providers (``cassette``) and a real HTTP server on loopback (``server``)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

# The replay and server helpers live beside the provider tests.
sys.path.insert(0, str(Path(__file__).parent.parent / "providers"))

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
def server() -> Iterator[FaultServer]:
    """A real HTTP server on 127.0.0.1; script its answers with ``server.script(...)``."""
    with running_server() as faults:
        yield faults
