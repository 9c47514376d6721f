"""Shared test set-up: an isolated cache folder and clean settings for every test, and the
provider fixtures (recorded exchanges replayed, a real HTTP server on loopback) that tests in
every package use."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

# Before lmbench is imported anywhere: keep the tests' disk cache out of the user's cache folder.
os.environ.setdefault("LMBENCH_CACHE_DIR", tempfile.mkdtemp(prefix="lmbench-test-cache-"))

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(os.environ.get("LMBENCH_FIXTURES") or REPO.parent / "shared" / "fixtures")

# The tests run with --import-mode=importlib, which leaves sys.path alone: make the shared
# test helpers (tests/support, and provider_faults and provider_replay beside the provider
# tests) importable by tests in every package.
sys.path[:0] = [str(REPO / "tests" / "support"), str(REPO / "tests" / "providers")]

if TYPE_CHECKING:
    from provider_faults import FaultServer
    from provider_replay import Replay

    from lmbench.lm.base import LM


@pytest.fixture(autouse=True)
def _clean_settings() -> Iterator[None]:
    """Each test starts from the environment's settings, whatever the last one configured."""
    from lmbench import settings

    saved = settings._global
    yield
    settings._global = saved


@pytest.fixture(autouse=True)
def _full_retry_budgets() -> None:
    """Each test's servers start with full retry budgets (a port may be used again)."""
    from lmbench.providers.retry_budget import reset_retry_budgets

    reset_retry_budgets()


@pytest.fixture(autouse=True)
def _no_parses_kept_from_other_tests() -> None:
    from lmbench.adapters.parse_memo import forget_parses

    forget_parses()


@pytest.fixture
def collector() -> Any:
    """A memory history of this test's calls, in force for the test."""
    from lmbench.observe import MemoryCollector
    from lmbench.settings import configure

    memory = MemoryCollector()
    configure(history=memory)
    return memory


@pytest.fixture
def response_cache(tmp_path: Path) -> Iterator[Any]:
    """A response cache of this test's own, in a temporary folder."""
    from lmbench.lm.cache import reset_cache

    cache = reset_cache(tmp_path / "cache")
    yield cache
    cache.close()


@pytest.fixture
def fixtures_dir() -> Path:
    if not FIXTURES.is_dir():
        pytest.skip(f"recorded provider exchanges not found at {FIXTURES} (../shared/fixtures)")
    return FIXTURES


@pytest.fixture
def cassette(fixtures_dir: Path) -> Callable[[str, str], Replay]:
    """``cassette("openai", "test_x")``: a ``Replay`` of ``providers/openai/cassettes/test_x.yaml``."""
    import yaml
    from provider_replay import Replay

    def load(provider: str, name: str) -> Replay:
        path = fixtures_dir / "providers" / provider / "cassettes" / f"{name}.yaml"
        return Replay(yaml.safe_load(path.read_text())["interactions"])

    return load


@pytest.fixture
def tool_call_without_id_replay(cassette: Callable[[str, str], Replay]) -> tuple[Replay, LM]:
    """The recorded Gemini exchange on the OpenAI-compatible API whose tool call came with no
    id (one tool, ``get_current_time``, answered "Noon"), and an LM that replays it."""
    replay = cassette("openai", "test_compatible_api_with_tool_calls_without_id")
    lm = replay.lm(
        "openai-compatible/gemini-2.5-pro-preview-05-06",
        base_url="https://generativelanguage.googleapis.com/v1beta/openai",
        api_key="test-key",
    )
    return replay, lm


@pytest.fixture
def server() -> Iterator[FaultServer]:
    """A real HTTP server on 127.0.0.1; script its answers with ``server.script(...)``."""
    from provider_faults import running_server

    with running_server() as faults:
        yield faults


@pytest.fixture(scope="module")
def sandbox() -> Iterator[object]:
    """One real Deno + Pyodide sandbox shared by the tests of a module whose state does not
    matter (each start takes 0.5-2 s); skipped, saying why, where it is not installed."""
    from lmbench.errors import SandboxUnavailable
    from lmbench.sandbox import Sandbox

    try:
        box = Sandbox(timeout=5, memory_mb=128, max_output=2000)
    except SandboxUnavailable as exc:
        pytest.skip(f"the code sandbox is not installed here ({exc})")
    box.start()
    yield box
    box.close()
